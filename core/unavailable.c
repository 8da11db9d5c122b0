/* core without libbpf's relocation engine: the build found no libbpf internal headers
 * (Debian's libbpf source package could not be fetched), so `vmslim core` says so. */
#include "core/core.h"

#include <string.h>

int vms_core_available(const char **why)
{
	if (why)
		*why = VMSLIM_CORE_MISSING;
	return 0;
}

int vms_core_resolve(const char *obj_path, const char *const *targets, size_t ntargets,
		     struct vms_core_report *out, struct vms_diags *d)
{
	memset(out, 0, sizeof(*out));
	vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "CO-RE resolution is not in this build: %s",
		     VMSLIM_CORE_MISSING);
	return -1;
}

void vms_core_report_free(struct vms_core_report *r)
{
	memset(r, 0, sizeof(*r));
}
