# Fails the build unless every rename in libtcc-redirects.cmake took in the patched
# objects in OBJ_DIR (made by patch-libtcc.cmake); writes STAMP when they all did.
#
# objcopy --redefine-sym is silent about a symbol that is not there, so a libtcc.a built
# differently (another TCC version, a call through fopen instead of open) would give a
# TCC that bypasses the arena or the virtual files without any error. Two rules, read
# from `nm -u` of each object:
#   - no object a rename covers still has an undefined reference to the OLD name
#     (the rename did nothing there);
#   - every NEW name is an undefined reference in at least one object (the OLD name was
#     there to rename: a symbol missing from the archive is an error, not a no-op).
cmake_policy(VERSION 3.16)
include(${CMAKE_CURRENT_LIST_DIR}/libtcc-redirects.cmake)

file(GLOB objs RELATIVE ${OBJ_DIR} ${OBJ_DIR}/*.o)
if(NOT objs)
  message(FATAL_ERROR "libtcc check: no patched objects in ${OBJ_DIR}")
endif()
set(problems)
set(referenced)
foreach(m ${objs})
  execute_process(COMMAND ${NM} -P -u ${OBJ_DIR}/${m}
    OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "libtcc check: ${NM} -P -u ${OBJ_DIR}/${m} failed")
  endif()
  # POSIX format: "NAME TYPE [VALUE SIZE]", one symbol a line
  string(REGEX MATCHALL "(^|\n)[^ \n]+" undef "${out}")
  string(REPLACE "\n" "" undef "${undef}")
  foreach(entry ${VMSLIM_LIBTCC_REDIRECTS})
    vmslim_libtcc_redirect("${entry}" old new scope)
    vmslim_libtcc_applies("${scope}" ${m} applies)
    if(NOT applies)
      continue()
    endif()
    if(old IN_LIST undef)
      list(APPEND problems
        "  ${m} still calls ${old}: the rename ${old}=${new} did nothing there")
    endif()
    if(new IN_LIST undef)
      list(APPEND referenced ${new})
    endif()
  endforeach()
endforeach()
foreach(entry ${VMSLIM_LIBTCC_REDIRECTS})
  vmslim_libtcc_redirect("${entry}" old new scope)
  if(NOT new IN_LIST referenced)
    set(why "nothing was renamed to ${new}, so TCC never reaches that hook")
    list(APPEND problems "  no object (${scope}) calls ${old}: ${why}")
  endif()
endforeach()
if(problems)
  list(JOIN problems "\n" text)
  message(FATAL_ERROR "libtcc.a (${LIBTCC_A}) is not redirected as tccarena needs:\n"
    "${text}\n"
    "This libtcc differs from the one tccarena was written for: update "
    "tccarena/libtcc-redirects.cmake and the hooks in tccarena/hooks.c together.")
endif()
file(WRITE ${STAMP} "every libtcc.a redirect took\n")
