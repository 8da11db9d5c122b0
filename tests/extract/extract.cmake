# extract and verify: golden fixtures, error paths, and every BPF program of the project
# against the vmlinux.h of both pinned BTFs.

add_test(NAME extract_fixtures
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/fixtures.sh ${VMSLIM_BIN}
          ${CMAKE_CURRENT_LIST_DIR}/fixtures ${CMAKE_CURRENT_BINARY_DIR}/extract_fixtures)

# struct_ops variables: the pointees of an ops struct's prototypes stay complete (and every
# other route by which clang's BTF emits a struct in full), on both pinned BTFs
add_test(NAME extract_struct_ops
  COMMAND ${CMAKE_COMMAND} -E env BPFTOOL=${BPFTOOL}
          sh ${CMAKE_CURRENT_LIST_DIR}/struct_ops.sh ${VMSLIM_BIN} ${CMAKE_CURRENT_LIST_DIR}/struct_ops
          ${CMAKE_CURRENT_BINARY_DIR}/extract_struct_ops ${VMLINUX_6_18} ${VMLINUX_6_1})
set_tests_properties(extract_struct_ops PROPERTIES SKIP_RETURN_CODE 77)

add_test(NAME extract_errors
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/errors.sh ${VMSLIM_BIN}
          ${CMAKE_CURRENT_LIST_DIR}/fixtures ${VMSLIM_BTF_6_18} ${CMAKE_CURRENT_BINARY_DIR}/extract_errors)

# --btf goes through libbpf's btf_dump, not bpftool: its slim header must still give the
# same object as bpftool's full header
add_test(NAME extract_from_btf
  COMMAND sh -c "set -e; d=${CMAKE_CURRENT_BINARY_DIR}/extract_btf; rm -rf $d; mkdir -p $d
    ${VMSLIM_BIN} extract --btf ${VMSLIM_BTF_6_18} --from ${VMSLIM_PROGS_DIR}/execsnoop.bpf.c -o $d/slim.h --stats
    ${VMSLIM_BIN} verify ${VMSLIM_PROGS_DIR}/execsnoop.bpf.c --header ${VMLINUX_6_18} --slim $d/slim.h
    ${VMSLIM_BIN} extract --btf ${VMSLIM_BTF_6_1} --type 'trace_event_raw_*' --type task_struct -o $d/types.h --stats
    clang -target bpf -fsyntax-only -x c $d/types.h")

# several programs at once: the union of what each needs, still the same objects
add_test(NAME extract_union_of_programs
  COMMAND sh -c "set -e; d=${CMAKE_CURRENT_BINARY_DIR}/extract_union; rm -rf $d; mkdir -p $d
    ${VMSLIM_BIN} extract --header ${VMLINUX_6_18} --from ${VMSLIM_PROGS_DIR}/execsnoop.bpf.c --from ${VMSLIM_PROGS_DIR}/xdp_filter.bpf.c --from ${VMSLIM_PROGS_DIR}/runqlat.bpf.c -o $d/slim.h --stats
    for p in execsnoop xdp_filter runqlat; do ${VMSLIM_BIN} verify ${VMSLIM_PROGS_DIR}/$p.bpf.c --header ${VMLINUX_6_18} --slim $d/slim.h; done")

file(GLOB bpf_programs CONFIGURE_DEPENDS ${VMSLIM_PROGS_DIR}/*.bpf.c)
foreach(prog ${bpf_programs})
  get_filename_component(name ${prog} NAME_WE)
  foreach(ver 6.18.44 6.1)
    set(out ${CMAKE_CURRENT_BINARY_DIR}/extract_prog/${name}-${ver})
    add_test(NAME extract_${name}_${ver}
      COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/prog.sh ${VMSLIM_BIN}
              ${CMAKE_BINARY_DIR}/vmlinux/${ver}/vmlinux.h ${prog} ${out})
    set_tests_properties(extract_${name}_${ver} PROPERTIES FIXTURES_SETUP slim_${name}_${ver})
  endforeach()
endforeach()

# the shipped default blacklist trims the --full-pointers closure and keeps the object
# The blacklist keeps hub types opaque where clang emits them complete: the object's
# instructions, relocations and CO-RE records stay the same, only .BTF records differ,
# and verify says so (exit 1, every difference a .BTF one).
add_test(NAME extract_default_blacklist
  COMMAND sh -c "set -e; d=${CMAKE_CURRENT_BINARY_DIR}/extract_default_blacklist; rm -rf $d; mkdir -p $d
    ${VMSLIM_BIN} extract --header ${VMLINUX_6_18} --from ${VMSLIM_PROGS_DIR}/execsnoop.bpf.c --full-pointers -o $d/all.h
    ${VMSLIM_BIN} extract --header ${VMLINUX_6_18} --from ${VMSLIM_PROGS_DIR}/execsnoop.bpf.c --full-pointers --blacklist-file default -o $d/bl.h 2>$d/notes
    [ $(wc -c < $d/bl.h) -lt $(( $(wc -c < $d/all.h) / 2 )) ]
    grep -q '^struct net_device;$' $d/bl.h
    clang -target bpf -fsyntax-only -Werror -Wno-pragma-clang-attribute -x c $d/all.h
    clang -target bpf -fsyntax-only -Werror -Wno-pragma-clang-attribute -x c $d/bl.h
    ! ${VMSLIM_BIN} -j verify ${VMSLIM_PROGS_DIR}/execsnoop.bpf.c --header ${VMLINUX_6_18} --slim $d/bl.h > $d/verify.json
    python3 -c \"import json,sys; d=json.load(open(sys.argv[1]))['diagnostics']; e=[x['message'] for x in d if x['severity']=='error']; bad=[m for m in e if not m.startswith('.BTF: ')]; sys.exit(1 if not e or bad else 0)\" $d/verify.json")

# every form of including vmlinux.h (angled, from a project header, -include, decoys
# beside the includers) and clang's own headers: extract and verify use --header
add_test(NAME extract_include_forms
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/includes.sh ${VMSLIM_BIN} ${VMLINUX_6_18}
          ${CMAKE_CURRENT_LIST_DIR}/includes ${CMAKE_CURRENT_BINARY_DIR}/extract_includes)
if(VMSLIM_SANITIZE)
  # LeakSanitizer's exit-time tracer crashes ("Tracer caught signal 11") on the threads
  # libclang leaves in these runs; memory errors are still caught, and extract's leaks are
  # checked by the other extract tests
  set_tests_properties(extract_include_forms PROPERTIES
    ENVIRONMENT "ASAN_OPTIONS=use_sigaltstack=0:detect_leaks=0")
endif()
