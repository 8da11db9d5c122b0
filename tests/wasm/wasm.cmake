# wasm: the WebAssembly bundle (wasm/, `vmslim wasm`; issue 16) against the native
# `vmslim check`, in Node. Only with -DVMSLIM_WASM=ON. tests/wasm/test_wasm.mjs has the
# details of each mode.
#
#   wasm_progs_<ver>   every tests/progs/*.bpf.c, both pinned headers: the same verdict
#                      and first error line as `vmslim check`; the bundle's CLI exit code
#   wasm_errors        the injected errors (as in check_errors, simpler): same line
#   wasm_hostile       huge file, binary garbage, include/macro recursion, exponential
#                      macros, deep nesting: an error or gave-up verdict, never a hang
#   wasm_cli           `vmslim wasm` and `node DIR/vmslim-check.js`: usage, exit codes
if(VMSLIM_WASM)
  find_program(VMSLIM_NODE node REQUIRED)
  set(wasm_driver ${CMAKE_CURRENT_LIST_DIR}/test_wasm.mjs)
  set(wasm_work ${CMAKE_CURRENT_BINARY_DIR}/wasm)
  foreach(pair "6.18.44;${VMLINUX_6_18}" "6.1;${VMLINUX_6_1}")
    list(GET pair 0 ver)
    list(GET pair 1 hdr)
    add_test(NAME wasm_progs_${ver}
      COMMAND ${VMSLIM_NODE} ${wasm_driver} progs ${VMSLIM_BIN} ${VMSLIM_PROGS_DIR} ${hdr}
              ${wasm_work}/progs-${ver})
  endforeach()
  add_test(NAME wasm_errors
    COMMAND ${VMSLIM_NODE} ${wasm_driver} errors ${VMSLIM_BIN} ${VMSLIM_PROGS_DIR} ${VMLINUX_6_18}
            ${wasm_work}/errors)
  add_test(NAME wasm_hostile
    COMMAND ${VMSLIM_NODE} ${wasm_driver} hostile ${VMSLIM_BIN} ${VMLINUX_6_18} ${wasm_work}/hostile)
  add_test(NAME wasm_cli
    COMMAND ${VMSLIM_NODE} ${wasm_driver} cli ${VMSLIM_BIN} ${VMLINUX_6_18} ${wasm_work}/cli)
  set_tests_properties(wasm_progs_6.18.44 wasm_progs_6.1 wasm_errors wasm_hostile wasm_cli
    PROPERTIES LABELS wasm TIMEOUT 600 SKIP_RETURN_CODE 77)
endif()
