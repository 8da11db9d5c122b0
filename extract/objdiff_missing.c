/* Built only while extract/objdiff.c does not exist yet. */
#include "extract/extract.h"

int vms_obj_compare(const char *a_path, const char *b_path, struct vms_diags *d)
{
	vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "object comparison of %s and %s is not built", a_path,
		     b_path);
	return -1;
}
