# serve/: the daemon (vmslim serve / client) and the language server (vmslim lsp), driven
# through real sockets, pipes and processes. See tests/test_serve.c and tests/test_lsp.c.

add_executable(test_serve test_serve.c)
target_link_libraries(test_serve PRIVATE vmslim_serve vmslim_common PkgConfig::JSONC)
set_target_properties(test_serve PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})

add_executable(test_serve_cache test_serve_cache.c)
target_link_libraries(test_serve_cache PRIVATE vmslim_serve vmslim_common)
set_target_properties(test_serve_cache PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})

add_test(NAME serve_cache COMMAND test_serve_cache ${CMAKE_CURRENT_BINARY_DIR}/serve_cache)

set(serve_vmlinux_dir ${CMAKE_BINARY_DIR}/vmlinux/6.18.44)
foreach(part restart stress protocol confine sigterm client)
  add_test(NAME serve_${part}
    COMMAND test_serve ${part} ${VMSLIM_BIN} ${serve_vmlinux_dir} ${VMSLIM_PROGS_DIR}
            ${CMAKE_CURRENT_BINARY_DIR}/serve_${part})
  set_tests_properties(serve_${part} PROPERTIES TIMEOUT 600 LABELS serve SKIP_RETURN_CODE 77)
endforeach()

add_executable(test_lsp test_lsp.c)
target_link_libraries(test_lsp PRIVATE vmslim_common PkgConfig::JSONC)
set_target_properties(test_lsp PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test(NAME serve_lsp
  COMMAND test_lsp ${VMSLIM_BIN} ${serve_vmlinux_dir} ${VMSLIM_PROGS_DIR}
          ${CMAKE_CURRENT_BINARY_DIR}/serve_lsp)
set_tests_properties(serve_lsp PROPERTIES TIMEOUT 600 LABELS serve)
add_test(NAME serve_lsp_load
  COMMAND test_lsp ${VMSLIM_BIN} ${serve_vmlinux_dir} ${VMSLIM_PROGS_DIR}
          ${CMAKE_CURRENT_BINARY_DIR}/serve_lsp_load load)
set_tests_properties(serve_lsp_load PROPERTIES TIMEOUT 600 LABELS "serve;load" SKIP_RETURN_CODE 77)
