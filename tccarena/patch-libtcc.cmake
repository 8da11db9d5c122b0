# Copies the members of Debian's libtcc.a into OUT_DIR and renames the symbols TCC
# uses for its heap and its files, so they resolve to tccarena's hooks (hooks.c):
#   malloc free realloc calloc  -> vms_tcc_malloc ...   (the arena, or glibc)
#   open read close             -> vms_tcc_open ...     (virtual files, snapshot marker)
#   exit                        -> vms_tcc_exit         (library code never exits)
#   asm_instr asm_global_instr  -> vms_tcc_asm_*        (callers only: marks inline asm,
#                                                        which TCC assembles as x86)
#   tccgen_finish               -> vms_tcc_gen_finish   (libtcc.o's call only: the end of
#                                                        a translation unit, before TCC
#                                                        frees its symbol tables; a
#                                                        snapshot child leaves there)
# Every member is rewritten into a temporary name first and renamed into place, so an
# interrupted build never leaves a half-patched object behind.
file(REMOVE_RECURSE ${OUT_DIR})
file(MAKE_DIRECTORY ${OUT_DIR}/x)
execute_process(COMMAND ${AR} x ${LIBTCC_A} WORKING_DIRECTORY ${OUT_DIR}/x
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ar x ${LIBTCC_A} failed")
endif()
set(common_syms
  --redefine-sym malloc=vms_tcc_malloc --redefine-sym free=vms_tcc_free
  --redefine-sym realloc=vms_tcc_realloc --redefine-sym calloc=vms_tcc_calloc
  --redefine-sym open=vms_tcc_open --redefine-sym read=vms_tcc_read
  --redefine-sym close=vms_tcc_close --redefine-sym exit=vms_tcc_exit)
file(GLOB members RELATIVE ${OUT_DIR}/x ${OUT_DIR}/x/*.o)
foreach(m ${members})
  set(syms ${common_syms})
  # The assembler (tccasm.o) keeps its own names; only the parser's calls into it are
  # renamed, so the hook can wrap the real function.
  if(NOT m STREQUAL "tccasm.o")
    list(APPEND syms --redefine-sym asm_instr=vms_tcc_asm_instr
                     --redefine-sym asm_global_instr=vms_tcc_asm_global_instr)
  endif()
  if(m STREQUAL "libtcc.o")
    list(APPEND syms --redefine-sym tccgen_finish=vms_tcc_gen_finish)
  endif()
  execute_process(COMMAND ${OBJCOPY} ${syms} ${OUT_DIR}/x/${m} ${OUT_DIR}/${m}.tmp
    RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "objcopy ${m} failed")
  endif()
  file(RENAME ${OUT_DIR}/${m}.tmp ${OUT_DIR}/${m})
endforeach()
file(REMOVE_RECURSE ${OUT_DIR}/x)
