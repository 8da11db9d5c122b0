/* TCC's inline-assembly entry points, wrapped to count how deep the parse is inside an
 * asm statement: libtcc.a's calls are renamed to vms_tcc_asm_* (objcopy natively,
 * tcc-redirect.h in the WebAssembly build), and the checker asks vms_hooks_in_asm() to
 * tell TCC's x86 assembler complaining about BPF asm from a real error. Shared by the
 * native hooks and wasm/. */
#include "tccarena/internal.h"

void asm_instr(void);
void asm_global_instr(void);
void vms_tcc_asm_instr(void);
void vms_tcc_asm_global_instr(void);

static int asm_depth;

/* An error longjmps out of TCC before the decrement; the next check resets the count. */
void vms_tcc_asm_instr(void)
{
	asm_depth++;
	asm_instr();
	asm_depth--;
}

void vms_tcc_asm_global_instr(void)
{
	asm_depth++;
	asm_global_instr();
	asm_depth--;
}

int vms_hooks_in_asm(void)
{
	return asm_depth > 0;
}

void vms_hooks_reset_asm(void)
{
	asm_depth = 0;
}
