# remote/: `vmslim cc` through per-user daemons sharing a redis-server (issue 13), which the
# scripts start on a Unix socket in their work directory and kill. Skipped (77) without
# redis-server, vmlinux.h or clang. The daemons' own remote tests (build and check ops)
# are tests/serve's serve_remote_*.
set(remote_vmlinux_dir ${CMAKE_BINARY_DIR}/vmlinux/6.18.44)
foreach(part cc_share)
  add_test(NAME remote_${part}
    COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/${part}.sh ${VMSLIM_BIN} ${remote_vmlinux_dir}
            ${VMSLIM_PROGS_DIR} ${CMAKE_CURRENT_BINARY_DIR}/remote_${part})
  set_tests_properties(remote_${part} PROPERTIES TIMEOUT 600 LABELS "remote;daemon"
                       SKIP_RETURN_CODE 77)
endforeach()
