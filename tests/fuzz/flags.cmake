# Included by the top CMakeLists.txt under -DWH_FUZZ=ON, before any module:
# every module gets libFuzzer's coverage instrumentation, and the sanitizer
# build (WH_SANITIZE) is switched on, so a harness finds memory errors and
# undefined behaviour where they happen, not only crashes.
if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "WH_FUZZ needs clang (libFuzzer): configure with CC=clang")
endif()
set(WH_SANITIZE ON)
add_compile_options(-fsanitize=fuzzer-no-link)
# -Werror is kept for gcc (the release and ASan builds); clang warns about
# other things (vprintf wrappers under -Wformat=2) that are not this tree's
# business: it reports them without failing.
add_compile_options(-Wno-error)
