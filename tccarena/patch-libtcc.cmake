# Copies the members of Debian's libtcc.a into OUT_DIR and renames the symbols TCC uses
# for its heap and its files, so they resolve to tccarena's hooks (hooks.c); the list
# and why each rename is there: libtcc-redirects.cmake.
#
# Every member is rewritten into a temporary name first and renamed into place, so an
# interrupted build never leaves a half-patched object behind.
cmake_policy(VERSION 3.16)
include(${CMAKE_CURRENT_LIST_DIR}/libtcc-redirects.cmake)

file(REMOVE_RECURSE ${OUT_DIR})
file(MAKE_DIRECTORY ${OUT_DIR}/x)
execute_process(COMMAND ${AR} x ${LIBTCC_A} WORKING_DIRECTORY ${OUT_DIR}/x
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ar x ${LIBTCC_A} failed")
endif()
file(GLOB members RELATIVE ${OUT_DIR}/x ${OUT_DIR}/x/*.o)
foreach(m ${members})
  set(syms)
  foreach(entry ${VMSLIM_LIBTCC_REDIRECTS})
    vmslim_libtcc_redirect("${entry}" old new scope)
    vmslim_libtcc_applies("${scope}" ${m} applies)
    if(applies)
      list(APPEND syms --redefine-sym ${old}=${new})
    endif()
  endforeach()
  execute_process(COMMAND ${OBJCOPY} ${syms} ${OUT_DIR}/x/${m} ${OUT_DIR}/${m}.tmp
    RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "objcopy ${m} failed")
  endif()
  file(RENAME ${OUT_DIR}/${m}.tmp ${OUT_DIR}/${m})
endforeach()
file(REMOVE_RECURSE ${OUT_DIR}/x)
