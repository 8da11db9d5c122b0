# lsp/: `vmslim lsp`'s editor features (completion, hover, definition, signature help),
# project flags from compile_commands.json, and CO-RE warnings against target kernels,
# all through real stdio sessions (test_lsp_features.py says what each mode checks).
find_program(PYTHON3 python3)
foreach(mode features fastonly compdb targets)
  set(extra "")
  if(mode STREQUAL "targets")
    set(extra ${VMSLIM_BTF_6_1} ${VMSLIM_BTF_6_18})
  endif()
  add_test(NAME lsp_${mode}
    COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_lsp_features.py ${mode} ${VMSLIM_BIN}
            ${CMAKE_BINARY_DIR}/vmlinux/6.18.44 ${CMAKE_CURRENT_LIST_DIR}
            ${CMAKE_CURRENT_BINARY_DIR}/lsp_${mode} ${extra})
  set_tests_properties(lsp_${mode} PROPERTIES TIMEOUT 600 LABELS lsp SKIP_RETURN_CODE 77)
  if(VMSLIM_SANITIZE)
    # ASan's own runtime fails a CHECK when a libclang thread of the exact tier exits
    # ("unable to unmap" its alternate signal stack, in AsanThread::Destroy): the server's
    # exit status is then ASan's, not ours. Without per-thread signal stacks ASan still
    # checks every access; only its handling of a stack overflow is plainer.
    set_tests_properties(lsp_${mode} PROPERTIES ENVIRONMENT "ASAN_OPTIONS=use_sigaltstack=0")
  endif()
endforeach()
if(NOT VMSLIM_HAVE_CORE)
  set_tests_properties(lsp_targets PROPERTIES DISABLED TRUE)
endif()
