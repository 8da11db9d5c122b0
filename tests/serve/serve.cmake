# serve/: the daemon (vmslim serve / client) and the language server (vmslim lsp), driven
# through real sockets, pipes and processes. See test_serve.c and test_lsp.c beside this file.

add_executable(test_serve ${CMAKE_CURRENT_LIST_DIR}/test_serve.c)
target_link_libraries(test_serve PRIVATE vmslim_serve vmslim_common PkgConfig::JSONC)
set_target_properties(test_serve PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})

add_executable(test_serve_cache ${CMAKE_CURRENT_LIST_DIR}/test_serve_cache.c)
target_link_libraries(test_serve_cache PRIVATE vmslim_serve vmslim_common)
set_target_properties(test_serve_cache PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})

add_test(NAME serve_cache COMMAND test_serve_cache ${CMAKE_CURRENT_BINARY_DIR}/serve_cache)

set(serve_vmlinux_dir ${CMAKE_BINARY_DIR}/vmlinux/6.18.44)
foreach(part restart stress protocol confine sigterm client header_rewrite)
  add_test(NAME serve_${part}
    COMMAND test_serve ${part} ${VMSLIM_BIN} ${serve_vmlinux_dir} ${VMSLIM_PROGS_DIR}
            ${CMAKE_CURRENT_BINARY_DIR}/serve_${part})
  set_tests_properties(serve_${part} PROPERTIES TIMEOUT 600 LABELS serve SKIP_RETURN_CODE 77)
endforeach()

add_executable(test_lsp ${CMAKE_CURRENT_LIST_DIR}/test_lsp.c)
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
add_test(NAME serve_lsp_order
  COMMAND test_lsp ${VMSLIM_BIN} ${serve_vmlinux_dir} ${VMSLIM_PROGS_DIR}
          ${CMAKE_CURRENT_BINARY_DIR}/serve_lsp_order order)
set_tests_properties(serve_lsp_order PROPERTIES TIMEOUT 600 LABELS serve)

# option values the daemon and the language server cannot use are usage errors (exit 2),
# never truncated into ints; a file given as a header directory is refused at start
add_test(NAME serve_usage_errors
  COMMAND sh -c "d=${CMAKE_CURRENT_BINARY_DIR}/serve_usage; rm -rf $d; mkdir -p $d; : > $d/f.h
    ${VMSLIM_BIN} serve -s $d/s.sock -I $d --time-limit 99999999999999 2>$d/e1
    [ $? -eq 2 ] && grep -q 'from 10 to' $d/e1 || exit 1
    ${VMSLIM_BIN} serve -s $d/s.sock -I $d --cache-size 99999999999999999 2>/dev/null
    [ $? -eq 2 ] || exit 1
    ${VMSLIM_BIN} serve -s $d/s.sock -I $d/f.h -q --cache-dir $d/c 2>$d/e2
    [ $? -eq 1 ] && grep -q 'f.h: Not a directory' $d/e2 || exit 1
    ${VMSLIM_BIN} lsp --time-limit abc </dev/null 2>$d/e3
    [ $? -eq 2 ] && grep -q 'time-limit' $d/e3 || exit 1
    printf 'int a;\\n/* caf\\351 */\\n' > $d/latin1.c
    ${VMSLIM_BIN} client -s $d/none.sock check $d/latin1.c 2>$d/e4
    [ $? -eq 1 ] && grep -q 'latin1.c:2: error: not valid UTF-8' $d/e4")
set_tests_properties(serve_usage_errors PROPERTIES LABELS serve)

# the clang command lines of check and build: -D__TARGET_ARCH_arm64 from a request or the
# daemon means no host architecture beside it
add_test(NAME serve_arch
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/serve_arch.sh ${VMSLIM_BIN} ${serve_vmlinux_dir}
          ${CMAKE_CURRENT_BINARY_DIR}/serve_arch)
set_tests_properties(serve_arch PROPERTIES TIMEOUT 300 LABELS serve)

# the event loop alone: 200 pipes and 200 timers pending at once, stale events, hang-ups
add_executable(test_serve_loop ${CMAKE_CURRENT_LIST_DIR}/test_serve_loop.c)
target_link_libraries(test_serve_loop PRIVATE vmslim_serve vmslim_common)
set_target_properties(test_serve_loop PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test(NAME serve_loop COMMAND test_serve_loop)
set_tests_properties(serve_loop PROPERTIES LABELS serve)

# LSP positions alone: UTF-16 units over UTF-8, both directions, clamps, diagnostic ranges
add_executable(test_lsp_pos ${CMAKE_CURRENT_LIST_DIR}/test_lsp_pos.c)
target_link_libraries(test_lsp_pos PRIVATE vmslim_serve vmslim_common)
set_target_properties(test_lsp_pos PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test(NAME serve_lsp_pos COMMAND test_lsp_pos)
set_tests_properties(serve_lsp_pos PROPERTIES LABELS serve)

# more clang jobs at once than the language server's old 64-slot poll loop could read
add_test(NAME serve_lsp_many
  COMMAND test_lsp ${VMSLIM_BIN} ${serve_vmlinux_dir} ${VMSLIM_PROGS_DIR}
          ${CMAKE_CURRENT_BINARY_DIR}/serve_lsp_many many)
set_tests_properties(serve_lsp_many PROPERTIES TIMEOUT 600 LABELS serve)
add_test(NAME serve_lsp_robust
  COMMAND test_lsp ${VMSLIM_BIN} ${serve_vmlinux_dir} ${VMSLIM_PROGS_DIR}
          ${CMAKE_CURRENT_BINARY_DIR}/serve_lsp_robust robust)
set_tests_properties(serve_lsp_robust PROPERTIES TIMEOUT 600 LABELS serve)

# a check request's -D/-U flags leave the diagnostics' file:line alone (tcc and clang)
add_test(NAME serve_check_defines
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/check_defines.sh ${VMSLIM_BIN} ${serve_vmlinux_dir}
          ${CMAKE_CURRENT_BINARY_DIR}/serve_check_defines)
set_tests_properties(serve_check_defines PROPERTIES TIMEOUT 300 LABELS serve SKIP_RETURN_CODE 77)

# the escape suite: every known way out, as check and build, with and without the OS
# sandbox; answers for an existing and a missing outside path must be the same
add_executable(test_escape ${CMAKE_CURRENT_LIST_DIR}/test_escape.c)
target_link_libraries(test_escape PRIVATE vmslim_serve vmslim_common PkgConfig::JSONC)
set_target_properties(test_escape PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
foreach(mode auto landlock mount-ns off)
  add_test(NAME serve_escape_${mode}
    COMMAND test_escape ${VMSLIM_BIN} ${serve_vmlinux_dir} ${CMAKE_CURRENT_BINARY_DIR}/escape_${mode} ${mode})
  set_tests_properties(serve_escape_${mode} PROPERTIES TIMEOUT 900 LABELS serve SKIP_RETURN_CODE 77)
endforeach()

# scratch hygiene and fairness (issue 10): crashes cached, no job directory after a
# timeout, a killed daemon's scratch swept, per-client limits, idle timeout, a round-robin
# queue, disconnect cancels the build. idle and queue need root (a second uid).
add_executable(test_serve_fair ${CMAKE_CURRENT_LIST_DIR}/test_serve_fair.c)
target_link_libraries(test_serve_fair PRIVATE vmslim_serve vmslim_common PkgConfig::JSONC)
set_target_properties(test_serve_fair PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
foreach(part crash timeout sweep idle queue cancel)
  add_test(NAME serve_fair_${part}
    COMMAND test_serve_fair ${part} ${VMSLIM_BIN} ${serve_vmlinux_dir}
            ${CMAKE_CURRENT_BINARY_DIR}/serve_fair_${part})
  set_tests_properties(serve_fair_${part} PROPERTIES TIMEOUT 600 LABELS serve SKIP_RETURN_CODE 77)
endforeach()

# the sandbox in force is reported; with none to be had, builds are refused unless
# --no-sandbox, and an explicit --sandbox that cannot be had stops the start
add_test(NAME serve_sandbox_modes
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/sandbox_modes.sh ${VMSLIM_BIN} ${serve_vmlinux_dir}
          ${CMAKE_CURRENT_BINARY_DIR}/serve_sandbox_modes)
set_tests_properties(serve_sandbox_modes PROPERTIES TIMEOUT 300 LABELS serve)

# the remote tier (issue 13): two daemons sharing answers through a redis-server the test
# starts on a Unix socket of its own; skipped without redis-server
add_executable(test_serve_remote ${CMAKE_CURRENT_LIST_DIR}/test_serve_remote.c)
target_link_libraries(test_serve_remote PRIVATE vmslim_serve vmslim_common PkgConfig::JSONC)
set_target_properties(test_serve_remote PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
foreach(part share corrupt down slow many)
  add_test(NAME serve_remote_${part}
    COMMAND test_serve_remote ${part} ${VMSLIM_BIN} ${serve_vmlinux_dir} ${VMSLIM_PROGS_DIR}
            ${CMAKE_CURRENT_BINARY_DIR}/serve_remote_${part})
  set_tests_properties(serve_remote_${part} PROPERTIES TIMEOUT 600 LABELS "serve;remote" SKIP_RETURN_CODE 77)
endforeach()
add_executable(test_remote_url ${CMAKE_CURRENT_LIST_DIR}/test_remote_url.c)
target_link_libraries(test_remote_url PRIVATE vmslim_remote vmslim_common)
set_target_properties(test_remote_url PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test(NAME serve_remote_url COMMAND test_remote_url)
set_tests_properties(serve_remote_url PROPERTIES LABELS "serve;remote")
