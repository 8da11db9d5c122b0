/* The jail: what the operating system lets an untrusted compile of this daemon touch.
 *
 * Every clang that reads a request's source (a build, a clang check) and the TCC snapshot
 * helper run inside common/sandbox.h's confinement, a second wall behind the include scan
 * (confine.c) that holds even where the scan is fooled (a directive it cannot see, an
 * assembler `.incbin`, a compiler bug). What a compile may read is listed precisely:
 *  - the compiler's own files: its binary, the shared libraries the dynamic loader maps
 *    for it, /etc/ld.so.cache, and its resource directory (stddef.h and friends) — not
 *    the rest of /usr, nothing else of /etc;
 *  - the -I directories and the --header file;
 *  - the request's own job directory, which is also the only place it may write;
 *  - the PCH and the header it was built from (vms_build adds those itself).
 * Never the daemon's cache, its scratch, or another job's directory. */
#include "serve/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int jail_init(struct jail *j, unsigned mech, const char *clang, const char *resource_dir,
	      const char *const *inc, size_t ninc, const char *header, const char *scratch,
	      struct vms_diags *d)
{
	memset(j, 0, sizeof(*j));
	j->mech = mech;
	if (!mech)
		return 0;
	int e = vms_sandbox_program_files(clang, &j->read);
	if (e < 0) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0,
			     "sandbox: cannot list the files %s needs to run: %s", clang,
			     strerror(-e));
		return e;
	}
	if (resource_dir)
		vms_argv_push(&j->read, resource_dir);
	for (size_t i = 0; i < ninc; i++)
		vms_argv_push(&j->read, inc[i]);
	if (header)
		vms_argv_push(&j->read, header);
	/* the mount namespace's root is built on an empty directory that stays empty */
	j->root = vms_xasprintf("%s/root", scratch);
	if (mkdir(j->root, 0700) < 0 && errno != EEXIST) {
		e = -errno;
		vms_diag_add(d, VMS_ERROR, j->root, 0, 0, "sandbox: %s", strerror(errno));
		return e;
	}
	return 0;
}

void jail_free(struct jail *j)
{
	vms_argv_free(&j->read);
	free(j->root);
	memset(j, 0, sizeof(*j));
}

void jail_for_job(const struct jail *j, const char *job_dir, struct jail_job *out)
{
	memset(out, 0, sizeof(*out));
	if (!j->mech)
		return;
	for (size_t i = 0; i < j->read.n; i++)
		vms_argv_push(&out->read, j->read.v[i]);
	vms_argv_push(&out->write, job_dir); /* readable too */
	out->sb = (struct vms_sandbox){
		.read = (const char *const *)out->read.v,
		.write = (const char *const *)out->write.v,
		.mech = j->mech,
		.root = j->root,
		.cwd = job_dir,
	};
	out->active = 1;
}

void jail_job_free(struct jail_job *jj)
{
	vms_argv_free(&jj->read);
	vms_argv_free(&jj->write);
	memset(jj, 0, sizeof(*jj));
}
