# bench: `vmslim bench --quick` end to end on the pinned 6.18 header (never the running
# kernel's): every row present, times positive, baselines at ratio 1.0, build rows with the
# plain build's object, and the markdown, JSON and SVG consistent. Values are not asserted.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME bench_quick
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/test_bench.py
          ${VMSLIM_BIN} ${VMLINUX_6_18} ${CMAKE_CURRENT_BINARY_DIR}/bench_quick)
set_tests_properties(bench_quick PROPERTIES TIMEOUT 900)

# a named program and --btf (the header made in process by vms_btf_to_c, as with the
# running kernel's BTF), no daemon: the rows that need one say "skipped", nothing fails;
# --all-rows adds the internal variants, --axis log plots milliseconds on a log axis
add_test(NAME bench_btf_program
  COMMAND sh -c "set -e; d=${CMAKE_CURRENT_BINARY_DIR}/bench_btf; rm -rf $d; mkdir -p $d
    ${VMSLIM_BIN} bench --runs 1 --no-daemon --all-rows --axis log --plot $d/b.svg --btf ${VMSLIM_BTF_6_1} --json $d/b.json ${VMSLIM_PROGS_DIR}/xdp_filter.bpf.c > $d/b.md
    grep -q 'data-axis=\"log\"' $d/b.svg; grep -Eq '>(1|10|100) ms<' $d/b.svg
    ${Python3_EXECUTABLE} -c \"import json,sys; r=json.load(open('$d/b.json')); \
assert r['programs']==['xdp_filter.bpf.c'], r['programs']; \
assert r['header']['origin'].startswith('BTF ') and '6.1.0' in r['header']['origin'], r['header']; \
st={x['id']:x['state'] for x in r['rows']}; \
assert all(st[k]=='skipped' for k in st if '.daemon' in k), st; \
assert all(v in ('ok','crashes') for k,v in st.items() if '.daemon' not in k), st; \
assert all(len(x['samples_ms'])==1 for x in r['rows'] if x['state']=='ok'); \
assert {'check.libtcc_arena_full','build.gmodules_full','build.vmslim_full'} <= set(st), st; print('ok')\"")
set_tests_properties(bench_btf_program PROPERTIES TIMEOUT 600)

# SIGTERM mid-run stops bench's daemon and removes its work directory; bad options and
# unwritable outputs are reported before anything is measured
add_test(NAME bench_signal
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/signal.sh ${VMSLIM_BIN} ${VMLINUX_6_18}
          ${CMAKE_CURRENT_BINARY_DIR}/bench_signal)
set_tests_properties(bench_signal PROPERTIES TIMEOUT 300)
