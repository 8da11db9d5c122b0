/* Internal to slim/: the warm context, where the full header is, the derived header's
 * cache entry, and the dependency-file rewrite. */
#ifndef VMSLIM_SLIM_INTERNAL_H
#define VMSLIM_SLIM_INTERNAL_H

#include <sys/stat.h>

#include "slim/slim.h"

struct vms_slim_ctx {
	struct vms_extract_ctx *x;	/* the header's graph and its warm unit */
	char *header;			/* as given */
	char *real;			/* symlinks resolved: what matches() compares */
	struct stat st;			/* the header's identity when it was read */
	struct vms_argv flags;
	char *cache_dir;
};

/* header.c: where `#include "vmlinux.h"` (<vmlinux.h> when angled) of source lands with
 * these flags, searching as clang does: the path clang would list in a dependency file
 * (symlinks kept), owned, or NULL when no directory has one. */
char *slim_find_header(const char *source, int angled, const char *const *flags);
/* path made absolute against the working directory, as vms_build makes build->header */
char *slim_abspath(const char *path);
/* 1 when the flags -include or -imacros a file: the slim header cannot go in front of
 * them without changing what they see. */
int slim_flags_preinclude(const char *const *flags);

/* cache.c: the derived header for these uses, as a file in cache_dir/slim/ named by the
 * full header's hash, the set of declarations used and the -D/-U flags (programs that use
 * the same declarations share it). *hit: it was there already. 0, or -1 with a
 * diagnostic. */
int slim_cache_header(const char *cache_dir, const struct vms_extract_ctx *x,
		      const struct vms_extract_uses *u, const char *const *flags, char **path,
		      int *hit, struct vms_diags *d);

/* depfile.c: dependency-file text with every dependency that is the derived header (is_derived
 * says so: its path, or the include shim, a symlink to it) turned into the full header,
 * each dependency listed once. Owned; NULL when nothing changed. */
char *slim_dep_rewrite(const char *text, size_t len, const char *full,
		       int (*is_derived)(const char *path, void *arg), void *arg);
/* The file rewritten in place (atomically); no file, nothing to do: 0. -errno. */
int slim_fix_depfile(const char *path, const char *derived, const char *full);

#endif
