/* The backends a request is answered by: the TCC snapshot checker (tccarena/), clang
 * -fsyntax-only for what it cannot judge, and BPF builds through the PCH path (pch/). */
#include "serve/internal.h"

#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bpf_cmdline.h"
#include "tccarena/tccarena.h"
#include "pch/pch.h"


struct backend {
	struct vms_argv inc;		/* -I directories, absolute */
	struct vms_argv flags;		/* always-on flags */
	char *clang;
	char *clang_version;
	char *clang_path;		/* resolved: a sandbox has no PATH to search */
	char *resource_dir;		/* clang's -print-resource-dir */
	char *resource_include;		/* clang's built-in headers */
	char *headers_dir;
	char *cache_dir;
	char *vmlinux;			/* header "vmlinux.h" opens; NULL: clang finds it */
	char *scratch;			/* private: src/ (empty, the checker's source dir), jobs/ */
	char *src_dir;
	char *hdr_dir;			/* --header: holds a vmlinux.h symlink to it */
	int untrusted;
	int refuse_unconfined;		/* no OS sandbox here: clang never sees a request */
	int header_override;		/* --header: "vmlinux.h" is not under the -I dirs */
	struct vms_hash128 identity;
	const char *sys[2];
	size_t nsys;
	struct vms_tcc_checker *checker;
	struct jail jail;		/* what untrusted compiles may touch */
	pthread_mutex_t stats_lock;
	struct vms_tcc_stats stats;
};

/* ---- identity ----------------------------------------------------------------- */

static void hash_tree(struct vms_hasher *h, const char *path, int depth)
{
	struct stat st;
	if (depth > 8 || lstat(path, &st) < 0)
		return;
	vms_hasher_update_str(h, vms_basename(path));
	if (S_ISREG(st.st_mode)) {
		char *data;
		size_t len;
		if (vms_read_file(path, &data, &len) == 0) {
			vms_hasher_update(h, data, len);
			free(data);
		}
		return;
	}
	if (!S_ISDIR(st.st_mode))
		return;
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			char *child = vms_xasprintf("%s/%s", path, names[i]->d_name);
			hash_tree(h, child, depth + 1);
			free(child);
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

static char *run_line(char *const argv[])
{
	struct vms_proc_result pr;
	if (vms_run(argv, NULL, 0, 30000, &pr) < 0)
		return NULL;
	char *out = NULL;
	if (pr.exit_code == 0) {
		size_t n = pr.out_len;
		while (n && (pr.out[n - 1] == '\n' || pr.out[n - 1] == ' '))
			n--;
		out = vms_xstrndup(pr.out, n);
	}
	vms_proc_result_free(&pr);
	return out;
}

/* clang's -print-resource-dir, remembered in the cache directory next to the compiler
 * identities (pch/compiler.c) under the identity's id: the directory follows from the
 * binary's resolved path and version, which the id hashes. An exec of clang is ~20 ms of
 * a daemon's start-up, before it can answer anyone. Owned, or NULL. */
static char *resource_dir_of(const struct backend *b, const char *comp_hex)
{
	char *file = vms_xasprintf("%s/compilers/%s.resource-dir", b->cache_dir, comp_hex);
	char *data = NULL, *res = NULL;
	size_t n = 0;
	if (vms_read_file(file, &data, &n) == 0 && n > 1 && data[0] == '/' &&
	    data[n - 1] == '\n' && !memchr(data, 0, n)) {
		data[n - 1] = 0;
		res = data;
	} else {
		free(data);
		char *rd[] = { b->clang, "-print-resource-dir", NULL };
		res = run_line(rd);
		if (res && res[0] == '/' && !strchr(res, '\n')) {
			/* best effort, as the identities: a failed write costs the next start */
			char *line = vms_xasprintf("%s\n", res);
			vms_write_file_atomic(file, line, strlen(line), 0644);
			free(line);
		}
	}
	free(file);
	return res;
}

static void compute_identity(struct backend *b)
{
	struct vms_hasher *h = vms_hasher_new();
	vms_hasher_update_str(h, "vmslim-serve/1");
	/* the daemon's own binary: a rebuilt vmslim may answer differently */
	struct stat st;
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		vms_hasher_update_str(h, self);
		if (stat(self, &st) == 0) {
			vms_hasher_update(h, &st.st_size, sizeof(st.st_size));
			vms_hasher_update(h, &st.st_mtim, sizeof(st.st_mtim));
		}
	}
	vms_hasher_update_str(h, b->clang);
	vms_hasher_update_str(h, b->clang_version ? b->clang_version : "?");
	if (b->headers_dir)
		hash_tree(h, b->headers_dir, 0);
	for (size_t i = 0; i < b->inc.n; i++)
		vms_hasher_update_str(h, b->inc.v[i]);
	for (size_t i = 0; i < b->flags.n; i++)
		vms_hasher_update_str(h, b->flags.v[i]);
	vms_hasher_update_str(h, b->vmlinux ? b->vmlinux : "");
	b->identity = vms_hasher_digest(h);
	vms_hasher_free(h);
}

/* ---- setup -------------------------------------------------------------------- */

int backend_new(const struct vms_backend_opts *o, struct backend **out, struct vms_diags *d)
{
	struct backend *b = vms_xcalloc(1, sizeof(*b));
	b->untrusted = o->untrusted;
	b->refuse_unconfined = o->untrusted && o->refuse_unconfined;
	for (size_t i = 0; i < o->n_inc; i++) {
		char *r = vms_realpath(o->inc_dirs[i]);
		struct stat st;
		int e = !r ? errno : stat(r, &st) < 0 ? errno : !S_ISDIR(st.st_mode) ? ENOTDIR : 0;
		if (e) {
			vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "header directory %s: %s",
				     o->inc_dirs[i], strerror(e));
			free(r);
			backend_free(b);
			return -e;
		}
		vms_argv_push(&b->inc, r);
		free(r);
	}
	for (size_t i = 0; i < o->n_flags; i++)
		vms_argv_push(&b->flags, o->flags[i]);
	const char *cl = o->clang ? o->clang : getenv("VMSLIM_CLANG");
	b->clang = vms_xstrdup(cl && *cl ? cl : "clang");
	b->headers_dir = o->headers_dir ? vms_xstrdup(o->headers_dir) : NULL;
	b->cache_dir = o->cache_dir ? vms_xstrdup(o->cache_dir) : vms_cache_dir_default();
	if (o->header) {
		b->header_override = 1;
		b->vmlinux = vms_realpath(o->header);
		if (!b->vmlinux) {
			vms_diag_add(d, VMS_ERROR, o->header, 0, 0, "cannot open header: %s",
				     strerror(errno));
			backend_free(b);
			return -ENOENT;
		}
	} else {
		for (size_t i = 0; i < b->inc.n && !b->vmlinux; i++) {
			char *p = vms_xasprintf("%s/vmlinux.h", b->inc.v[i]);
			if (access(p, R_OK) == 0)
				b->vmlinux = p;
			else
				free(p);
		}
	}

	struct vms_compiler comp = { 0 };
	if (vms_compiler_identify(b->clang, b->cache_dir, &comp, d) < 0) {
		backend_free(b);
		return -ENOENT;
	}
	b->clang_version = vms_xasprintf("%s\n%s", comp.path, comp.version);
	b->clang_path = vms_xstrdup(comp.path);
	char comp_hex[sizeof(comp.id_hex)];
	memcpy(comp_hex, comp.id_hex, sizeof(comp_hex));
	vms_compiler_free(&comp);
	/* Only the include scan of untrusted sources needs the compilers' own header
	 * directories; an editor's server should not wait for another exec of clang. */
	if (b->untrusted) {
		char *res = resource_dir_of(b, comp_hex);
		if (res) {
			b->resource_include = vms_xasprintf("%s/include", res);
			b->resource_dir = res;
			b->sys[b->nsys++] = b->resource_include;
		}
		if (access(VMS_TCC_DEFAULT_LIB_DIR "/include", R_OK) == 0)
			b->sys[b->nsys++] = VMS_TCC_DEFAULT_LIB_DIR "/include";
	}

	b->scratch = scratch_create();
	if (!b->scratch) {
		int e = errno;
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "cannot make a scratch directory: %s",
			     strerror(e));
		backend_free(b);
		return -e;
	}
	b->src_dir = vms_xasprintf("%s/src", b->scratch);
	mkdir(b->src_dir, 0700);
	char *jobs = vms_xasprintf("%s/jobs", b->scratch);
	mkdir(jobs, 0700);
	free(jobs);
	if (b->header_override) {
		b->hdr_dir = vms_xasprintf("%s/hdr", b->scratch);
		mkdir(b->hdr_dir, 0700);
		char *link = vms_xasprintf("%s/vmlinux.h", b->hdr_dir);
		if (symlink(b->vmlinux, link) < 0)
			vms_diag_add(d, VMS_WARNING, link, 0, 0, "cannot link the header: %s",
				     strerror(errno));
		free(link);
	}

	if (jail_init(&b->jail, o->sandbox_mech, b->clang, b->resource_dir,
		      (const char *const *)b->inc.v, b->inc.n, b->header_override ? b->vmlinux : NULL,
		      b->scratch, d) < 0) {
		backend_free(b);
		return -EPERM;
	}
	char *tcc_root = NULL;
	if (o->sandbox_mech) {
		tcc_root = vms_xasprintf("%s/tccroot", b->scratch);
		mkdir(tcc_root, 0700);
	}

	pthread_mutex_init(&b->stats_lock, NULL);
	if (!b->headers_dir) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "the checker needs vmslim's headers/");
		backend_free(b);
		return -EINVAL;
	}
	const char **inc = vms_xcalloc(b->inc.n + 1, sizeof(char *));
	for (size_t i = 0; i < b->inc.n; i++)
		inc[i] = b->inc.v[i];
	const char **defs = vms_xcalloc(b->flags.n + 1, sizeof(char *));
	size_t nd = 0;
	for (size_t i = 0; i < b->flags.n; i++)
		if (!strncmp(b->flags.v[i], "-D", 2) && b->flags.v[i][2])
			defs[nd++] = b->flags.v[i] + 2;
	struct vms_tcc_opts to = {
		.headers_dir = b->headers_dir,
		.include_dirs = inc,
		.defines = defs,
		.vmlinux_header = b->vmlinux,
		.confine = b->untrusted,
		.sandbox_mech = b->untrusted ? o->sandbox_mech : 0,
		.sandbox_root = tcc_root,
		.time_limit_ms = 10000,
	};
	int r = vms_tcc_checker_new(&to, &b->checker, d);
	free(tcc_root);
	free(inc);
	free(defs);
	if (r < 0) {
		backend_free(b);
		return r;
	}
	compute_identity(b);
	*out = b;
	return 0;
}

void backend_free(struct backend *b)
{
	if (!b)
		return;
	vms_tcc_checker_free(b->checker);
	pthread_mutex_destroy(&b->stats_lock);
	if (b->scratch)
		scratch_remove(b->scratch);
	vms_argv_free(&b->inc);
	vms_argv_free(&b->flags);
	free(b->clang);
	free(b->clang_version);
	free(b->clang_path);
	free(b->resource_include);
	free(b->resource_dir);
	jail_free(&b->jail);
	free(b->headers_dir);
	free(b->cache_dir);
	free(b->vmlinux);
	free(b->scratch);
	free(b->src_dir);
	free(b->hdr_dir);
	free(b);
}

const char *const *backend_sys_dirs(const struct backend *b, size_t *n)
{
	*n = b->nsys;
	return b->sys;
}

void backend_identity(const struct backend *b, struct vms_hasher *h)
{
	vms_hasher_update(h, &b->identity, sizeof(b->identity));
}

const char *backend_vmlinux(const struct backend *b)
{
	return b->vmlinux;
}

const char *backend_scratch(const struct backend *b)
{
	return b->scratch;
}

const char *backend_vmlinux_dir(const struct backend *b)
{
	return b->header_override ? b->hdr_dir : NULL;
}

/* ---- clang ---------------------------------------------------------------------- */

/* 1 (with the answer in r) when this daemon may not run clang on a stranger's source. */
static int refused_unconfined(const struct backend *b, struct vms_result *r)
{
	if (!b->refuse_unconfined)
		return 0;
	r->status = VMS_ST_REFUSED;
	vms_diag_add(&r->diags, VMS_ERROR, NULL, 0, 0,
		     "refused: this daemon cannot confine compilers here (no Landlock, no mount "
		     "namespace); it was not started with --no-sandbox");
	return 1;
}

static void parse_clang(const char *text, struct vms_diags *d)
{
	vms_clang_parse_diags(text, d);
}

/* A private directory holding only the source, under the name diagnostics would use. */
static char *stage_source(struct backend *b, const struct backend_req *q, char **dir_out)
{
	/* the daemon makes (and always removes) a job's directory itself, so that a worker
	 * killed at its time limit leaves nothing behind; the language server does not */
	char *tmpl;
	if (q->job_dir) {
		tmpl = vms_xstrdup(q->job_dir);
	} else {
		tmpl = vms_xasprintf("%s/jobs/j.XXXXXX", b->scratch);
		if (!mkdtemp(tmpl)) {
			free(tmpl);
			return NULL;
		}
	}
	char *name = safe_file_name(q->file);
	char *path = vms_xasprintf("%s/%s", tmpl, name);
	free(name);
	if (vms_write_file_atomic(path, q->source, q->len, 0600) < 0) {
		if (!q->job_dir)
			vms_remove_tree(tmpl);
		free(tmpl);
		free(path);
		return NULL;
	}
	/* `#include "vmlinux.h"` opens the same file for clang as for the checker and the
	 * PCH build: a quoted include looks beside the source first */
	if (b->header_override && strcmp(vms_basename(path), "vmlinux.h")) {
		char *link = vms_xasprintf("%s/vmlinux.h", tmpl);
		if (symlink(b->vmlinux, link) < 0) {
			/* only a --header override needs it; the -I search finds the rest */
		}
		free(link);
	}
	*dir_out = tmpl;
	return path;
}

/* The request's command line: its directory for quoted includes, the -I directories, the
 * daemon's flags, then the request's. opts and input complete it for a clang run; with
 * VMS_BPF_RAW alone it is the flags a build extends (vms_build applies the arch rule). */
static void push_cmdline(struct backend *b, const struct backend_req *q, unsigned opts,
			 const char *clang, const char *input, struct vms_argv *a)
{
	/* a crash must not leave a reproducer (the whole preprocessed header, ~2.8 MB) in
	 * the scratch directory: crashes are answers like any other, and cached */
	static const char *const no_repro[] = { "-fno-crash-diagnostics" };
	struct vms_bpf_cmd c = {
		.clang = clang,
		.opts = opts,
		.iquote = q->src_dir,
		.inc_dirs = { (const char *const *)b->inc.v, b->inc.n },
		.user = { { (const char *const *)b->flags.v, b->flags.n },
			  { (const char *const *)q->flags, q->nflags } },
		.extra = { no_repro, 1 },
		.input = input,
	};
	vms_bpf_cmdline(&c, a);
}

static int looks_like_crash(const struct vms_proc_result *pr)
{
	return pr->signaled || strstr(pr->err, "PLEASE submit a bug report") ||
	       strstr(pr->err, "clang frontend command failed due to signal");
}

static int looks_like_oom(const char *err)
{
	return strstr(err, "out of memory") || strstr(err, "Allocation failed") ||
	       strstr(err, "std::bad_alloc");
}

void backend_check_clang(struct backend *b, const struct backend_req *q, struct vms_result *r)
{
	double t0 = vms_now_ms();
	r->backend = vms_xstrdup("clang");
	if (refused_unconfined(b, r))
		return;
	char *dir = NULL;
	char *path = stage_source(b, q, &dir);
	if (!path) {
		r->status = VMS_ST_INTERNAL;
		vms_diag_add(&r->diags, VMS_ERROR, NULL, 0, 0, "cannot stage the source: %s",
			     strerror(errno));
		return;
	}
	struct vms_argv a = { 0 };
	struct jail_job jj;
	jail_for_job(&b->jail, dir, &jj);
	if (jj.active) /* clang's temporaries go where it may write */
		setenv("TMPDIR", dir, 1);
	push_cmdline(b, q, VMS_BPF_O2 | VMS_BPF_SYNTAX_ONLY | VMS_BPF_PLAIN_DIAGS,
		     jj.active ? b->clang_path : b->clang, path, &a);
	struct vms_proc_result pr;
	int rc = jj.active ? vms_run_sandboxed(a.v, &jj.sb, q->time_limit_ms, &pr)
			   : vms_run(a.v, NULL, 0, q->time_limit_ms, &pr);
	vms_argv_free(&a);
	jail_job_free(&jj);
	if (rc < 0) {
		r->status = VMS_ST_INTERNAL;
		vms_diag_add(&r->diags, VMS_ERROR, NULL, 0, 0, "cannot run %s: %s", b->clang,
			     strerror(-rc));
	} else {
		parse_clang(pr.err, &r->diags);
		if (pr.timed_out)
			r->status = VMS_ST_TIMEOUT;
		else if (pr.exit_code && looks_like_oom(pr.err))
			r->status = VMS_ST_LIMIT;
		else if (looks_like_crash(&pr))
			r->status = VMS_ST_CRASHED;
		else if (pr.exit_code)
			r->status = VMS_ST_ERRORS;
		else
			r->status = VMS_ST_OK;
		if (r->status != VMS_ST_OK && r->status != VMS_ST_ERRORS && !r->diags.n)
			vms_diag_add(&r->diags, VMS_ERROR, NULL, 0, 0, "clang: %s",
				     r->status == VMS_ST_TIMEOUT ? "time limit" : "crashed");
		vms_proc_result_free(&pr);
	}
	diags_rename(&r->diags, path, q->file);
	vms_remove_tree(dir);
	free(dir);
	free(path);
	r->ms = vms_now_ms() - t0;
}

void backend_build(struct backend *b, const struct backend_req *q, struct vms_result *r)
{
	double t0 = vms_now_ms();
	if (refused_unconfined(b, r)) {
		r->backend = vms_xstrdup("none");
		return;
	}
	char *dir = NULL;
	char *path = stage_source(b, q, &dir);
	if (!path) {
		r->status = VMS_ST_INTERNAL;
		r->backend = vms_xstrdup("none");
		vms_diag_add(&r->diags, VMS_ERROR, NULL, 0, 0, "cannot stage the source: %s",
			     strerror(errno));
		return;
	}
	char *obj = vms_xasprintf("%s/out.o", dir);
	struct vms_argv a = { 0 };
	push_cmdline(b, q, VMS_BPF_RAW, NULL, NULL, &a);
	/* The object names its source in its debug info and BTF line info: compiled from
	 * inside the private directory under a relative name, with a fixed compilation
	 * directory, the same request gives the same bytes in every run of every daemon
	 * (and no scratch path leaks into it). Workers are processes of their own, so the
	 * chdir touches nobody else. */
	const char *rel = vms_basename(path);
	int in_dir = chdir(dir) == 0;
	if (in_dir)
		vms_argv_push(&a, "-fdebug-compilation-dir=.");
	int ok = 0;
	struct jail_job jj;
	jail_for_job(&b->jail, dir, &jj);
	if (jj.active) /* clang's temporaries go where it may write */
		setenv("TMPDIR", dir, 1);
	struct vms_build_opts bo = {
		.source = in_dir ? rel : path,
		.output = obj,
		.header = b->vmlinux,
		.flags = (const char *const *)a.v,
		.clang = jj.active ? b->clang_path : b->clang,
		.cache_dir = b->cache_dir,
		.sandbox = jj.active ? &jj.sb : NULL,
		/* the scan refuses the assembler directives it can see; a source that may
		 * still produce inline asm (through macros) is checked again on its LLVM IR */
		.audit_asm = b->untrusted && q->asm_suspect,
		.pch_seal_in = q->pch_seal,
	};
	struct vms_build_result br = { 0 };
	struct vms_diags bd = { 0 };
	int rc = vms_build(&bo, &br, &bd);
	r->backend = vms_xstrdup(br.used_pch ? "clang-pch" : "clang");
	if (rc == 0 || rc == 1) {
		parse_clang(br.clang_stderr, &r->diags);
		if (rc == 1 && !vms_diags_count(&r->diags, VMS_ERROR))
			diags_append(&r->diags, &bd);
		if (rc == 0)
			ok = 1;
		else if (looks_like_oom(br.clang_stderr)) /* under RLIMIT_AS, clang aborts */
			r->status = VMS_ST_LIMIT;
		else if (br.clang_exit == 126 && strstr(br.clang_stderr, "vmslim: sandbox:"))
			r->status = VMS_ST_INTERNAL; /* never run unconfined instead */
		else if (br.clang_exit >= 128 || strstr(br.clang_stderr, "PLEASE submit a bug"))
			r->status = VMS_ST_CRASHED;
		else
			r->status = VMS_ST_ERRORS;
	} else if (rc == 3) { /* the IR showed inline asm that reads files */
		r->status = VMS_ST_REFUSED;
		diags_append(&r->diags, &bd);
	} else {
		r->status = VMS_ST_INTERNAL;
		diags_append(&r->diags, &bd);
		if (!r->diags.n)
			vms_diag_add(&r->diags, VMS_ERROR, NULL, 0, 0, "the build could not run");
	}
	vms_diags_free(&bd);
	r->pch_seal = br.pch_seal;
	vms_build_result_free(&br);
	jail_job_free(&jj);
	vms_argv_free(&a);
	if (ok) {
		char *data;
		size_t len;
		if (vms_read_file(obj, &data, &len) == 0) {
			r->status = VMS_ST_OK;
			r->obj = data;
			r->obj_len = len;
		} else {
			r->status = VMS_ST_INTERNAL;
			vms_diag_add(&r->diags, VMS_ERROR, NULL, 0, 0,
				     "the compiler wrote no object");
		}
	}
	if (r->status == VMS_ST_ERRORS && !vms_diags_count(&r->diags, VMS_ERROR))
		vms_diag_add(&r->diags, VMS_ERROR, q->file, 0, 0, "the build failed");
	diags_rename(&r->diags, path, q->file);
	diags_rename(&r->diags, rel, q->file);
	if (in_dir && chdir("/") < 0) {
		/* nothing depends on the directory after this */
	}
	vms_remove_tree(dir);
	free(dir);
	free(path);
	free(obj);
	r->ms = vms_now_ms() - t0;
}

/* ---- the fast checker ------------------------------------------------------------ */

/* The request's -D/-U flags as the checker's macros ("NAME[=VALUE]", "-NAME"), in order.
 * They go to the snapshot, not into the source: text put before the program would move
 * its lines and, through a #line, its file name (issue 10). */
static void request_defines(const struct backend_req *q, struct vms_argv *defs)
{
	for (size_t i = 0; i < q->nflags; i++) {
		const char *f = q->flags[i];
		if (!strncmp(f, "-D", 2) && f[2])
			vms_argv_push(defs, f + 2);
		else if (!strncmp(f, "-U", 2) && f[2])
			vms_argv_pushf(defs, "-%s", f + 2);
	}
}

void backend_check_fast(struct backend *b, const struct backend_req *q, struct vms_result *r)
{
	/* The daemon's requests have no directory: they get the private, empty src/, so
	 * a quoted include finds nothing beside the source and goes to the -I directories,
	 * just as the include scan assumed. */
	char *fname;
	if (q->src_dir) {
		fname = vms_xasprintf("%s/%s", q->src_dir, vms_basename(q->file));
	} else {
		char *safe = safe_file_name(q->file);
		fname = vms_xasprintf("%s/%s", b->src_dir, safe);
		free(safe);
	}
	struct vms_argv defs = { 0 };
	request_defines(q, &defs);
	struct vms_tcc_request tr = {
		.source = q->source,
		.len = q->len,
		.file_name = fname,
		.time_limit_ms = q->time_limit_ms,
		.mem_limit = q->mem_limit,
		.defines = (const char *const *)defs.v,
	};
	struct vms_tcc_result res = { 0 };
	int rc = vms_tcc_check(b->checker, &tr, &res);
	pthread_mutex_lock(&b->stats_lock);
	vms_tcc_checker_stats(b->checker, &b->stats);
	pthread_mutex_unlock(&b->stats_lock);
	r->backend = vms_xstrdup("tcc-snapshot");
	r->ms = res.ms;
	switch (res.status) {
	case VMS_TCC_OK: r->status = VMS_ST_OK; break;
	case VMS_TCC_ERRORS: r->status = VMS_ST_ERRORS; break;
	case VMS_TCC_UNSUPPORTED: r->status = VMS_ST_UNSUPPORTED; break;
	case VMS_TCC_CRASHED: r->status = VMS_ST_CRASHED; break;
	case VMS_TCC_TIMEOUT: r->status = VMS_ST_TIMEOUT; break;
	case VMS_TCC_MEMORY: r->status = VMS_ST_LIMIT; break;
	default: r->status = VMS_ST_INTERNAL; break;
	}
	if (rc < 0 && r->status == VMS_ST_OK)
		r->status = VMS_ST_INTERNAL;
	diags_append(&r->diags, &res.diags);
	diags_rename(&r->diags, fname, q->file);
	if (!q->src_dir) /* the daemon's private src/; an editor's files keep their paths */
		diags_strip_dir(&r->diags, b->src_dir);
	vms_tcc_result_free(&res);
	vms_argv_free(&defs);
	free(fname);
}

void backend_stats_json(struct backend *b, struct json_object *obj)
{
	pthread_mutex_lock(&b->stats_lock);
	struct vms_tcc_stats s = b->stats;
	pthread_mutex_unlock(&b->stats_lock);
	struct json_object *c = json_object_new_object();
	json_object_object_add(c, "checks", json_object_new_uint64(s.checks));
	json_object_object_add(c, "snapshot_hits", json_object_new_uint64(s.hits));
	json_object_object_add(c, "snapshot_misses", json_object_new_uint64(s.misses));
	json_object_object_add(c, "snapshots", json_object_new_uint64(s.snapshots));
	json_object_object_add(c, "crashed", json_object_new_uint64(s.crashed));
	json_object_object_add(c, "timeouts", json_object_new_uint64(s.timeouts));
	json_object_object_add(c, "unsupported", json_object_new_uint64(s.unsupported));
	json_object_object_add(c, "last_build_ms", json_num3(s.last_build_ms));
	json_object_object_add(obj, "checker", c);
	json_object_object_add(obj, "clang", json_object_new_string(b->clang));
	if (b->vmlinux)
		json_object_object_add(obj, "vmlinux", json_object_new_string(b->vmlinux));
}

void backend_sweep(struct backend *b)
{
	vms_pch_sweep(b->cache_dir);
}
