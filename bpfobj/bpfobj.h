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
 * Returns 0 when equal, 1 when they differ (each difference is a diagnostic in d),
 * -1 when an object cannot be read (diagnostic in d). */
int vms_obj_compare(const char *a_path, const char *b_path, struct vms_diags *d);

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
