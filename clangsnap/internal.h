/* clangsnap/internal.h: the snapshot's state, shared by start.c and build.c. Not API. */
#ifndef VMSLIM_CLANGSNAP_INTERNAL_H
#define VMSLIM_CLANGSNAP_INTERNAL_H

#include <pthread.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "clangsnap/clangsnap.h"

/* What identifies a file's bytes without reading them (ctime cannot be set from user
 * space, so a rewrite in place always shows). */
struct csnap_fileid {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

int csnap_fileid_get(const char *path, struct csnap_fileid *id);
int csnap_fileid_same(const struct csnap_fileid *a, const struct csnap_fileid *b);

struct vms_clangsnap {
	char *clang;			/* as given */
	char *clang_path;		/* resolved */
	struct csnap_fileid clang_id, cc1_id;
	char *cc1_path;
	struct vms_argv flags;		/* as given */
	char *header, *pch, *cwd;	/* absolute */
	struct csnap_fileid header_id, pch_id;
	dev_t header_dev;
	ino_t header_ino;
	char *work_dir;
	int own_work_dir;
	char *main_path;		/* blank template main file, main_len bytes */
	size_t main_len;
	int ctl;			/* control socket (the owner's) */
	pid_t owner;			/* the process that started the server */
	char *sock_path;		/* where forked processes connect, or NULL */
	int conn;			/* a forked process's connection, or -1 */
	pid_t conn_pid;			/* the process conn belongs to */
	int deps;			/* VMS_CLANGSNAP_DEPS_* */
	char *dep_path;			/* the template's dependency file, or NULL */
	int phony_blank;		/* this clang's -MP rules are separated by blank lines
					 * (clang 14; clang 19 writes none) */
	char *source;			/* the one program served (as the command line names
					 * it), or NULL: any program, named by a #line */
	unsigned char blank_md5[16];	/* of the template main file (DWARF 5 records it) */
	pid_t pid;			/* the server (cc1), or -1 once reaped */
	int dead;			/* the server stopped answering */
	int max_jobs, timeout_ms;
	mode_t umask;			/* read once at start: umask() is process-wide */
	int running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

/* MD5 (md5.c). */
void csnap_md5(const void *data, size_t len, unsigned char out[16]);

/* Splits a line of `clang -###` (quoted, backslash-escaped arguments). */
void csnap_split_job(const char *line, struct vms_argv *out);

#endif
