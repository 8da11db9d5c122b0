/* The WebAssembly checker's exports (wasm/check.c) and the hooks they use (hooks.c). */
#ifndef VMSLIM_WASM_H
#define VMSLIM_WASM_H

#include <stddef.h>

/* a check's wall-clock limit in ms from now (0: none), and whether it passed */
void vms_wasm_set_deadline(double ms);
int vms_wasm_timed_out(void);

/* one memory file, by path (NULL: none); the data stays the caller's */
void vms_wasm_set_memory_file(const char *path, const char *data, size_t len);

struct vms_tcc_opts;
struct vms_tcc_result;
/* check.c: the options JS configured; a result into the answer JSON */
const struct vms_tcc_opts *vms_wasm_opts(void);
void vms_wasm_answer(const struct vms_tcc_result *r);

#endif
