# Every subcommand answers --help on stdout with exit 0, and an unknown option with exit 2.
foreach(cmd extract verify objdiff pch build cc check serve client lsp bench)
  add_test(NAME cli_help_${cmd}
    COMMAND sh -c "${VMSLIM_BIN} ${cmd} --help > help_${cmd}.out && grep -qi usage help_${cmd}.out"
    WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
endforeach()
add_test(NAME cli_unknown_command COMMAND ${VMSLIM_BIN} no-such-command)
set_tests_properties(cli_unknown_command PROPERTIES WILL_FAIL TRUE)
add_test(NAME cli_help_lists_commands
  COMMAND sh -c "${VMSLIM_BIN} help | grep -q extract && ${VMSLIM_BIN} help check | grep -qi usage")
