/* Placeholder until the slim path lands: every entry point says it does not apply, so
 * callers take the full-header path. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "slim/slim.h"

int vms_slim_ctx_new(const char *full_header, const char *const *flags, const char *cache_dir,
		     struct vms_slim_ctx **out, struct vms_diags *d)
{
	(void)full_header; (void)flags; (void)cache_dir;
	*out = NULL;
	vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "the slim path is not built yet");
	return -1;
}

int vms_slim_ctx_matches(const struct vms_slim_ctx *c, const char *full_header,
			 const char *const *flags)
{
	(void)c; (void)full_header; (void)flags;
	return 0;
}

void vms_slim_ctx_free(struct vms_slim_ctx *c)
{
	(void)c;
}

int vms_slim_build(const struct vms_slim_build_opts *o, struct vms_build_result *r,
		   struct vms_diags *d)
{
	(void)o; (void)d;
	memset(r, 0, sizeof(*r));
	r->mode = strdup("the slim path is not built yet");
	r->clang_stderr = strdup("");
	return 2;
}

int vms_slim_extract(struct vms_slim_ctx *c, const char *source, const char *const *flags,
		     char **out, size_t *out_len, struct vms_extract_stats *st,
		     struct vms_diags *d)
{
	(void)c; (void)source; (void)flags; (void)st;
	*out = NULL;
	*out_len = 0;
	vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "the slim path is not built yet");
	return -1;
}
