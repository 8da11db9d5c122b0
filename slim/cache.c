/* The derived headers' cache: one file per (full header, set of declarations used).
 *
 * The name is the hash of the full header's bytes, the set (one need level per
 * declaration of the header's graph) and the -D/-U flags. The bytes of a slim header
 * follow from the header's text and graph and the set; the graph follows from the text,
 * except where a -D/-U reaches an #if of the header, hence the flags in the key (bpftool's
 * vmlinux.h has no such #if; a hand-written header might). Programs that use the same
 * declarations, whatever their names or order, share one file. A file is written whole
 * (temporary file, rename), so a reader sees the old state or the new one, never half. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

#include "slim/internal.h"

static struct vms_hash128 entry_key(const struct vms_extract_ctx *x,
				    const struct vms_extract_uses *u, const char *const *flags)
{
	struct vms_hasher *h = vms_hasher_new();
	vms_hasher_update_str(h, "vmslim-slim-header 1");
	struct vms_hash128 hh = vms_extract_ctx_header_hash(x);
	vms_hasher_update(h, &hh, sizeof(hh));
	vms_hasher_update(h, &u->n, sizeof(u->n));
	vms_hasher_update(h, &u->hash, sizeof(u->hash));
	struct vms_argv nf;
	vms_flags_normalize(flags, &nf);
	for (size_t i = 0; i < nf.n; i++)
		if (!strncmp(nf.v[i], "-D", 2) || !strncmp(nf.v[i], "-U", 2))
			vms_hasher_update_str(h, nf.v[i]);
	vms_argv_free(&nf);
	struct vms_hash128 k = vms_hasher_digest(h);
	vms_hasher_free(h);
	return k;
}

int slim_cache_header(const char *cache_dir, const struct vms_extract_ctx *x,
		      const struct vms_extract_uses *u, const char *const *flags, char **path,
		      int *hit, struct vms_diags *d)
{
	char hex[33];
	vms_hash128_hex(entry_key(x, u, flags), hex);
	char *dir = vms_xasprintf("%s/slim", cache_dir);
	*path = vms_xasprintf("%s/%s.h", dir, hex);
	*hit = 0;
	struct stat st;
	if (stat(*path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		/* not touched on use (the trimmer then takes it by age): a clang snapshot
		 * of this header knows it by its stat, and a touch would make it stale */
		*hit = 1;
		free(dir);
		return 0;
	}
	char *text = NULL;
	size_t len = 0;
	int rc = vms_extract_emit_uses(x, u, NULL, &text, &len, NULL, d);
	int e = rc ? 0 : vms_mkdir_p(dir, 0755);
	if (!rc && !e)
		e = vms_write_file_atomic(*path, text, len, 0644);
	if (e) {
		vms_diag_add(d, VMS_ERROR, *path, 0, 0, "cannot write the slim header: %s",
			     strerror(-e));
		rc = -1;
	}
	if (rc)
		free(*path), *path = NULL;
	free(text);
	free(dir);
	return rc;
}
