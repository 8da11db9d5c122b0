/* The snapshot checker, the caller's side: keeps snapshot processes and asks them.
 *
 * A snapshot is one helper process (helper.c) holding TCC parsed up to the end of one
 * preamble (preamble.c). Snapshots are keyed by the preamble's text and the program's
 * directory, so a program that #defines BPF_NO_PRESERVE_ACCESS_INDEX or
 * __TARGET_ARCH_arm64 first gets its own. A few are kept (least recently used goes
 * first); each is rebuilt when a file its preamble read has changed on disk, or when
 * its helper died. A check is one round trip: CHECK out, RESULT back (wire.c), answered
 * by a child of the helper or, when that child died, by the helper for it.
 */
#include "tccarena/internal.h"

#include "common/bpf_cmdline.h"
#include "common/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define DEFAULT_TIME_MS 10000
#define DEFAULT_MEM ((size_t)1 << 30)
#define DEFAULT_SNAPSHOTS 4
/* the helper's own margin over a request's time limit before the caller gives up on it */
#define HELPER_GRACE_MS 5000
#define BUILD_TIMEOUT_MS 120000

struct snapshot {
	struct vms_hash128 key;
	pid_t pid;
	int sock;
	char *tmpl_path, *body_path;
	struct vms_tracked_file *files;
	size_t n_files;
	struct vms_raw_msgs pre_msgs;	/* messages from the preamble (warnings...) */
	uint64_t last_used;
	struct timespec made;		/* (wall clock) just before the helper read its files */
};

struct vms_tcc_checker {
	struct vms_tcc_opts o;
	char *helper;
	struct vms_argv include_dirs, defines;
	char *headers_dir, *tcc_lib_dir, *vmlinux, *sandbox_root;
	char **cdirs, **cfiles;
	struct snapshot *snaps;
	size_t n_snaps, max_snaps;
	uint64_t tick;
	struct vms_tcc_stats st;
};

static void snapshot_kill(struct snapshot *s)
{
	if (s->sock >= 0)
		close(s->sock); /* the helper sees EOF and exits */
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	free(s->tmpl_path);
	free(s->body_path);
	for (size_t i = 0; i < s->n_files; i++)
		free(s->files[i].path);
	free(s->files);
	vms_raw_msgs_free(&s->pre_msgs);
	memset(s, 0, sizeof(*s));
	s->sock = -1;
}

static void drop_snapshot(struct vms_tcc_checker *c, size_t i)
{
	snapshot_kill(&c->snaps[i]);
	c->snaps[i] = c->snaps[--c->n_snaps];
}

/* A snapshot holds the contents of the files it read, so it is stale when any of them may
 * have changed. mtime alone cannot say so (a rewrite at the same size with the mtime put
 * back keeps it), but ctime can: every change of contents or metadata sets it to the
 * current time, and userspace cannot set it back. What a change within the same
 * timestamp tick as the read could hide, the "too new" rule catches (ccache's): a file
 * whose ctime was less than 2 s before the snapshot read it is not trusted, and the next
 * check builds a new snapshot. */
#define SETTLE_NS 2000000000LL

static long long ns_of(struct timespec t)
{
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int stale(const struct snapshot *s)
{
	for (size_t i = 0; i < s->n_files; i++) {
		struct stat st;
		const struct stat *o = &s->files[i].st;
		if (stat(s->files[i].path, &st) < 0 || st.st_ino != o->st_ino ||
		    st.st_dev != o->st_dev || st.st_size != o->st_size ||
		    ns_of(st.st_mtim) != ns_of(o->st_mtim) || ns_of(st.st_ctim) != ns_of(o->st_ctim) ||
		    ns_of(o->st_ctim) + SETTLE_NS > ns_of(s->made))
			return 1;
	}
	return 0;
}

static char *abs_dir_of(const char *name)
{
	char *dir = strchr(name, '/') ? vms_dirname(name) : vms_xstrdup(".");
	if (dir[0] == '/')
		return dir;
	char cwd[4096];
	if (!getcwd(cwd, sizeof(cwd))) {
		free(dir);
		return vms_xstrdup("/");
	}
	char *abs = strcmp(dir, ".") ? vms_xasprintf("%s/%s", cwd, dir) : vms_xstrdup(cwd);
	free(dir);
	return abs;
}

/* The virtual files of a snapshot for a program in dir: "<dir>/.vmslim-<what>-<pid>.c".
 * They never touch the disk; the directory makes quoted includes resolve as they would
 * for the program, the pid keeps two callers' names apart in messages. */
static char *side_path(const char *dir, const char *what)
{
	return vms_xasprintf("%s/.vmslim-%s-%d.c", strcmp(dir, "/") ? dir : "", what,
			     (int)getpid());
}

/* Starts the helper program with its end of a socketpair. 0 with *pid and *sock (ours)
 * filled, or -errno with a diagnostic. */
static int spawn_helper(const struct vms_tcc_checker *c, pid_t *pid, int *sock,
			struct vms_diags *d)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		int e = errno;
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "socketpair: %s", strerror(e));
		return -e;
	}
	/* The helper gets its socket as fd 3 and nothing else of ours but stdio (stderr
	 * carries sanitizer reports); the caller's signal dispositions and mask are reset. */
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawnattr_t at;
	posix_spawnattr_init(&at);
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	char parent[32];
	snprintf(parent, sizeof(parent), "%d", (int)getpid());
	char *argv[] = { (char *)"vmslim-tcc-helper", (char *)"3", parent, NULL };
	int e = posix_spawn(pid, c->helper, &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(sv[1]);
	if (e) {
		vms_diag_add(d, VMS_ERROR, c->helper, 0, 0, "cannot start the TCC helper: %s",
			     strerror(e));
		close(sv[0]);
		return -e;
	}
	*sock = sv[0];
	return 0;
}

static void copy_strv(struct vms_argv *dst, const char *const *src)
{
	for (const char *const *p = src; p && *p; p++)
		vms_argv_push(dst, *p);
}

/* Starts a helper for this preamble. 0 with *out filled; 1 when the preamble itself has
 * errors (msgs filled, no snapshot); -errno when the helper could not run. */
static int snapshot_build(struct vms_tcc_checker *c, const struct vms_tcc_request *req,
			  size_t plen, const char *dir, struct vms_hash128 key, struct snapshot *out,
			  struct vms_raw_msgs *msgs, struct vms_diags *d)
{
	memset(out, 0, sizeof(*out));
	out->sock = -1;
	double t0 = vms_now_ms();
	int rc = spawn_helper(c, &out->pid, &out->sock, d);
	if (rc < 0)
		return rc;
	out->tmpl_path = side_path(dir, "preamble");
	out->body_path = side_path(dir, "body");
	out->key = key;
	/* the request's macros follow the checker's: the helper applies them in order */
	struct vms_argv defs = { 0 };
	/* libbpf's PT_REGS_* need an architecture: the host's unless one is chosen, as
	 * vmslim build does (common/bpf_cmdline.h) */
	const char *arch = vms_checker_arch_define(c->o.defines, req->defines, req->source, plen);
	if (arch)
		vms_argv_push(&defs, arch);
	copy_strv(&defs, c->o.defines);
	copy_strv(&defs, req->defines);
	struct vms_wire_setup setup = {
		.o = c->o, .cdirs = c->cdirs, .cfiles = c->cfiles,
		.tmpl_path = out->tmpl_path, .body_path = out->body_path,
		.preamble = req->source, .plen = plen,
	};
	setup.o.defines = (const char *const *)defs.v;
	clock_gettime(CLOCK_REALTIME, &out->made);
	rc = vms_wire_send_setup(out->sock, &setup);
	vms_argv_free(&defs);
	if (rc == -EMSGSIZE) { /* (a helper that died shows up as EOF below) */
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "the program's preamble is too large");
		snapshot_kill(out);
		return rc;
	}

	struct vms_wire_frame f;
	rc = vms_wire_recv(out->sock, vms_now_ms() + BUILD_TIMEOUT_MS, &f);
	if (rc < 0) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0,
			     "the TCC snapshot helper died while parsing the preamble (%s)",
			     rc == -ETIMEDOUT ? "timed out" : strerror(-rc));
		snapshot_kill(out);
		return rc == -ETIMEDOUT ? rc : -EIO;
	}
	if (f.type == VMS_WIRE_SETUP_FAIL) {
		int err = EPERM;
		char *why = NULL;
		vms_wire_get_setup_fail(&f, &err, &why);
		vms_wire_frame_free(&f);
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0,
			     "the TCC snapshot helper cannot enter its sandbox (%s: %s); "
			     "nothing was checked", why ? why : "?", strerror(err));
		free(why);
		snapshot_kill(out);
		return err > 0 ? -err : -EPERM;
	}
	if (f.type == VMS_WIRE_PREAMBLE_FAIL) {
		vms_wire_get_preamble_fail(&f, msgs);
		vms_wire_frame_free(&f);
		snapshot_kill(out);
		return 1;
	}
	struct vms_wire_ready ready;
	rc = vms_wire_get_ready(&f, &ready);
	vms_wire_frame_free(&f);
	out->files = ready.files;
	out->n_files = ready.n_files;
	out->pre_msgs = ready.msgs;
	if (rc < 0) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "the TCC snapshot helper sent a bad reply");
		snapshot_kill(out);
		return -EPROTO;
	}
	c->st.last_build_arena_bytes = ready.arena_bytes;
	c->st.last_build_ms = vms_now_ms() - t0;
	return 0;
}

/* The helper program: the option, $VMSLIM_TCC_HELPER, beside the running program or in
 * its prefix's libexec/vmslim, the build tree's, the installed one — the first that is
 * executable. */
static char *find_helper(const struct vms_tcc_opts *o)
{
	if (o->helper)
		return vms_xstrdup(o->helper);
	const char *env = getenv("VMSLIM_TCC_HELPER");
	if (env && *env)
		return vms_xstrdup(env);
	char *p = vms_find_beside_exe(VMS_TCC_HELPER_NAME, X_OK);
	if (p)
		return p;
	if (access(VMSLIM_TCC_HELPER_BUILD, X_OK) == 0)
		return vms_xstrdup(VMSLIM_TCC_HELPER_BUILD);
	return vms_xstrdup(VMSLIM_TCC_HELPER_INSTALL);
}

int vms_tcc_checker_new(const struct vms_tcc_opts *o, struct vms_tcc_checker **out,
			struct vms_diags *d)
{
	*out = NULL;
	if (!o->headers_dir) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "no headers directory (the TCC prelude)");
		return -EINVAL;
	}
	char *prelude = vms_tcc_prelude_path(o);
	if (access(prelude, R_OK) < 0) {
		int e = errno;
		vms_diag_add(d, VMS_ERROR, prelude, 0, 0, "cannot read the TCC prelude: %s", strerror(e));
		free(prelude);
		return -e;
	}
	free(prelude);
	if (o->vmlinux_header && access(o->vmlinux_header, R_OK) < 0) {
		int e = errno;
		vms_diag_add(d, VMS_ERROR, o->vmlinux_header, 0, 0, "cannot read the header: %s",
			     strerror(e));
		return -e;
	}
	if (o->confine && (o->sandbox_mech & VMS_SANDBOX_MOUNTNS) && !o->sandbox_root) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0,
			     "a mount namespace sandbox needs a root directory (sandbox_root)");
		return -EINVAL;
	}
	char *helper = find_helper(o);
	if (access(helper, X_OK) < 0) {
		int e = errno;
		vms_diag_add(d, VMS_ERROR, helper, 0, 0, "cannot run the TCC helper: %s", strerror(e));
		free(helper);
		return -e;
	}
	struct vms_tcc_checker *c = vms_xcalloc(1, sizeof(*c));
	c->helper = helper;
	c->o = *o;
	c->headers_dir = vms_xstrdup(o->headers_dir);
	c->o.headers_dir = c->headers_dir;
	if (o->tcc_lib_dir)
		c->o.tcc_lib_dir = c->tcc_lib_dir = vms_xstrdup(o->tcc_lib_dir);
	if (o->vmlinux_header)
		c->o.vmlinux_header = c->vmlinux = vms_realpath(o->vmlinux_header);
	if (o->sandbox_root)
		c->o.sandbox_root = c->sandbox_root = vms_xstrdup(o->sandbox_root);
	copy_strv(&c->include_dirs, o->include_dirs);
	copy_strv(&c->defines, o->defines);
	c->o.include_dirs = (const char *const *)c->include_dirs.v;
	c->o.defines = (const char *const *)c->defines.v;
	if (!c->o.time_limit_ms)
		c->o.time_limit_ms = DEFAULT_TIME_MS;
	if (!c->o.mem_limit)
		c->o.mem_limit = DEFAULT_MEM;
	c->max_snaps = o->max_snapshots > 0 ? (size_t)o->max_snapshots : DEFAULT_SNAPSHOTS;
	c->snaps = vms_xcalloc(c->max_snaps, sizeof(*c->snaps));
	if (c->o.confine)
		vms_tcc_confine_lists(&c->o, &c->cdirs, &c->cfiles);
	*out = c;
	return 0;
}

void vms_tcc_checker_free(struct vms_tcc_checker *c)
{
	if (!c)
		return;
	while (c->n_snaps)
		drop_snapshot(c, c->n_snaps - 1);
	free(c->snaps);
	vms_argv_free(&c->include_dirs);
	vms_argv_free(&c->defines);
	free(c->helper);
	free(c->headers_dir);
	free(c->tcc_lib_dir);
	free(c->vmlinux);
	free(c->sandbox_root);
	vms_strv_free(c->cdirs);
	vms_strv_free(c->cfiles);
	free(c);
}

void vms_tcc_checker_stats(const struct vms_tcc_checker *c, struct vms_tcc_stats *s)
{
	*s = c->st;
	s->snapshots = c->n_snaps;
}

struct prepared {
	const char *name;
	char *dir;
	size_t plen;
	struct vms_hash128 key;
};

static void prepare_request(const struct vms_tcc_request *req, struct prepared *p)
{
	p->name = req->file_name ? req->file_name : "<stdin>";
	p->dir = abs_dir_of(p->name);
	p->plen = vms_tcc_preamble_len(req->source, req->len);
	struct vms_hasher *h = vms_hasher_new();
	vms_hasher_update(h, req->source, p->plen);
	vms_hasher_update_str(h, p->dir);
	for (const char *const *def = req->defines; def && *def; def++)
		vms_hasher_update_str(h, *def);
	p->key = vms_hasher_digest(h);
	vms_hasher_free(h);
}

/* Finds or builds the snapshot; returns its index, -1 with preamble errors in msgs,
 * or -2 when the helper failed (diagnostic in d, rc in *err). */
static long find_snapshot(struct vms_tcc_checker *c, const struct vms_tcc_request *req,
			  const struct prepared *p, int *hit, struct vms_raw_msgs *msgs,
			  struct vms_diags *d, int *err)
{
	*hit = 0;
	for (size_t i = 0; i < c->n_snaps; i++) {
		struct snapshot *s = &c->snaps[i];
		if (s->key.hi != p->key.hi || s->key.lo != p->key.lo)
			continue;
		if (stale(s)) {
			c->st.rebuilds++;
			drop_snapshot(c, i);
			break;
		}
		s->last_used = ++c->tick;
		*hit = 1;
		return (long)i;
	}
	if (c->n_snaps == c->max_snaps) {
		size_t lru = 0;
		for (size_t i = 1; i < c->n_snaps; i++)
			if (c->snaps[i].last_used < c->snaps[lru].last_used)
				lru = i;
		drop_snapshot(c, lru);
		c->st.evictions++;
	}
	struct snapshot s;
	int rc = snapshot_build(c, req, p->plen, p->dir, p->key, &s, msgs, d);
	if (rc == 1)
		return -1;
	if (rc < 0) {
		*err = rc;
		return -2;
	}
	s.last_used = ++c->tick;
	c->snaps[c->n_snaps] = s;
	return (long)c->n_snaps++;
}

int vms_tcc_checker_prepare(struct vms_tcc_checker *c, const struct vms_tcc_request *req,
			    struct vms_diags *d)
{
	struct prepared p;
	prepare_request(req, &p);
	struct vms_raw_msgs msgs = { 0 };
	int hit, err = 0;
	long i = find_snapshot(c, req, &p, &hit, &msgs, d, &err);
	vms_raw_msgs_free(&msgs);
	free(p.dir);
	if (i >= 0 && !hit)
		c->st.misses++;
	return i == -2 ? err : 0;
}

/* The program with its preamble blanked: the snapshot already read those lines, and
 * reading them again would redefine its macros; newlines stay so lines still match. */
static char *body_of(const struct vms_tcc_request *req, size_t plen, size_t *len)
{
	char *b = vms_xmalloc(req->len + 1);
	for (size_t i = 0; i < plen; i++)
		b[i] = req->source[i] == '\n' ? '\n' : ' ';
	memcpy(b + plen, req->source + plen, req->len - plen);
	b[req->len] = 0;
	*len = req->len;
	return b;
}

/* The time limit a request runs under. */
static int time_limit_of(const struct vms_tcc_checker *c, const struct vms_tcc_request *req)
{
	return req->time_limit_ms > 0 ? req->time_limit_ms : c->o.time_limit_ms;
}

/* One round trip to a ready helper; the answer's messages are appended to msgs. 0, or
 * -errno if the helper is unusable. */
static int ask(struct vms_tcc_checker *c, struct snapshot *s, const struct vms_tcc_request *req,
	       size_t plen, struct vms_wire_result *res, struct vms_raw_msgs *msgs)
{
	uint32_t time_ms = (uint32_t)time_limit_of(c, req);
	uint64_t mem = req->mem_limit ? req->mem_limit : c->o.mem_limit;
	size_t blen;
	char *body = body_of(req, plen, &blen);
	int rc = vms_wire_send_check(s->sock, time_ms, mem, body, blen);
	free(body);
	if (rc < 0)
		return rc;
	struct vms_wire_frame f;
	rc = vms_wire_recv(s->sock, vms_now_ms() + time_ms + HELPER_GRACE_MS, &f);
	if (rc < 0)
		return rc;
	rc = vms_wire_get_result(&f, res, msgs);
	vms_wire_frame_free(&f);
	return rc;
}


/* The verdict on an answered request: TCC's messages when the child answered, a
 * "not checked" warning when it did not. */
static enum vms_tcc_status verdict(const struct vms_tcc_checker *c,
				   const struct vms_tcc_request *req, const struct prepared *p,
				   const struct snapshot *s, const struct vms_wire_result *res,
				   const struct vms_raw_msgs *msgs,
				   struct vms_diags *d)
{
	struct vms_name_map map = { .from = { s->tmpl_path, s->body_path }, .to = p->name,
				    .tmpl = s->tmpl_path,
				    .preamble_lines = vms_tcc_count_lines(req->source, p->plen) };
	switch (res->outcome) {
	case VMS_WIRE_DONE:
		return vms_tcc_classify(msgs, &map, req->source, req->len, c->o.vmlinux_header,
					c->o.warnings, d);
	case VMS_WIRE_TIMEOUT:
		vms_diag_add(d, VMS_WARNING, p->name, 0, 0,
			     "not checked: the fast checker ran out of time (limit %d ms); use clang",
			     time_limit_of(c, req));
		return VMS_TCC_TIMEOUT;
	case VMS_WIRE_SIGNAL:
		vms_diag_add(d, VMS_WARNING, p->name, 0, 0,
			     "not checked: the fast checker crashed on this input (%s); use clang",
			     strsignal(res->sig));
		return VMS_TCC_CRASHED;
	default:
		vms_diag_add(d, VMS_WARNING, p->name, 0, 0,
			     "not checked: the fast checker stopped without an answer (exit %d); use clang",
			     (int)res->sig);
		return VMS_TCC_CRASHED;
	}
}

/* Errors in the preamble (no snapshot could be built): reported on the program's lines. */
static enum vms_tcc_status preamble_verdict(const struct vms_tcc_checker *c,
					    const struct vms_tcc_request *req,
					    const struct prepared *p,
					    const struct vms_raw_msgs *msgs, struct vms_diags *d)
{
	char *tmpl = side_path(p->dir, "preamble");
	struct vms_name_map map = { .from = { tmpl }, .to = p->name };
	enum vms_tcc_status st = vms_tcc_classify(msgs, &map, req->source, req->len,
						  c->o.vmlinux_header, c->o.warnings, d);
	free(tmpl);
	return st == VMS_TCC_OK ? VMS_TCC_FAILED : st; /* the marker missed without an error */
}

static void count_status(struct vms_tcc_stats *st, enum vms_tcc_status s)
{
	switch (s) {
	case VMS_TCC_CRASHED: st->crashed++; break;
	case VMS_TCC_TIMEOUT: st->timeouts++; break;
	case VMS_TCC_MEMORY: st->memory++; break;
	case VMS_TCC_UNSUPPORTED: st->unsupported++; break;
	default: break;
	}
}

int vms_tcc_check(struct vms_tcc_checker *c, const struct vms_tcc_request *req,
		  struct vms_tcc_result *r)
{
	memset(r, 0, sizeof(*r));
	double t0 = vms_now_ms();
	if (req->len > UINT32_MAX - 64) { /* a frame's length is 32 bits */
		r->status = VMS_TCC_FAILED;
		vms_diag_add(&r->diags, VMS_ERROR, req->file_name ? req->file_name : "<stdin>", 0, 0,
			     "too large for the fast checker (%zu bytes)", req->len);
		return -EMSGSIZE;
	}
	struct prepared p;
	prepare_request(req, &p);
	struct vms_raw_msgs msgs = { 0 };
	int rc = 0;
	c->st.checks++;
	for (int attempt = 0;; attempt++) {
		int hit, err = 0;
		long i = find_snapshot(c, req, &p, &hit, &msgs, &r->diags, &err);
		if (i == -2) {
			r->status = VMS_TCC_FAILED;
			rc = err;
			break;
		}
		if (i == -1) {
			c->st.misses++;
			r->status = preamble_verdict(c, req, &p, &msgs, &r->diags);
			break;
		}
		if (hit)
			c->st.hits++;
		else
			c->st.misses++;
		r->snapshot_hit = hit;
		struct snapshot *s = &c->snaps[i];
		for (size_t k = 0; k < s->pre_msgs.n; k++)
			vms_raw_msgs_add(&msgs, vms_xstrdup(s->pre_msgs.v[k].text),
					 s->pre_msgs.v[k].in_asm, s->pre_msgs.v[k].cap_hit);
		struct vms_wire_result res;
		rc = ask(c, s, req, p.plen, &res, &msgs);
		if (rc < 0) {
			/* The helper itself is gone or wedged (killed from outside, OOM): drop it
			 * and try once more with a fresh one. */
			int timed_out = rc == -ETIMEDOUT;
			drop_snapshot(c, (size_t)i);
			c->st.rebuilds++;
			vms_raw_msgs_free(&msgs);
			if (attempt == 0 && !timed_out)
				continue;
			r->status = timed_out ? VMS_TCC_TIMEOUT : VMS_TCC_FAILED;
			vms_diag_add(&r->diags, VMS_ERROR, p.name, 0, 0,
				     "the TCC snapshot helper %s", timed_out ? "did not answer in time"
				     : "died");
			break;
		}
		r->arena_bytes = res.arena_bytes;
		r->tcc_ms = res.tcc_ms;
		r->status = verdict(c, req, &p, s, &res, &msgs, &r->diags);
		break;
	}
	count_status(&c->st, r->status);
	vms_raw_msgs_free(&msgs);
	free(p.dir);
	r->ms = vms_now_ms() - t0;
	return rc;
}
