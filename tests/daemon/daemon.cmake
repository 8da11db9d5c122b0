# daemon/: the per-user daemon behind `vmslim cc` (serve --user, serve/cc.h), driven
# through a libbpf-tools-style Makefile (Makefile beside this file) and real processes.
# Each test has its own XDG_RUNTIME_DIR and cache directory under its work directory and
# kills every daemon it started (lib.sh).
set(daemon_vmlinux_dir ${CMAKE_BINARY_DIR}/vmlinux/6.18.44)
foreach(part make_tree kill two_users bound answers stale check extract build)
  add_test(NAME daemon_${part}
    COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/${part}.sh ${VMSLIM_BIN} ${daemon_vmlinux_dir}
            ${VMSLIM_PROGS_DIR} ${CMAKE_CURRENT_BINARY_DIR}/daemon_${part})
  set_tests_properties(daemon_${part} PROPERTIES TIMEOUT 600 LABELS daemon SKIP_RETURN_CODE 77)
endforeach()
