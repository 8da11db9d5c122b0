/* bpfobj: questions asked of compiled BPF objects — are two of them the same program,
 * does the running kernel accept one, is the BTF of a -gmodules build complete. */
#ifndef VMSLIM_BPFOBJ_H
#define VMSLIM_BPFOBJ_H

#include "common/common.h"

/* ---- comparison ------------------------------------------------------------------- */

/* Compares two BPF ELF objects: the bytes of every allocated section (program text,
 * .rodata, .data, license, .maps...), their relocations (offset, type, symbol name), the
 * global symbols, and the CO-RE relocation records of .BTF.ext (section, instruction
 * offset, kind, access string, root type name). BTF type IDs and debug info may differ.
 * Each difference is one short error in d saying what differs, where, and both values
 * ("section .text: instruction 17 differs: r1 = 2 (full) vs r1 = 3 (slim)", objects
 * named by file name without ".o", or by the ends of their paths when the names are
 * equal), followed by notes with the long renderings (whole map definitions,
 * instruction bytes). Returns 0 when equal, 1 when they differ, -1 when an object
 * cannot be read (diagnostic in d). */
int vms_obj_compare(const char *a_path, const char *b_path, struct vms_diags *d);

#define VMS_OBJ_DIFFS_SHOWN 20	/* what the CLI shows before "... and N more differences" */

/* Readies vms_obj_compare()'s diagnostics for showing: keeps the first max errors, turns
 * the rest into one "... and N more differences" error, and drops the notes that detail
 * an error unless verbose (notes that follow a dropped error go with it). Returns how
 * many errors d held. */
size_t vms_obj_diffs_trim(struct vms_diags *d, size_t max, int verbose);

/* ---- loading (libbpf) ------------------------------------------------------------- */

enum vms_load_result {
	VMS_LOAD_OK = 0,	/* every program in the object was accepted by the verifier */
	VMS_LOAD_REJECTED = 1,	/* the verifier (or libbpf) rejected it: see log */
	VMS_LOAD_REFUSED = 2,	/* this machine does not allow loading (EPERM, no BPF...) */
	VMS_LOAD_ERROR = 3,	/* the object could not be opened or parsed */
};

/* Opens the object with libbpf, loads it into the running kernel (maps created, programs
 * verified), then unloads everything. *log receives libbpf's and the verifier's messages
 * (owned, NUL-terminated, never NULL). */
enum vms_load_result vms_bpf_load_object(const char *obj_path, char **log);

/* ---- BTF completeness of -gmodules objects ---------------------------------------- */

/* Is an object built with -gmodules as good as one built with -g, i.e. is no forward
 * declaration reachable from any VAR or FUNC of its BTF? Returns 1 when it is, 0 when not
 * (one note in d naming the variable or function and the incomplete type), -1 when the
 * object's BTF cannot be read (an error in d). */
int vms_btf_gmodules_complete(const char *obj_path, struct vms_diags *d);

#endif
