/* --slim as every command means it: the slim build where it applies, and where it does
 * not, the very build the command makes without --slim. The CLI's build and cc and the
 * per-user daemon's call this one function, so they cannot disagree on when to fall
 * back. */
#include <stdlib.h>
#include <string.h>

#include "slim/slim.h"

int vms_slim_or_full_build(const struct vms_build_opts *b, const struct vms_slim_build_opts *so,
			   struct vms_build_result *r, struct vms_diags *d, char **slim_why)
{
	*slim_why = NULL;
	if (so) {
		struct vms_slim_build_opts o = *so;
		o.build = b;
		int rc = vms_slim_build(&o, r, d);
		if (rc != 2)
			return rc;
		*slim_why = r->mode ? r->mode : vms_xstrdup("the slim path does not apply");
		r->mode = NULL;
		vms_build_result_free(r);
		vms_diags_free(d);
	}
	return vms_build(b, r, d);
}
