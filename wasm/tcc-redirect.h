/* Forced into every TCC source file of the WebAssembly build (-include): the same
 * renames the native build makes with objcopy (tccarena/libtcc-redirects.cmake), made
 * by the preprocessor instead, since here TCC is compiled from Debian's source.
 *
 * The heap is the exception: libtcc.c #undef's malloc, free and realloc before its only
 * calls to them, so wasm/hooks.c replaces the module's malloc & co. at link time instead.
 *
 * The system headers come first so that their own declarations keep the real names;
 * only TCC's calls, after this point, are renamed. VMS_TCC_ASM_FILE marks tccasm.c,
 * which keeps asm_instr's real name so that the hook can wrap it; VMS_TCC_LIBTCC_FILE
 * marks libtcc.c, whose call of tccgen_finish (defined in tccgen.c) goes to the hook. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define open vms_tcc_open
#define read vms_tcc_read
#define close vms_tcc_close
#define exit vms_tcc_exit
#ifdef VMS_TCC_LIBTCC_FILE
/* libtcc.c's call only: the end of a translation unit, before TCC's teardown */
#define tccgen_finish vms_tcc_gen_finish
#endif
#ifndef VMS_TCC_ASM_FILE
#define asm_instr vms_tcc_asm_instr
#define asm_global_instr vms_tcc_asm_global_instr
#endif

int vms_tcc_open(const char *path, int flags, ...);
ssize_t vms_tcc_read(int fd, void *buf, size_t n);
int vms_tcc_close(int fd);
void vms_tcc_exit(int code) __attribute__((noreturn));
