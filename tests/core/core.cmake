# vmslim core: CO-RE relocations resolved offline, against the truth.
#
#   core_cli              the fixtures' answers over both pinned BTFs: failures, guards,
#                         flavours, type size, enum values, lines, hints; usage errors and
#                         damaged objects
#   core_libbpf_<ver>     every (relocation, kernel) result equals libbpf's loader's own,
#                         with the pinned BTF as btf_custom_path
#   core_kernel           the running kernel loads the portable object and rejects the
#                         other in the program vmslim core names (77: loading refused)
#
# Without libbpf's relocation engine in this build (core/CMakeLists.txt says why) the
# tests report themselves skipped.
add_executable(test_core ${CMAKE_CURRENT_LIST_DIR}/test_core.c)
target_include_directories(test_core PRIVATE ${CMAKE_SOURCE_DIR})
target_link_libraries(test_core PRIVATE vmslim_common PkgConfig::LIBBPF PkgConfig::LIBELF PkgConfig::JSONC)
set_target_properties(test_core PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})

set(core_work ${CMAKE_CURRENT_BINARY_DIR}/core)
if(VMSLIM_HAVE_CORE)
  add_test(NAME core_cli COMMAND test_core cli ${VMSLIM_BIN} ${CMAKE_CURRENT_LIST_DIR}
    ${CMAKE_BINARY_DIR}/vmlinux/6.18.44 ${VMSLIM_BTF_6_1} ${VMSLIM_BTF_6_18} ${core_work}/cli)
  foreach(pair "6.18.44;${VMSLIM_BTF_6_18}" "6.1;${VMSLIM_BTF_6_1}")
    list(GET pair 0 ver)
    list(GET pair 1 btf)
    add_test(NAME core_libbpf_${ver} COMMAND test_core libbpf ${VMSLIM_BIN}
      ${CMAKE_CURRENT_LIST_DIR} ${CMAKE_BINARY_DIR}/vmlinux/6.18.44 ${btf} ${core_work}/libbpf_${ver})
  endforeach()
  add_test(NAME core_kernel COMMAND test_core kernel ${VMSLIM_BIN} ${CMAKE_CURRENT_LIST_DIR}
    ${CMAKE_BINARY_DIR}/vmlinux/6.18.44 ${core_work}/kernel)
  set_tests_properties(core_cli core_libbpf_6.18.44 core_libbpf_6.1 core_kernel
    PROPERTIES SKIP_RETURN_CODE 77)
else()
  add_test(NAME core_cli COMMAND sh -c "echo 'SKIP: vmslim core is not in this build (see the configure warning from core/)'; exit 77")
  set_tests_properties(core_cli PROPERTIES SKIP_RETURN_CODE 77)
endif()
