# file_tests.cmake -- the one rule for registering a test file of a shared
# test executable with CTest (tests/CMakeLists.txt).
#
# authstore_add_file_test(<name> <exe> [FILE <stem>])
#   CTest entry <name> runs, in the source tree, only the cases of test file
#   <stem>.cpp (default: <name>.cpp) compiled into <exe>: Catch2 tags every case with its file
#   name (--filenames-as-tags: "[#codec_test]"), hidden cases ("[.]") stay
#   hidden, and --warn NoTests fails an entry whose filter matches nothing
#   (a renamed file cannot pass by running nothing). The caller sets the
#   entry's labels and environment.
function(authstore_add_file_test name exe)
  cmake_parse_arguments(arg "" "FILE" "" ${ARGN})
  if(NOT arg_FILE)
    set(arg_FILE ${name})
  endif()
  add_test(NAME ${name}
           COMMAND ${exe} --filenames-as-tags --warn NoTests "[#${arg_FILE}]~[.]"
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endfunction()
