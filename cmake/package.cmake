# `cpack -G DEB` (from the build directory): a Debian package of what `cmake --install`
# installs, under /usr. Shared libraries linked at build time become dependencies through
# dpkg-shlibdeps; what vmslim runs or opens at run time is named here: clang (every BPF
# compile), the libclang that extract and the exact checker dlopen, and tcc (the runtime
# headers of the TCC checker, /usr/lib/<arch>/tcc).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vmslim)
set(CPACK_PACKAGE_VENDOR "vmslim")
set(CPACK_PACKAGE_CONTACT "vmslim maintainers <maintainers@vmslim.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "fast eBPF development: slim vmlinux.h, millisecond checks, cached BPF builds")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)

# the package that holds the libclang we dlopen (libclang1-14 on Debian 12)
set(vmslim_libclang_pkg "")
get_filename_component(vmslim_libclang_real "${LIBCLANG_LIBRARY}" REALPATH)
execute_process(COMMAND dpkg-query -S "${vmslim_libclang_real}"
  OUTPUT_VARIABLE vmslim_libclang_owner ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
if(vmslim_libclang_owner MATCHES "^([^:]+):")
  set(vmslim_libclang_pkg ", ${CMAKE_MATCH_1}")
endif()
set(CPACK_DEBIAN_PACKAGE_DEPENDS "clang, tcc${vmslim_libclang_pkg}")
# libmicrohttpd is dlopen'ed by `serve --http` only (serve/mhd_dl.c), so shlibdeps cannot
# see it: the HTTP front is a recommendation, not a dependency
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libbpf-dev, bpftool, libmicrohttpd12")
include(CPack)
