/* The warm context of the slim path, and a program's slim header through it.
 *
 * A context is extract/warm.c's (the header's graph, and a libclang unit whose precompiled
 * preamble is the header) plus what tells whether it still fits a build: the header's
 * identity (device, inode, size, mtime, ctime) as it was when its bytes were read, and the
 * flags. The identity is taken before and after the read: a header rewritten meanwhile
 * gives no context rather than one whose graph matches neither version. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "slim/internal.h"

static int same_identity(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static int same_flags(const struct vms_argv *a, const char *const *b)
{
	struct vms_argv v = { .v = (char **)b };
	while (b && b[v.n])
		v.n++;
	v.cap = v.n;
	return vms_argv_equal(a, &v);
}

int vms_slim_ctx_new(const char *full_header, const char *const *flags, const char *cache_dir,
		     struct vms_slim_ctx **out, struct vms_diags *d)
{
	*out = NULL;
	struct vms_slim_ctx *c = vms_xcalloc(1, sizeof(*c));
	c->header = vms_xstrdup(full_header);
	c->real = vms_realpath(full_header);
	c->cache_dir = cache_dir ? vms_xstrdup(cache_dir) : vms_cache_dir_default();
	for (size_t i = 0; flags && flags[i]; i++)
		vms_argv_push(&c->flags, flags[i]);
	struct stat after;
	if (!c->real || stat(c->real, &c->st) < 0) {
		vms_diag_add(d, VMS_ERROR, full_header, 0, 0, "cannot read header: %s",
			     strerror(errno));
		vms_slim_ctx_free(c);
		return -1;
	}
	/* a context is known by its file's identity, and made on the daemon's loop: a
	 * device or a pipe (/dev/zero) has neither an identity nor an end */
	if (!S_ISREG(c->st.st_mode)) {
		vms_diag_add(d, VMS_ERROR, full_header, 0, 0, "not a regular file");
		vms_slim_ctx_free(c);
		return -1;
	}
	if (vms_extract_ctx_new(full_header, flags, &c->x, d) < 0) {
		vms_slim_ctx_free(c);
		return -1;
	}
	if (stat(c->real, &after) < 0 || !same_identity(&c->st, &after)) {
		vms_diag_add(d, VMS_ERROR, full_header, 0, 0, "the header changed while it was read");
		vms_slim_ctx_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

int vms_slim_ctx_matches(const struct vms_slim_ctx *c, const char *full_header,
			 const char *const *flags)
{
	if (!c || !full_header || !same_flags(&c->flags, flags))
		return 0;
	char *real = vms_realpath(full_header);
	struct stat st;
	int ok = real && !strcmp(real, c->real) && stat(real, &st) == 0 &&
		 same_identity(&st, &c->st);
	free(real);
	return ok;
}

void vms_slim_ctx_free(struct vms_slim_ctx *c)
{
	if (!c)
		return;
	vms_extract_ctx_free(c->x);
	vms_argv_free(&c->flags);
	free(c->header), free(c->real), free(c->cache_dir);
	free(c);
}

/* What `vmslim extract --header H --from PROG -- FLAGS` prints, by the warm unit when it
 * reads the program exactly as clang would, else by that very extraction (the cold path
 * is the definition; warm.c hands back every program it cannot vouch for). */
int vms_slim_extract(struct vms_slim_ctx *c, const char *source, const char *const *flags,
		     char **out, size_t *out_len, struct vms_extract_stats *st,
		     struct vms_diags *d)
{
	*out = NULL;
	*out_len = 0;
	struct vms_extract_uses u;
	char *why = NULL;
	int rc = vms_extract_warm_uses(c->x, source, flags, &u, &why, d);
	free(why);
	if (rc == 0)
		rc = vms_extract_emit_uses(c->x, &u, source, out, out_len, st, d);
	vms_extract_uses_free(&u);
	if (rc <= 0)
		return rc;
	const char *progs[] = { source, NULL };
	struct vms_extract_opts o = { .header_path = c->header, .programs = progs,
				      .clang_args = flags };
	return vms_extract(&o, out, out_len, st, d);
}
