# The slim path (slim/): `vmslim build --slim`, `vmslim cc --slim`, and the warm context's
# slim headers, for every BPF program of the project against the vmlinux.h of both pinned
# BTFs.
#
#   slim_extract_<ver>        one warm context per header: every program's slim header
#                             (vms_slim_extract) is byte for byte `vmslim extract --from`'s,
#                             also for two that the warm unit hands back to the cold path
#   slim_<prog>_<ver>         build --slim --verify, objdiff-same as build --no-pch; the
#                             dependency file is the plain build's (names the full header,
#                             never the derived one); a second build hits the header cache;
#                             `vmslim cc --slim` in-process gives the same object
#   slim_ctx                  a warm context matches its header and flags only, goes stale
#                             when the header changes; a build through it reads the program
#                             warm and gives the plain build's object
#   slim_errors               a syntax error is clang's error (exit 1, no object left); a
#                             program without vmlinux.h, or with code ahead of it, builds
#                             the full-header way; a --verify failure is shown and fails
#   slim_daemon               `vmslim cc --slim` through a private daemon: warm, same objects

add_executable(test_slim_extract ${CMAKE_CURRENT_LIST_DIR}/test_slim_extract.c)
target_link_libraries(test_slim_extract PRIVATE vmslim_slim)
set_target_properties(test_slim_extract PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})

# libclang in-process: LeakSanitizer's tracer crashes on libclang's threads and LLVM's
# own sigaltstack clashes with ASan's
set(slim_env "VMSLIM_NO_DAEMON=1")
if(VMSLIM_SANITIZE)
  set(slim_env "${slim_env};ASAN_OPTIONS=detect_leaks=0:use_sigaltstack=0")
endif()

file(GLOB slim_progs CONFIGURE_DEPENDS ${VMSLIM_PROGS_DIR}/*.bpf.c)
list(SORT slim_progs)
foreach(ver 6.18.44 6.1)
  set(header ${CMAKE_BINARY_DIR}/vmlinux/${ver}/vmlinux.h)
  add_test(NAME slim_extract_${ver}
    COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/extract.sh ${VMSLIM_BIN}
            $<TARGET_FILE:test_slim_extract> ${header}
            ${CMAKE_CURRENT_BINARY_DIR}/slim/extract-${ver} ${slim_progs}
            ${CMAKE_CURRENT_LIST_DIR}/nopai.bpf.c ${CMAKE_CURRENT_LIST_DIR}/if_first.bpf.c)
  set_tests_properties(slim_extract_${ver} PROPERTIES ENVIRONMENT "${slim_env}")
  foreach(prog ${slim_progs})
    get_filename_component(name ${prog} NAME)
    string(REGEX REPLACE "\\.bpf\\.c$" "" name ${name})
    add_test(NAME slim_${name}_${ver}
      COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/prog.sh ${VMSLIM_BIN} ${header} ${prog}
              ${CMAKE_CURRENT_BINARY_DIR}/slim/${ver}/${name})
    set_tests_properties(slim_${name}_${ver} PROPERTIES ENVIRONMENT "${slim_env}")
  endforeach()
endforeach()

add_test(NAME slim_ctx
  COMMAND sh -c "rm -rf $1 && mkdir -p $1 && exec $0 --ctx $2 $1 $3"
          $<TARGET_FILE:test_slim_extract> ${CMAKE_CURRENT_BINARY_DIR}/slim/ctx ${VMLINUX_6_1}
          ${VMSLIM_PROGS_DIR}/runqlat.bpf.c)
set_tests_properties(slim_ctx PROPERTIES ENVIRONMENT "${slim_env}")

add_test(NAME slim_errors
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/errors.sh ${VMSLIM_BIN} ${VMLINUX_6_18}
          ${CMAKE_CURRENT_LIST_DIR} ${CMAKE_CURRENT_BINARY_DIR}/slim/errors)
set_tests_properties(slim_errors PROPERTIES ENVIRONMENT "${slim_env}")

# the daemon's warm context (a private daemon in a temp dir, stopped at the end)
add_test(NAME slim_daemon
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/daemon.sh ${VMSLIM_BIN} ${CMAKE_BINARY_DIR}/vmlinux/6.18.44
          ${VMSLIM_PROGS_DIR} ${CMAKE_CURRENT_BINARY_DIR}/slim/daemon)
set_tests_properties(slim_daemon PROPERTIES SKIP_RETURN_CODE 77)
if(VMSLIM_SANITIZE)
  set_tests_properties(slim_daemon PROPERTIES
    ENVIRONMENT "ASAN_OPTIONS=detect_leaks=0:use_sigaltstack=0")
endif()
