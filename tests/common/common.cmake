# common/: the BPF command line and the preprocessor scanner (issue 9).
#
#   common_bpf_cmdline   every call site's shape, and the architecture rule
#   common_ppscan        fixed cases: splices, comments, literals, header names, blanks
#   common_ppscan_fuzz   generated sources: the same #defines (line, column) and #includes
#                        as clang -E says (clang 14: no raw strings in C; clang 19: raw
#                        strings in the gnu modes, probed by the test)
#   common_ppscan_fuzz_clang19   the same against clang-19, when it is installed

find_program(COMMON_CLANG clang REQUIRED)
find_program(COMMON_CLANG19 clang-19)

add_executable(test_common ${CMAKE_CURRENT_LIST_DIR}/test_common.c)
target_link_libraries(test_common PRIVATE vmslim_common)
set_target_properties(test_common PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})

add_test(NAME common_bpf_cmdline COMMAND test_common cmdline)
add_test(NAME common_ppscan COMMAND test_common ppscan)
add_test(NAME common_ppscan_fuzz
  COMMAND test_common fuzz ${COMMON_CLANG} ${CMAKE_CURRENT_BINARY_DIR}/common_fuzz 40 75)
set(common_tests common_bpf_cmdline common_ppscan common_ppscan_fuzz)
if(COMMON_CLANG19)
  add_test(NAME common_ppscan_fuzz_clang19
    COMMAND test_common fuzz ${COMMON_CLANG19} ${CMAKE_CURRENT_BINARY_DIR}/common_fuzz19 40 75)
  list(APPEND common_tests common_ppscan_fuzz_clang19)
endif()
set_tests_properties(${common_tests} PROPERTIES LABELS common TIMEOUT 120)

# common/sandbox.h, the OS layer alone (issue 10): clang under Landlock, a mount namespace
# and both, with the include scan bypassed; skipped (77) where the probe finds a mechanism
# missing. tests/common/test_sandbox.c lists the cases.
#   sandbox_landlock, sandbox_mountns, sandbox_both          clang
#   sandbox_landlock_clang19, ... (when clang-19 is installed)
add_executable(test_sandbox ${CMAKE_CURRENT_LIST_DIR}/test_sandbox.c)
target_link_libraries(test_sandbox PRIVATE vmslim_common)
set_target_properties(test_sandbox PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
set(sandbox_tests)
foreach(mech landlock mountns both)
  add_test(NAME sandbox_${mech}
    COMMAND test_sandbox ${mech} ${COMMON_CLANG} ${CMAKE_CURRENT_BINARY_DIR}/sandbox_${mech})
  list(APPEND sandbox_tests sandbox_${mech})
  if(COMMON_CLANG19)
    add_test(NAME sandbox_${mech}_clang19
      COMMAND test_sandbox ${mech} ${COMMON_CLANG19} ${CMAKE_CURRENT_BINARY_DIR}/sandbox19_${mech})
    list(APPEND sandbox_tests sandbox_${mech}_clang19)
  endif()
endforeach()
set_tests_properties(${sandbox_tests} PROPERTIES LABELS common TIMEOUT 120 SKIP_RETURN_CODE 77)

# common_compdb: compile_commands.json / compile_flags.txt as clangd finds them (issue 15)
add_executable(test_compdb ${CMAKE_CURRENT_LIST_DIR}/test_compdb.c)
target_link_libraries(test_compdb PRIVATE vmslim_common)
set_target_properties(test_compdb PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test(NAME common_compdb COMMAND test_compdb ${CMAKE_CURRENT_BINARY_DIR}/compdb)
