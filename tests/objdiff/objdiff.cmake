# The project's BPF programs (tests/progs), `vmslim objdiff`, and loading objects into the
# running kernel with vms_bpf_load_object().
#
#   progs_objdiff_<prog>_<ver>   compile twice (second copy from another path) against the
#                                pinned header <ver>; objdiff must say "same"
#   progs_clang19                every program compiles warning-free with clang-19 against
#                                both headers (clang 14 is covered by the tests above)
#   progs_load_<prog>            the 6.18 object passes the running kernel's verifier
#   progs_load_slim_<prog>       the same for the slim-header object of extract_<prog>_6.18.44
#   progs_load_rejected          a program the verifier must refuse is refused, with the reason
#   objdiff_variants             objdiff's messages for known differences, and its errors
#
# Load tests exit 77 (skipped, with the reason printed) where the machine refuses to load:
# here every program needing a BPF trampoline (fentry/fexit, LSM) gets EPERM.

find_program(PROGS_CLANG clang REQUIRED)
find_program(PROGS_CLANG19 clang-19)

add_executable(test_load ${CMAKE_CURRENT_LIST_DIR}/test_load.c)
target_link_libraries(test_load PRIVATE vmslim_bpfobj vmslim_common)
set_target_properties(test_load PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})

set(progs_out ${CMAKE_CURRENT_BINARY_DIR}/progs)
file(GLOB progs_sources CONFIGURE_DEPENDS ${VMSLIM_PROGS_DIR}/*.bpf.c)
list(SORT progs_sources)

foreach(prog ${progs_sources})
  get_filename_component(name ${prog} NAME)
  string(REGEX REPLACE "\\.bpf\\.c$" "" name ${name})
  foreach(pair "6.18.44;${VMLINUX_6_18}" "6.1;${VMLINUX_6_1}")
    list(GET pair 0 ver)
    list(GET pair 1 header)
    add_test(NAME progs_objdiff_${name}_${ver}
      COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/prog.sh ${VMSLIM_BIN} ${PROGS_CLANG}
              ${header} ${prog} ${progs_out}/${ver}/${name})
    set_tests_properties(progs_objdiff_${name}_${ver} PROPERTIES
      FIXTURES_SETUP progobj_${name}_${ver} LABELS progs)
  endforeach()

  # The running kernel is the one the 6.18 BTF came from.
  add_test(NAME progs_load_${name}
    COMMAND test_load ${progs_out}/6.18.44/${name}/${name}.o)
  set_tests_properties(progs_load_${name} PROPERTIES
    FIXTURES_REQUIRED progobj_${name}_6.18.44 SKIP_RETURN_CODE 77 LABELS "progs;load")

  # extract/extract.cmake (included before this file) keeps the slim-header object it verified.
  if(TEST extract_${name}_6.18.44)
    add_test(NAME progs_load_slim_${name}
      COMMAND test_load ${CMAKE_CURRENT_BINARY_DIR}/extract_prog/${name}-6.18.44/slim.o)
    set_tests_properties(progs_load_slim_${name} PROPERTIES
      FIXTURES_REQUIRED slim_${name}_6.18.44 SKIP_RETURN_CODE 77 LABELS "progs;load")
  endif()
endforeach()

if(PROGS_CLANG19)
  add_test(NAME progs_clang19
    COMMAND sh -c "set -e; d=${progs_out}/clang19; rm -rf $d; mkdir -p $d
      for h in ${VMLINUX_6_18} ${VMLINUX_6_1}; do
        for p in ${VMSLIM_PROGS_DIR}/*.bpf.c; do
          ${PROGS_CLANG19} -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_x86 -I$(dirname $h) -c $p -o $d/x.o
        done
      done
      echo every program compiles with clang-19 against both headers")
  set_tests_properties(progs_clang19 PROPERTIES LABELS progs)
endif()

add_test(NAME progs_load_rejected
  COMMAND sh -c "set -e; d=${progs_out}/rejected; rm -rf $d; mkdir -p $d
    ${PROGS_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_x86 -I$(dirname ${VMLINUX_6_18}) -c ${CMAKE_CURRENT_LIST_DIR}/fixtures/unchecked_lookup.bpf.c -o $d/unchecked_lookup.o
    exec $<TARGET_FILE:test_load> --expect-reject \"invalid mem access 'map_value_or_null'\" $d/unchecked_lookup.o")
set_tests_properties(progs_load_rejected PROPERTIES SKIP_RETURN_CODE 77 LABELS "progs;load")

add_test(NAME objdiff_variants
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/variants.sh ${VMSLIM_BIN} ${PROGS_CLANG}
          ${CMAKE_CURRENT_LIST_DIR}/fixtures ${VMLINUX_6_18} ${VMLINUX_6_1}
          ${VMSLIM_PROGS_DIR}/execsnoop.bpf.c ${progs_out}/variants)
set_tests_properties(objdiff_variants PROPERTIES LABELS progs)
