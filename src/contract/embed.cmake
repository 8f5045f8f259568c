# cmake -DIN=shim.py -DOUT=python_shim.c [-DNAME=wh_python_shim] -P embed.cmake
# Writes the file as a C string: const char NAME[] and its length, NAME_len.
if(NOT NAME)
  set(NAME wh_python_shim)
endif()
get_filename_component(file ${IN} NAME)
file(READ ${IN} text)
string(REPLACE "\\" "\\\\" text "${text}")
string(REPLACE "\"" "\\\"" text "${text}")
string(REPLACE "\n" "\\n\"\n    \"" text "${text}")
file(WRITE ${OUT} "/* Generated from runtimes/python/${file} by src/contract/embed.cmake. */\n"
                  "#include <stddef.h>\n"
                  "const char ${NAME}[] =\n    \"${text}\";\n"
                  "const size_t ${NAME}_len = sizeof(${NAME}) - 1;\n")
