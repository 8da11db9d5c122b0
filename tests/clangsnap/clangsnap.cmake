# clangsnap/: builds forked from a clang snapshot (issue 12, item 4).
#
#   clangsnap_progs_<clang>       every tests/progs program that includes vmlinux.h first:
#                                 the snapshot's object = plain clang's (vms_obj_compare);
#                                 clang 14 and clang-19 (skipped when absent)
#   clangsnap_progs_pch           the same through a PCH of the full header (clang 14)
#   clangsnap_cases_<clang>       compile errors and warnings as plain clang gives them,
#                                 "does not apply" for a #define first and a local include,
#                                 no match for other flags / clang / a changed header,
#                                 refusals at start
#   clangsnap_kill                the snapshot killed mid-builds: builds fall back, no
#                                 process or file left behind
#   clangsnap_parallel            10 concurrent builds, 3 at a time: all the plain objects
add_executable(test_clangsnap ${CMAKE_CURRENT_LIST_DIR}/test_clangsnap.c)
target_link_libraries(test_clangsnap PRIVATE vmslim_clangsnap vmslim_bpfobj vmslim_common pthread)
set_target_properties(test_clangsnap PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})

set(csnap_out ${CMAKE_CURRENT_BINARY_DIR}/clangsnap)
set(csnap_env "XDG_CACHE_HOME=${csnap_out}/xdg")
foreach(c clang clang-19)
  string(REPLACE "-" "" cname ${c})
  add_test(NAME clangsnap_progs_${cname}
    COMMAND test_clangsnap progs ${c} ${VMLINUX_6_18} ${VMSLIM_PROGS_DIR} ${csnap_out}/progs-${c})
  list(APPEND csnap_tests clangsnap_progs_${cname})
endforeach()
add_test(NAME clangsnap_progs_pch
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/pch.sh ${VMSLIM_BIN} $<TARGET_FILE:test_clangsnap>
          ${VMLINUX_6_18} ${VMSLIM_PROGS_DIR} ${csnap_out}/progs-pch)
foreach(c clang clang-19)
  string(REPLACE "-" "" cname ${c})
  add_test(NAME clangsnap_cases_${cname}
    COMMAND test_clangsnap cases ${c} ${VMLINUX_6_18} ${VMSLIM_PROGS_DIR} ${csnap_out}/cases-${c})
  list(APPEND csnap_tests clangsnap_cases_${cname})
endforeach()
add_test(NAME clangsnap_kill
  COMMAND test_clangsnap kill clang ${VMLINUX_6_18} ${VMSLIM_PROGS_DIR} ${csnap_out}/kill)
add_test(NAME clangsnap_parallel
  COMMAND test_clangsnap parallel clang ${VMLINUX_6_18} ${VMSLIM_PROGS_DIR} ${csnap_out}/parallel)
list(APPEND csnap_tests clangsnap_progs_pch clangsnap_kill clangsnap_parallel)
set_tests_properties(${csnap_tests} PROPERTIES LABELS clangsnap ENVIRONMENT "${csnap_env}"
  SKIP_RETURN_CODE 77 TIMEOUT 600)

# clangsnap_daemon_<clang>: snapshots in the per-user daemon through `vmslim cc` (daemon.sh):
# objects and -MD files byte-identical to plain clang's, errors, a killed snapshot, a
# changed header, another clang, a #define first, no process left (clang 14 and clang-19)
foreach(c clang clang-19)
  string(REPLACE "-" "" cname ${c})
  add_test(NAME clangsnap_daemon_${cname}
    COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/daemon.sh ${VMSLIM_BIN} ${VMLINUX_6_18} ${VMSLIM_PROGS_DIR}
            ${csnap_out}/daemon-${c} ${c})
  set_tests_properties(clangsnap_daemon_${cname} PROPERTIES LABELS clangsnap SKIP_RETURN_CODE 77
    TIMEOUT 600)
endforeach()
