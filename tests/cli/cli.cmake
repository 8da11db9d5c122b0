# Every subcommand answers --help on stdout with exit 0, and an unknown option with exit 2.
foreach(cmd extract verify objdiff pch build cc check serve client lsp bench cache core wasm)
  add_test(NAME cli_help_${cmd}
    COMMAND sh -c "${VMSLIM_BIN} ${cmd} --help > help_${cmd}.out && grep -qi usage help_${cmd}.out"
    WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
endforeach()
add_test(NAME cli_unknown_command COMMAND ${VMSLIM_BIN} no-such-command)
set_tests_properties(cli_unknown_command PROPERTIES WILL_FAIL TRUE)
add_test(NAME cli_help_lists_commands
  COMMAND sh -c "${VMSLIM_BIN} help | grep -q extract && ${VMSLIM_BIN} help check | grep -qi usage")
# -V/--version on every command, one-line errors with a hint for bad flags (issue 15)
add_test(NAME cli_conventions COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/conventions.sh ${VMSLIM_BIN})
# cmake --install: vmslim(1) renders and covers every option, bash completion works (issue 15)
add_test(NAME cli_install
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/install.sh ${CMAKE_BINARY_DIR} ${CMAKE_CURRENT_BINARY_DIR}/install)
# cpack -G DEB: a package that installs and runs (issue 15)
add_test(NAME cli_package
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/package.sh ${CMAKE_BINARY_DIR} ${CMAKE_CURRENT_BINARY_DIR}/package)
set_tests_properties(cli_package PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
# -j/--json and -p/--pretty on every command that reports, field by field (issue 15)
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME cli_json
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/test_json.py ${VMSLIM_BIN}
          ${CMAKE_BINARY_DIR}/vmlinux/6.18.44 ${CMAKE_CURRENT_BINARY_DIR}/json)
set_tests_properties(cli_json PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
