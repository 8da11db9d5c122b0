# http: `vmslim serve --http` (serve/http.c, web/; issue 16 items 4 and 5).
#
#   http_front     tests/http/test_http.py: the page and the bundle, POST /check and /build
#                  against the socket's answers, malformed/oversized bodies, ../ paths, a
#                  slow client, the socket protocol's escape cases; the daemon alive
#   http_browser   tests/http/test_browser.mjs: Debian's chromium headless over CDP
#                  (--remote-debugging-pipe): type an error, the gutter marks its line, fix
#                  it, the mark clears, Build shows the daemon's answer; a screenshot
#                  (http_browser/playground.png). Skipped (77) when chromium cannot start.
find_program(VMSLIM_PYTHON3 python3)
set(http_vmlinux_dir ${CMAKE_BINARY_DIR}/vmlinux/6.18.44)
if(VMSLIM_PYTHON3)
  add_test(NAME http_front
    COMMAND ${VMSLIM_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/test_http.py ${VMSLIM_BIN}
            ${http_vmlinux_dir} ${VMSLIM_PROGS_DIR} ${CMAKE_CURRENT_BINARY_DIR}/http_front)
  set_tests_properties(http_front PROPERTIES LABELS "serve;http" TIMEOUT 300 SKIP_RETURN_CODE 77)
endif()
find_program(VMSLIM_NODE_HTTP node)
if(VMSLIM_NODE_HTTP)
  add_test(NAME http_browser
    COMMAND ${VMSLIM_NODE_HTTP} ${CMAKE_CURRENT_LIST_DIR}/test_browser.mjs ${VMSLIM_BIN}
            ${http_vmlinux_dir} ${CMAKE_CURRENT_BINARY_DIR}/http_browser)
  set_tests_properties(http_browser PROPERTIES LABELS "serve;http" TIMEOUT 300 SKIP_RETURN_CODE 77)
endif()
