# The libtcc.a symbols tccarena redirects, in one place: patch-libtcc.cmake renames them
# with objcopy --redefine-sym, check-libtcc.cmake fails the build unless every rename
# took. Each entry is OLD=NEW@MEMBERS, MEMBERS being `*` (every member of the archive),
# `!x.o` (every member but x.o) or `x.o` (that member only):
#   malloc free realloc calloc  -> vms_tcc_malloc ...   (the arena, or glibc)
#   open read close             -> vms_tcc_open ...     (virtual files, snapshot marker)
#   exit                        -> vms_tcc_exit         (library code never exits)
#   asm_instr asm_global_instr  -> vms_tcc_asm_*        (callers only: marks inline asm,
#                                                        which TCC assembles as x86; the
#                                                        assembler, tccasm.o, keeps its
#                                                        own names so the hook can wrap
#                                                        the real function)
#   tccgen_finish               -> vms_tcc_gen_finish   (libtcc.o's call only: the end of
#                                                        a translation unit, before TCC
#                                                        frees its symbol tables; a
#                                                        snapshot child leaves there)
# The NEW names are defined in hooks.c.
set(VMSLIM_LIBTCC_REDIRECTS
  "malloc=vms_tcc_malloc@*"
  "free=vms_tcc_free@*"
  "realloc=vms_tcc_realloc@*"
  "calloc=vms_tcc_calloc@*"
  "open=vms_tcc_open@*"
  "read=vms_tcc_read@*"
  "close=vms_tcc_close@*"
  "exit=vms_tcc_exit@*"
  "asm_instr=vms_tcc_asm_instr@!tccasm.o"
  "asm_global_instr=vms_tcc_asm_global_instr@!tccasm.o"
  "tccgen_finish=vms_tcc_gen_finish@libtcc.o")

# vmslim_libtcc_redirect(<entry> <old-var> <new-var> <members-var>): one entry's parts.
function(vmslim_libtcc_redirect entry old new members)
  if(NOT entry MATCHES "^([^=@]+)=([^=@]+)@(.+)$")
    message(FATAL_ERROR "libtcc-redirects.cmake: bad entry '${entry}' (want OLD=NEW@MEMBERS)")
  endif()
  set(${old} ${CMAKE_MATCH_1} PARENT_SCOPE)
  set(${new} ${CMAKE_MATCH_2} PARENT_SCOPE)
  set(${members} ${CMAKE_MATCH_3} PARENT_SCOPE)
endfunction()

# vmslim_libtcc_applies(<members> <member> <out-var>): TRUE when an entry's MEMBERS
# cover the archive member <member>.
function(vmslim_libtcc_applies members member out)
  if(members STREQUAL "*" OR members STREQUAL member)
    set(${out} TRUE PARENT_SCOPE)
  elseif(members MATCHES "^!(.+)$" AND NOT CMAKE_MATCH_1 STREQUAL member)
    set(${out} TRUE PARENT_SCOPE)
  else()
    set(${out} FALSE PARENT_SCOPE)
  endif()
endfunction()
