# pch/: PCH + manifest, `vmslim build`, `vmslim cc` (issue 4).
#
#   pch_prog_<prog>_<ver>     every program x both pinned headers, clang 14: plain clang,
#                             `vmslim build` and `vmslim cc` give the same object (objdiff),
#                             cc's bytes and dependency file equal the plain build's
#   pch_clang19_<prog>        a few programs the same way with clang-19
#   pch_unit                  flag normalization, preamble scan, cc plans, diagnostics
#   pch_depfile               dependency-file tokens, escapes, layout, rewrite (-MT, -MP)
#   pch_stale                 header byte (same size and mtime), touch, -D, included file
#   pch_compiler              clang re-pointed to another version: rebuilt
#   pch_corrupt               flipped/truncated/removed PCH or manifest: detected, rebuilt
#   pch_parallel              8 builders on an empty cache: one PCH build, all succeed
#   pch_gmodules              when -gmodules is taken, rejected, or crashes and falls back
#   pch_cc_passthrough        non-BPF compiles through `vmslim cc` = clang, exactly
#   pch_load                  --load: accepted, rejected with the verifier's log (77: refused)
#   pch_cli                   `vmslim pch`, warm cache, slim-named header, usage errors
#   pch_seal                  seals: PCH corrupted in place / same-size PCH of another
#                             header version swapped in / header rewritten, all rebuilt
#   pch_audit                 two-step (IR) builds byte-identical; refused asm directives
#   pch_sandbox               builds inside the OS sandbox: same object, .incbin reads
#                             nothing outside, no crash reproducers
#
# Tests share one cache per header (exercising the locks when ctest runs them in
# parallel); the compiler-identity cache goes to XDG_CACHE_HOME inside the build tree.

find_program(PCH_CLANG clang REQUIRED)
find_program(PCH_CLANG19 clang-19)

add_executable(test_pch ${CMAKE_CURRENT_LIST_DIR}/test_pch.c)
target_link_libraries(test_pch PRIVATE vmslim_pch vmslim_bpfobj vmslim_common)
set_target_properties(test_pch PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})

set(pch_out ${CMAKE_CURRENT_BINARY_DIR}/pch)
set(pch_fixtures ${CMAKE_CURRENT_LIST_DIR})
set(pch_env "XDG_CACHE_HOME=${pch_out}/xdg")

file(GLOB pch_progs CONFIGURE_DEPENDS ${VMSLIM_PROGS_DIR}/*.bpf.c)
list(SORT pch_progs)
foreach(prog ${pch_progs})
  get_filename_component(name ${prog} NAME)
  string(REGEX REPLACE "\\.bpf\\.c$" "" name ${name})
  foreach(pair "6.18.44;${VMLINUX_6_18}" "6.1;${VMLINUX_6_1}")
    list(GET pair 0 ver)
    list(GET pair 1 header)
    add_test(NAME pch_prog_${name}_${ver}
      COMMAND sh ${pch_fixtures}/prog.sh ${VMSLIM_BIN} ${PCH_CLANG} ${header} ${prog}
              ${pch_out}/prog/${ver}/${name} ${pch_out}/cache-${ver})
    set_tests_properties(pch_prog_${name}_${ver} PROPERTIES LABELS pch ENVIRONMENT "${pch_env}")
  endforeach()
endforeach()

if(PCH_CLANG19)
  foreach(name execsnoop core_compat xdp_filter)
    add_test(NAME pch_clang19_${name}
      COMMAND sh ${pch_fixtures}/prog.sh ${VMSLIM_BIN} ${PCH_CLANG19} ${VMLINUX_6_18}
              ${VMSLIM_PROGS_DIR}/${name}.bpf.c ${pch_out}/clang19/${name} ${pch_out}/cache-clang19)
    set_tests_properties(pch_clang19_${name} PROPERTIES LABELS pch ENVIRONMENT "${pch_env}")
  endforeach()
endif()

set(pch_prog ${VMSLIM_PROGS_DIR}/execsnoop.bpf.c)
add_test(NAME pch_unit COMMAND test_pch unit)
add_executable(test_depfile ${CMAKE_CURRENT_LIST_DIR}/test_depfile.c)
target_link_libraries(test_depfile PRIVATE vmslim_pch vmslim_common)
set_target_properties(test_depfile PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test(NAME pch_depfile COMMAND test_depfile)
add_test(NAME pch_stale
  COMMAND test_pch stale ${PCH_CLANG} ${VMLINUX_6_18} ${pch_prog} ${pch_out}/stale)
add_test(NAME pch_compiler
  COMMAND test_pch compiler ${PCH_CLANG} clang-19 ${VMLINUX_6_1} ${pch_prog} ${pch_out}/compiler)
add_test(NAME pch_corrupt
  COMMAND test_pch corrupt ${PCH_CLANG} ${VMLINUX_6_1} ${pch_prog} ${pch_out}/corrupt)
add_test(NAME pch_parallel
  COMMAND test_pch parallel ${PCH_CLANG} ${VMLINUX_6_18} ${VMSLIM_PROGS_DIR} ${pch_out}/parallel)
add_test(NAME pch_gmodules
  COMMAND test_pch gmodules ${PCH_CLANG} ${VMLINUX_6_18} ${pch_fixtures} ${VMSLIM_PROGS_DIR}
          ${pch_out}/gmodules)
add_test(NAME pch_cc_passthrough
  COMMAND sh ${pch_fixtures}/cc_passthrough.sh ${VMSLIM_BIN} ${PCH_CLANG} ${pch_out}/passthrough)
add_test(NAME pch_load
  COMMAND sh ${pch_fixtures}/load.sh ${VMSLIM_BIN} ${VMLINUX_6_18} ${pch_prog}
          ${pch_fixtures}/rejected.bpf.c ${pch_out}/load)
add_test(NAME pch_cli
  COMMAND sh ${pch_fixtures}/cli.sh ${VMSLIM_BIN} ${PCH_CLANG} ${VMLINUX_6_1} ${pch_prog}
          ${pch_out}/cli)
set_tests_properties(pch_unit pch_stale pch_compiler pch_corrupt pch_parallel pch_gmodules
  pch_cc_passthrough pch_load pch_cli pch_depfile
  PROPERTIES LABELS pch ENVIRONMENT "${pch_env}" SKIP_RETURN_CODE 77)

add_executable(test_seal ${CMAKE_CURRENT_LIST_DIR}/test_seal.c)
target_link_libraries(test_seal PRIVATE vmslim_pch vmslim_bpfobj vmslim_common)
set_target_properties(test_seal PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test(NAME pch_seal
  COMMAND test_seal seal ${PCH_CLANG} ${VMLINUX_6_18} ${pch_prog} ${pch_out}/seal)
add_test(NAME pch_audit
  COMMAND test_seal audit ${PCH_CLANG} ${VMSLIM_PROGS_DIR} ${pch_fixtures} ${VMLINUX_6_18}
          ${pch_out}/audit ${PCH_CLANG19})
add_test(NAME pch_sandbox
  COMMAND test_seal sandbox ${PCH_CLANG} ${VMLINUX_6_18} ${pch_fixtures} ${pch_out}/sandbox)
set_tests_properties(pch_seal pch_audit pch_sandbox PROPERTIES LABELS pch
  ENVIRONMENT "${pch_env}" SKIP_RETURN_CODE 77)

# pch_cache: one PCH per header and flag set from many folders, the size bound under a
# flood of -D sets, `vmslim cache` (issue 12)
add_test(NAME pch_cache
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/cache.sh ${VMSLIM_BIN} ${CMAKE_BINARY_DIR}/vmlinux/6.18.44
          ${VMSLIM_PROGS_DIR} ${CMAKE_CURRENT_BINARY_DIR}/cache)
set_tests_properties(pch_cache PROPERTIES LABELS pch SKIP_RETURN_CODE 77 TIMEOUT 900)
