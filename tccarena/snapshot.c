/* The snapshot ("zygote") checker.
 *
 * Almost all of a check's work is the program's preamble: vmlinux.h alone is 2.8 MB of
 * declarations, while the program's own text is a few hundred lines. So the preamble is
 * parsed once, in a helper process, and every request starts from the state TCC is in
 * right after it:
 *
 *   1. The caller starts the helper. The helper compiles a virtual template file made of
 *      the program's preamble followed by `#include "<dir>/.vmslim-body.c"` (the marker).
 *      The template has the preamble on the same lines as the program, and lives in the
 *      program's directory, so errors in the preamble point at the program's lines and
 *      quoted includes resolve as they would for the program.
 *   2. When TCC opens the marker the preamble is fully parsed. The open hook does not
 *      return: it reports READY (with the files the preamble read, for staleness
 *      checks) and serves requests. For each it forks; the child returns from the hook
 *      with a descriptor whose reads yield the request's text — the program with its
 *      preamble blanked out, lines kept — and TCC goes on from where the helper stopped.
 *   3. The child stops at its first error or when TCC reaches the end of the
 *      translation unit, before any of TCC's teardown, sends its answer straight to the
 *      caller (telling the helper first that it is answering) and _exit()s. A child that
 *      dies instead is reaped by the helper, which answers for it: its own SIGALRM (the
 *      time limit) means "timeout", another signal "crashed". The arena cap bounds its
 *      memory; TCC reports the refusal as an error.
 *   4. A spare child is forked ahead of each request, so the fork (cheap: the helper is
 *      a small program and the parsed headers sit in huge pages) is off the request's
 *      path.
 *
 * A request can hurt only its child. The helper itself runs no TCC code after READY.
 *
 * Snapshots are keyed by the preamble's text and the program's directory, so a program
 * that #defines BPF_NO_PRESERVE_ACCESS_INDEX or __TARGET_ARCH_arm64 first gets its own.
 * A few are kept (least recently used goes first); each is rebuilt when a file its
 * preamble read has changed on disk, or when its helper died.
 *
 * Messages on the socket between caller and helper are frames: u32 type, u32 length,
 * payload. Everything is host-endian; both ends are the same binary.
 */
#include "tccarena/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libtcc.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

enum frame_type {
	F_SETUP = 0,		/* caller: options, template and marker names, preamble */
	F_READY = 1,		/* helper: preamble parsed; u64 arena bytes, msgs, files */
	F_PREAMBLE_FAIL,	/* helper: the marker was never reached; msgs */
	F_CHECK,		/* caller: u32 time limit ms, u64 mem limit, source */
	F_RESULT,		/* helper: u32 outcome, i32 signal, u64 arena bytes, msgs */
};

enum outcome { OUT_DONE = 0, OUT_SIGNAL, OUT_TIMEOUT, OUT_NO_RESULT };

#define DEFAULT_TIME_MS 10000
#define DEFAULT_MEM ((size_t)1 << 30)
#define DEFAULT_SNAPSHOTS 4
/* the helper's own margin over a request's time limit before the caller gives up on it */
#define HELPER_GRACE_MS 5000
#define BUILD_TIMEOUT_MS 120000

/* ---- byte buffers for frames ---- */

static void put(struct vms_buf *b, const void *p, size_t n)
{
	vms_buf_append(b, p, n);
}

static void put_u32(struct vms_buf *b, uint32_t v)
{
	put(b, &v, 4);
}

static void put_u64(struct vms_buf *b, uint64_t v)
{
	put(b, &v, 8);
}

static void put_msgs(struct vms_buf *b, const struct vms_raw_msgs *m)
{
	put_u32(b, (uint32_t)m->n);
	for (size_t i = 0; i < m->n; i++) {
		uint32_t len = (uint32_t)strlen(m->v[i].text);
		put_u32(b, (uint32_t)(m->v[i].in_asm | m->v[i].cap_hit << 1));
		put_u32(b, len);
		put(b, m->v[i].text, len);
	}
}

struct reader {
	const char *p, *end;
	int bad;
};

static int get(struct reader *r, void *out, size_t n)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = 1;
		memset(out, 0, n);
		return -1;
	}
	memcpy(out, r->p, n);
	r->p += n;
	return 0;
}

static uint32_t get_u32(struct reader *r)
{
	uint32_t v;
	get(r, &v, 4);
	return v;
}

static uint64_t get_u64(struct reader *r)
{
	uint64_t v;
	get(r, &v, 8);
	return v;
}

static void add_msg(struct vms_raw_msgs *m, char *text, int flags)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 8;
		m->v = vms_xrealloc(m->v, m->cap * sizeof(*m->v));
	}
	m->v[m->n++] = (struct vms_raw_msg){ .text = text, .in_asm = flags & 1, .cap_hit = !!(flags & 2) };
}

static void get_msgs(struct reader *r, struct vms_raw_msgs *m)
{
	uint32_t n = get_u32(r);
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		uint32_t flags = get_u32(r), len = get_u32(r);
		if (r->bad || (size_t)(r->end - r->p) < len) {
			r->bad = 1;
			return;
		}
		add_msg(m, vms_xstrndup(r->p, len), (int)flags);
		r->p += len;
	}
}

/* ---- frame I/O ---- */

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int send_frame(int fd, uint32_t type, const void *p, size_t n)
{
	if (n > UINT32_MAX)
		return -EMSGSIZE; /* the length field would wrap and desynchronize the stream */
	uint32_t hdr[2] = { type, (uint32_t)n };
	int rc = write_all(fd, hdr, sizeof(hdr));
	return rc < 0 ? rc : write_all(fd, p, n);
}

/* Reads exactly n bytes; deadline_ms < 0 waits forever. -ETIMEDOUT, -EPIPE on EOF. */
static int read_all(int fd, void *p, size_t n, double deadline)
{
	char *c = p;
	while (n) {
		if (deadline >= 0) {
			double left = deadline - vms_now_ms();
			if (left <= 0)
				return -ETIMEDOUT;
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			/* in slices: a long limit must not overflow poll's int timeout */
			int pr = poll(&pfd, 1, left > 60000 ? 60000 : (int)left + 1);
			if (pr < 0 && errno != EINTR)
				return -errno;
			if (pr <= 0)
				continue;
		}
		ssize_t r = read(fd, c, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EPIPE;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static int recv_frame(int fd, uint32_t *type, char **payload, size_t *len, double deadline)
{
	uint32_t hdr[2];
	int rc = read_all(fd, hdr, sizeof(hdr), deadline);
	if (rc < 0)
		return rc;
	*type = hdr[0];
	*len = hdr[1];
	*payload = vms_xmalloc(*len + 1);
	rc = read_all(fd, *payload, *len, deadline);
	if (rc < 0) {
		free(*payload);
		*payload = NULL;
		return rc;
	}
	(*payload)[*len] = 0;
	return 0;
}

/* ---- the helper process ---- */

/* A forked child: a spare waiting for the next request on the caller's socket, then the
 * worker checking it. It tells the helper through its pipe: 'T' when it has taken a
 * request (the helper then forks the next spare), 'D' when it is answering. EOF
 * without 'D' means it died: the helper answers for it. */
struct worker {
	pid_t pid;
	int pipe_r;
};

struct helper {
	int sock;
	struct vms_raw_msgs *msgs;	/* TCC's error callback target */
	int is_child;
	int pipe_w;			/* in a child */
	double woke;			/* in a child: when its request came */
};

static struct helper H;

static void send_result(uint32_t outcome, int32_t sig, uint64_t arena, double tcc_ms,
			const struct vms_raw_msgs *msgs);

static void tell_helper(char c)
{
	while (write(H.pipe_w, &c, 1) < 0 && errno == EINTR)
		;
}

/* The child answers the caller itself, one hop less than through the helper. It first
 * tells the helper it is answering (so that the helper never sends a second, "crashed"
 * answer) with every signal blocked, so that its own timer cannot cut the answer short. */
static void child_commit_and_exit(void)
{
	double tcc_ms = vms_now_ms() - H.woke;
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	tell_helper('D');
	send_result(OUT_DONE, 0, vms_arena_used_since_cap(), tcc_ms, H.msgs);
	_exit(0);
}

static void child_on_error(struct vms_raw_msgs *m)
{
	(void)m;
	child_commit_and_exit();
}

/* In a fresh spare: take the next request from the caller's socket, then set up and go
 * back into TCC with the request's text as the marker's content. */
static int child_take_request(void)
{
	uint32_t type;
	char *p;
	size_t len;
	if (recv_frame(H.sock, &type, &p, &len, -1) < 0)
		_exit(0); /* the caller is gone: so is the helper, soon */
	if (type != F_CHECK || len < 12)
		_exit(3);
	H.woke = vms_now_ms();
	tell_helper('T');
	uint32_t time_ms;
	uint64_t mem;
	memcpy(&time_ms, p, 4);
	memcpy(&mem, p + 4, 8);
	/* A crash is the answer "crashed", not a report: the default actions let the helper
	 * see the signal (a sanitizer's handler would turn it into an exit status). */
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	signal(SIGABRT, SIG_DFL);
	struct itimerval it = { .it_value = { .tv_sec = time_ms / 1000,
					      .tv_usec = (time_ms % 1000) * 1000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	vms_arena_set_cap(mem);
	vms_hooks_reset_asm();
	H.msgs->n = 0; /* the helper's messages stay in its copy */
	H.msgs->on_error = child_on_error;
	vms_hooks_on_finish = child_commit_and_exit;
	return vms_hooks_open_memory(p + 12, len - 12);
}

/* Forks a spare. Returns 0 in the helper (w filled), 1 in the child, -1 on failure.
 * `busy` is the worker whose pipe the child must not hold. */
static int fork_spare(struct worker *w, const struct worker *busy)
{
	int pp[2];
	if (pipe2(pp, O_CLOEXEC) < 0)
		return -1;
	pid_t helper = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		close(pp[0]), close(pp[1]);
		return -1;
	}
	if (pid == 0) {
		H.is_child = 1;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != helper)
			_exit(0);
		close(pp[0]);
		if (busy && busy->pid > 0)
			close(busy->pipe_r);
		H.pipe_w = pp[1];
		vms_hooks_track(0);
		return 1;
	}
	close(pp[1]);
	*w = (struct worker){ .pid = pid, .pipe_r = pp[0] };
	return 0;
}

static void worker_close(struct worker *w)
{
	if (w->pid > 0)
		close(w->pipe_r);
	w->pid = 0;
}

/* The next byte from a child, or -1 at EOF (it died or exited). */
static int hear(const struct worker *w)
{
	char c;
	ssize_t r;
	while ((r = read(w->pipe_r, &c, 1)) < 0 && errno == EINTR)
		;
	return r == 1 ? c : -1;
}

static int reap_status(pid_t pid)
{
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

static void send_result(uint32_t outcome, int32_t sig, uint64_t arena, double tcc_ms,
			const struct vms_raw_msgs *msgs)
{
	struct vms_buf b = { 0 };
	put_u32(&b, outcome);
	put(&b, &sig, 4);
	put_u64(&b, arena);
	put(&b, &tcc_ms, sizeof(tcc_ms));
	if (msgs)
		put_msgs(&b, msgs);
	else
		put_u32(&b, 0);
	int rc = send_frame(H.sock, F_RESULT, b.data, b.len);
	vms_buf_free(&b);
	if (rc < 0)
		_exit(0); /* the caller is gone */
}

/* The marker's open hook: from here on the helper only forks and watches children,
 * and returns only in a child. A spare waits on the caller's socket; when it takes a
 * request the helper forks the next spare (the fork — copying the page tables of a
 * process holding a parsed vmlinux.h — runs while the request is being checked) and
 * watches the worker: it answers the caller itself, or dies and the helper answers for
 * it. The request's path is caller -> child -> caller, with no hop through the helper. */
static int on_marker(void *arg)
{
	(void)arg;
	struct vms_buf b = { 0 };
	put_u64(&b, vms_arena_used_since_cap());
	put_msgs(&b, H.msgs);
	struct vms_tracked_file *files;
	size_t n_files;
	vms_hooks_take_tracked(&files, &n_files);
	put_u32(&b, (uint32_t)n_files);
	for (size_t i = 0; i < n_files; i++) {
		put_u32(&b, (uint32_t)strlen(files[i].path));
		put(&b, files[i].path, strlen(files[i].path));
		put(&b, &files[i].st, sizeof(files[i].st));
	}
	/* Fresh children allocate just past the helper's last block; small pages there, so
	 * that their first write does not fault in (and clear) a whole huge page. */
	vms_arena_prepare_fork();
	if (send_frame(H.sock, F_READY, b.data, b.len) < 0)
		_exit(0);
	vms_buf_free(&b);

	struct worker spare = { 0 }, cur = { 0 };
	for (;;) {
		if (!spare.pid) {
			int f = fork_spare(&spare, NULL);
			if (f == 1)
				return child_take_request();
			if (f < 0)
				_exit(1); /* the caller sees EOF, drops this snapshot, builds another */
		}
		if (hear(&spare) != 'T') {
			/* the spare left without a request: the caller closed the socket (or
			 * sent garbage); either way this snapshot is done */
			reap_status(spare.pid);
			_exit(0);
		}
		cur = spare;
		spare = (struct worker){ 0 };
		int f = fork_spare(&spare, &cur);
		if (f == 1)
			return child_take_request();
		if (f < 0)
			spare.pid = 0; /* retried before the next request */
		if (hear(&cur) == 'D') {
			/* answering the caller itself; reaped when it is done */
			worker_close(&cur);
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
			continue;
		}
		int status = reap_status(cur.pid);
		worker_close(&cur);
		if (WIFSIGNALED(status)) {
			int sig = WTERMSIG(status);
			send_result(sig == SIGALRM ? OUT_TIMEOUT : OUT_SIGNAL, sig, 0, 0, NULL);
		} else {
			send_result(OUT_NO_RESULT, WIFEXITED(status) ? WEXITSTATUS(status) : 0, 0, 0,
				    NULL);
		}
	}
}

static void put_str(struct vms_buf *b, const char *s)
{
	uint32_t n = s ? (uint32_t)strlen(s) : 0;
	put_u32(b, n);
	put(b, s ? s : "", n);
}

/* NULL for the empty string: optional paths travel as "". */
static char *get_str(struct reader *r)
{
	uint32_t n = get_u32(r);
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = 1;
		return NULL;
	}
	char *s = n ? vms_xstrndup(r->p, n) : NULL;
	r->p += n;
	return s;
}

static void put_strv(struct vms_buf *b, char *const *v)
{
	uint32_t n = 0;
	for (char *const *p = v; p && *p; p++)
		n++;
	put_u32(b, n);
	for (char *const *p = v; p && *p; p++)
		put_str(b, *p);
}

static char **get_strv(struct reader *r)
{
	uint32_t n = get_u32(r);
	if (r->bad || n > (uint32_t)(r->end - r->p) / 4) {
		r->bad = 1;
		return NULL;
	}
	char **v = vms_xcalloc((size_t)n + 1, sizeof(*v));
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		v[i] = get_str(r);
		if (!v[i])
			v[i] = vms_xstrdup("");
	}
	return v;
}

/* The helper program (vmslim-tcc-helper) runs this with its socket to the caller on
 * `sock`. It is a program of its own, exec'd rather than forked from the caller, so
 * that the process every request forks holds nothing but libc, TCC and the parsed
 * headers: a fork copies the page tables of the whole process, and a daemon's cache
 * or a linked libclang would otherwise be copied with each request. */
int vms_tcc_helper_run(int sock, pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (parent > 0 && getppid() != parent)
		return 0;
	/* only stdio and the socket: whatever else the caller left inheritable (a daemon's
	 * listening socket...) must not stay open for the life of the snapshot */
	if (sock != 3)
		return 1;
	close_range(4, ~0U, 0);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, SIG_DFL);
	H.sock = sock;

	uint32_t type;
	char *p;
	size_t len;
	if (recv_frame(sock, &type, &p, &len, -1) < 0 || type != F_SETUP)
		return 1;
	struct reader r = { p, p + len, 0 };
	struct vms_tcc_opts o = { 0 };
	o.headers_dir = get_str(&r);
	o.tcc_lib_dir = get_str(&r);
	o.vmlinux_header = get_str(&r);
	char **incs = get_strv(&r), **defs = get_strv(&r);
	o.include_dirs = (const char *const *)incs;
	o.defines = (const char *const *)defs;
	uint32_t confine = get_u32(&r);
	char **cdirs = get_strv(&r), **cfiles = get_strv(&r);
	char *tmpl_path = get_str(&r), *body_path = get_str(&r);
	uint32_t plen = get_u32(&r);
	if (r.bad || !o.headers_dir || !tmpl_path || !body_path || (size_t)(r.end - r.p) < plen)
		return 1;
	const char *preamble = r.p;

	struct vms_buf t = { 0 };
	vms_buf_append(&t, preamble, plen);
	if (plen && preamble[plen - 1] != '\n')
		vms_buf_puts(&t, "\n");
	vms_buf_printf(&t, "#include \"%s\"\n", body_path);

	struct vms_raw_msgs msgs = { 0 };
	H.msgs = &msgs;
	vms_hooks_add_vfile(tmpl_path, t.data, t.len);
	vms_hooks_set_marker(body_path, on_marker, NULL);
	vms_hooks_set_vmlinux(o.vmlinux_header);
	if (confine)
		vms_hooks_set_confine(cdirs, cfiles);
	vms_hooks_track(1);
	vms_arena_reset();
	vms_arena_set_cap(0);
	vms_hooks_set_heap(VMS_HEAP_ARENA);
	struct vms_diags d = { 0 };
	TCCState *s = vms_tcc_new_state(&o, &msgs, &d);
	if (s)
		tcc_add_file(s, tmpl_path);
	if (H.is_child)
		child_commit_and_exit();
	/* The marker was never reached: an error in the preamble. */
	struct vms_buf b = { 0 };
	for (size_t i = 0; i < d.n; i++)
		add_msg(&msgs, vms_xasprintf("tcc: error: %s", d.v[i].msg), 0);
	put_msgs(&b, &msgs);
	send_frame(H.sock, F_PREAMBLE_FAIL, b.data, b.len);
	_exit(0);
}

/* ---- the caller's side ---- */

struct snapshot {
	struct vms_hash128 key;
	pid_t pid;
	int sock;
	char *tmpl_path, *body_path;
	struct vms_tracked_file *files;
	size_t n_files;
	struct vms_raw_msgs pre_msgs;	/* messages from the preamble (warnings...) */
	uint64_t last_used;
};

struct vms_tcc_checker {
	struct vms_tcc_opts o;
	char *helper;
	struct vms_argv include_dirs, defines;
	char *headers_dir, *tcc_lib_dir, *vmlinux;
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

static int stale(const struct snapshot *s)
{
	for (size_t i = 0; i < s->n_files; i++) {
		struct stat st;
		const struct stat *o = &s->files[i].st;
		if (stat(s->files[i].path, &st) < 0 || st.st_ino != o->st_ino ||
		    st.st_dev != o->st_dev || st.st_size != o->st_size ||
		    st.st_mtim.tv_sec != o->st_mtim.tv_sec || st.st_mtim.tv_nsec != o->st_mtim.tv_nsec)
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

/* Forks a helper for this preamble. 0 with *out filled; 1 when the preamble itself has
 * errors (msgs filled, no snapshot); -errno when the helper could not run. */
static int snapshot_build(struct vms_tcc_checker *c, const char *preamble, size_t plen,
			  const char *dir, struct vms_hash128 key, struct snapshot *out,
			  struct vms_raw_msgs *msgs, struct vms_diags *d)
{
	memset(out, 0, sizeof(*out));
	out->sock = -1;
	char *tmpl = vms_xasprintf("%s/.vmslim-preamble-%d.c", strcmp(dir, "/") ? dir : "", (int)getpid());
	char *body = vms_xasprintf("%s/.vmslim-body-%d.c", strcmp(dir, "/") ? dir : "", (int)getpid());
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		int e = errno;
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "socketpair: %s", strerror(e));
		free(tmpl), free(body);
		return -e;
	}
	double t0 = vms_now_ms();
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
	pid_t pid;
	int e = posix_spawn(&pid, c->helper, &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (e) {
		vms_diag_add(d, VMS_ERROR, c->helper, 0, 0, "cannot start the TCC helper: %s",
			     strerror(e));
		close(sv[0]), close(sv[1]);
		free(tmpl), free(body);
		return -e;
	}
	struct vms_buf sb = { 0 };
	put_str(&sb, c->o.headers_dir);
	put_str(&sb, c->o.tcc_lib_dir);
	put_str(&sb, c->o.vmlinux_header);
	put_strv(&sb, c->include_dirs.v);
	put_strv(&sb, c->defines.v);
	put_u32(&sb, (uint32_t)c->o.confine);
	put_strv(&sb, c->cdirs);
	put_strv(&sb, c->cfiles);
	put_str(&sb, tmpl);
	put_str(&sb, body);
	put_u32(&sb, (uint32_t)plen);
	put(&sb, preamble, plen);
	int src = send_frame(sv[0], F_SETUP, sb.data, sb.len);
	vms_buf_free(&sb);
	close(sv[1]);
	out->pid = pid;
	out->sock = sv[0];
	out->tmpl_path = tmpl;
	out->body_path = body;
	out->key = key;
	if (src == -EMSGSIZE) { /* (a helper that died shows up as EOF below) */
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "the program's preamble is too large");
		snapshot_kill(out);
		return src;
	}

	uint32_t type;
	char *p;
	size_t len;
	int rc = recv_frame(out->sock, &type, &p, &len, vms_now_ms() + BUILD_TIMEOUT_MS);
	if (rc < 0) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0,
			     "the TCC snapshot helper died while parsing the preamble (%s)",
			     rc == -ETIMEDOUT ? "timed out" : strerror(-rc));
		snapshot_kill(out);
		return rc == -ETIMEDOUT ? rc : -EIO;
	}
	struct reader r = { p, p + len, 0 };
	if (type == F_PREAMBLE_FAIL) {
		get_msgs(&r, msgs);
		free(p);
		snapshot_kill(out);
		return 1;
	}
	c->st.last_build_arena_bytes = get_u64(&r);
	get_msgs(&r, &out->pre_msgs);
	uint32_t nf = get_u32(&r);
	for (uint32_t i = 0; i < nf && !r.bad; i++) {
		uint32_t pl = get_u32(&r);
		if ((size_t)(r.end - r.p) < pl) {
			r.bad = 1;
			break;
		}
		char *path = vms_xstrndup(r.p, pl);
		r.p += pl;
		struct stat st;
		get(&r, &st, sizeof(st));
		out->files = vms_xrealloc(out->files, (out->n_files + 1) * sizeof(*out->files));
		out->files[out->n_files++] = (struct vms_tracked_file){ .path = path, .st = st };
	}
	free(p);
	if (r.bad || type != F_READY) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "the TCC snapshot helper sent a bad reply");
		snapshot_kill(out);
		return -EPROTO;
	}
	c->st.last_build_ms = vms_now_ms() - t0;
	return 0;
}

static void copy_strv(struct vms_argv *dst, const char *const *src)
{
	for (const char *const *p = src; p && *p; p++)
		vms_argv_push(dst, *p);
}

/* The helper program: the option, $VMSLIM_TCC_HELPER, beside the running program, the
 * build tree's, the installed one — the first that is executable. */
static char *find_helper(const struct vms_tcc_opts *o)
{
	if (o->helper)
		return vms_xstrdup(o->helper);
	const char *env = getenv("VMSLIM_TCC_HELPER");
	if (env && *env)
		return vms_xstrdup(env);
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		char *dir = vms_dirname(exe);
		char *p = vms_xasprintf("%s/%s", dir, VMS_TCC_HELPER_NAME);
		free(dir);
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
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
	char *prelude = vms_xasprintf("%s/%s", o->headers_dir, VMS_TCC_PRELUDE);
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
	int rc = snapshot_build(c, req->source, p->plen, p->dir, p->key, &s, msgs, d);
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

/* One round trip to a ready helper. 0, or -errno if the helper is unusable. */
static int ask(struct vms_tcc_checker *c, struct snapshot *s, const struct vms_tcc_request *req,
	       size_t plen, uint32_t *outcome, int32_t *sig, uint64_t *arena, double *tcc_ms,
	       struct vms_raw_msgs *msgs)
{
	uint32_t time_ms = (uint32_t)(req->time_limit_ms > 0 ? req->time_limit_ms : c->o.time_limit_ms);
	uint64_t mem = req->mem_limit ? req->mem_limit : c->o.mem_limit;
	size_t blen;
	char *body = body_of(req, plen, &blen);
	struct vms_buf b = { 0 };
	put_u32(&b, time_ms);
	put_u64(&b, mem);
	put(&b, body, blen);
	free(body);
	int rc = send_frame(s->sock, F_CHECK, b.data, b.len);
	vms_buf_free(&b);
	if (rc < 0)
		return rc;
	uint32_t type;
	char *p;
	size_t len;
	rc = recv_frame(s->sock, &type, &p, &len, vms_now_ms() + time_ms + HELPER_GRACE_MS);
	if (rc < 0)
		return rc;
	struct reader r = { p, p + len, 0 };
	*outcome = get_u32(&r);
	get(&r, sig, 4);
	*arena = get_u64(&r);
	get(&r, tcc_ms, sizeof(*tcc_ms));
	get_msgs(&r, msgs);
	free(p);
	return r.bad || type != F_RESULT ? -EPROTO : 0;
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
		if (i == -1) { /* errors in the preamble: report them on the program's lines */
			c->st.misses++;
			char *tmpl = vms_xasprintf("%s/.vmslim-preamble-%d.c",
						   strcmp(p.dir, "/") ? p.dir : "", (int)getpid());
			struct vms_name_map map = { .from = { tmpl }, .to = p.name };
			r->status = vms_tcc_classify(&msgs, &map, req->source, req->len,
						     c->o.vmlinux_header, c->o.warnings, &r->diags);
			if (r->status == VMS_TCC_OK) /* the marker missed without an error */
				r->status = VMS_TCC_FAILED;
			free(tmpl);
			break;
		}
		if (hit)
			c->st.hits++;
		else
			c->st.misses++;
		r->snapshot_hit = hit;
		struct snapshot *s = &c->snaps[i];
		uint32_t outcome = 0;
		int32_t sig = 0;
		uint64_t arena = 0;
		for (size_t k = 0; k < s->pre_msgs.n; k++)
			add_msg(&msgs, vms_xstrdup(s->pre_msgs.v[k].text),
				s->pre_msgs.v[k].in_asm | s->pre_msgs.v[k].cap_hit << 1);
		rc = ask(c, s, req, p.plen, &outcome, &sig, &arena, &r->tcc_ms, &msgs);
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
		r->arena_bytes = arena;
		int plines = 0;
		for (size_t k = 0; k < p.plen; k++)
			plines += req->source[k] == '\n';
		if (p.plen && req->source[p.plen - 1] != '\n')
			plines++;
		struct vms_name_map map = { .from = { s->tmpl_path, s->body_path }, .to = p.name,
					    .tmpl = s->tmpl_path, .preamble_lines = plines };
		switch (outcome) {
		case OUT_DONE:
			r->status = vms_tcc_classify(&msgs, &map, req->source, req->len,
						     c->o.vmlinux_header, c->o.warnings, &r->diags);
			break;
		case OUT_TIMEOUT:
			r->status = VMS_TCC_TIMEOUT;
			vms_diag_add(&r->diags, VMS_WARNING, p.name, 0, 0,
				     "not checked: the fast checker ran out of time (limit %d ms); use clang",
				     req->time_limit_ms > 0 ? req->time_limit_ms : c->o.time_limit_ms);
			break;
		case OUT_SIGNAL:
			r->status = VMS_TCC_CRASHED;
			vms_diag_add(&r->diags, VMS_WARNING, p.name, 0, 0,
				     "not checked: the fast checker crashed on this input (%s); use clang",
				     strsignal(sig));
			break;
		default:
			r->status = VMS_TCC_CRASHED;
			vms_diag_add(&r->diags, VMS_WARNING, p.name, 0, 0,
				     "not checked: the fast checker stopped without an answer (exit %d); use clang",
				     (int)sig);
			break;
		}
		break;
	}
	switch (r->status) {
	case VMS_TCC_CRASHED: c->st.crashed++; break;
	case VMS_TCC_TIMEOUT: c->st.timeouts++; break;
	case VMS_TCC_MEMORY: c->st.memory++; break;
	case VMS_TCC_UNSUPPORTED: c->st.unsupported++; break;
	default: break;
	}
	vms_raw_msgs_free(&msgs);
	free(p.dir);
	r->ms = vms_now_ms() - t0;
	return rc;
}
