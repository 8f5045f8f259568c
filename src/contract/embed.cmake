# cmake -DIN=shim.py -DOUT=python_shim.c -P embed.cmake
# Writes the file as a C string: const char wh_python_shim[] and its length.
file(READ ${IN} text)
string(REPLACE "\\" "\\\\" text "${text}")
string(REPLACE "\"" "\\\"" text "${text}")
string(REPLACE "\n" "\\n\"\n    \"" text "${text}")
file(WRITE ${OUT} "/* Generated from runtimes/python/shim.py by src/contract/embed.cmake. */\n"
                  "#include <stddef.h>\n"
                  "const char wh_python_shim[] =\n    \"${text}\";\n"
                  "const size_t wh_python_shim_len = sizeof(wh_python_shim) - 1;\n")
