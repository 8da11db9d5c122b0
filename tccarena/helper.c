/* The snapshot process: parses a program's preamble once, then forks a child per request.
 *
 * Almost all of a check's work is the program's preamble: vmlinux.h alone is 2.8 MB of
 * declarations, while the program's own text is a few hundred lines. So the preamble is
 * parsed once, in this process (the vmslim-tcc-helper program), and every request starts
 * from the state TCC is in right after it:
 *
 *   1. The caller (checker.c) starts the helper and sends SETUP. The helper compiles a
 *      virtual template file made of the program's preamble followed by
 *      `#include "<dir>/.vmslim-body-<pid>.c"` (the marker). The template has the
 *      preamble on the same lines as the program, and lives in the program's directory,
 *      so errors in the preamble point at the program's lines and quoted includes
 *      resolve as they would for the program.
 *   2. When TCC opens the marker the preamble is fully parsed. The open hook (on_marker)
 *      does not return: it reports READY (with the files the preamble read, for
 *      staleness checks) and serves requests. For each it forks; the child returns from
 *      the hook with a descriptor whose reads yield the request's text — the program
 *      with its preamble blanked out, lines kept — and TCC goes on from where the helper
 *      stopped.
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
 * With confinement and an OS sandbox asked for, the helper enters the sandbox right after
 * SETUP (enter_sandbox), before TCC reads anything; the children are born inside it.
 * The frames on the socket are wire.c's.
 */
#include "tccarena/internal.h"

#include "common/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <libtcc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* Every answer to the caller goes through here; a caller that is gone ends us. */
static void send_result(uint32_t outcome, int32_t sig, uint64_t arena, double tcc_ms,
			const struct vms_raw_msgs *msgs)
{
	struct vms_wire_result res = { .outcome = outcome, .sig = sig, .arena_bytes = arena,
				       .tcc_ms = tcc_ms };
	if (vms_wire_send_result(H.sock, &res, msgs) < 0)
		_exit(0);
}

/* ---- in a child ---- */

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
	send_result(VMS_WIRE_DONE, 0, vms_arena_used_since_cap(), tcc_ms, H.msgs);
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
	struct vms_wire_frame f;
	struct vms_wire_check req;
	if (vms_wire_recv(H.sock, -1, &f) < 0)
		_exit(0); /* the caller is gone: so is the helper, soon */
	if (vms_wire_get_check(&f, &req) < 0)
		_exit(3);
	H.woke = vms_now_ms();
	tell_helper('T');
	/* A crash is the answer "crashed", not a report: the default actions let the helper
	 * see the signal (a sanitizer's handler would turn it into an exit status). */
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	signal(SIGABRT, SIG_DFL);
	struct itimerval it = { .it_value = { .tv_sec = req.time_ms / 1000,
					      .tv_usec = (req.time_ms % 1000) * 1000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	vms_arena_set_cap(req.mem_limit);
	vms_hooks_reset_asm();
	H.msgs->n = 0; /* the helper's messages stay in its copy */
	H.msgs->on_error = child_on_error;
	vms_hooks_on_finish = child_commit_and_exit;
	/* the frame stays allocated: TCC reads the body from it until the child exits */
	return vms_hooks_open_memory(req.body, req.len);
}

/* ---- in the helper ---- */

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

/* The answer for a worker that died or left without answering. */
static void answer_for(int status)
{
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		send_result(sig == SIGALRM ? VMS_WIRE_TIMEOUT : VMS_WIRE_SIGNAL, sig, 0, 0, NULL);
	} else {
		send_result(VMS_WIRE_NO_RESULT, WIFEXITED(status) ? WEXITSTATUS(status) : 0, 0, 0,
			    NULL);
	}
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
	struct vms_tracked_file *files;
	size_t n_files;
	vms_hooks_take_tracked(&files, &n_files);
	uint64_t arena = vms_arena_used_since_cap();
	/* Fresh children allocate just past the helper's last block; small pages there, so
	 * that their first write does not fault in (and clear) a whole huge page. */
	vms_arena_prepare_fork();
	if (vms_wire_send_ready(H.sock, arena, H.msgs, files, n_files) < 0)
		_exit(0);

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
		answer_for(status);
	}
}

/* The template: the preamble on the program's own lines, then the marker. */
static void build_template(struct vms_buf *t, const char *preamble, size_t plen,
			   const char *body_path)
{
	vms_buf_append(t, preamble, plen);
	if (plen && preamble[plen - 1] != '\n')
		vms_buf_puts(t, "\n");
	vms_buf_printf(t, "#include \"%s\"\n", body_path);
}

/* The OS layer under the open hooks' confinement: from here on the helper (and every
 * child it forks, which inherit the namespace and the Landlock domain) can read only what
 * the hooks would let TCC open — the confinement lists, plus the directories and the
 * header as the options name them (TCC opens them by those names, which may run through
 * symlinks the resolved lists do not hold) — and write nothing. TCC needs nothing else
 * after exec: libc and libtcc are mapped already, its runtime directory is listed, and
 * fork, the arena's (huge) pages and the socket need no files. 0, or -errno with *why. */
static int enter_sandbox(const struct vms_wire_setup *s, const char **why)
{
	struct vms_argv rd = { 0 };
	for (char **p = s->cdirs; p && *p; p++)
		vms_argv_push(&rd, *p);
	for (char **p = s->cfiles; p && *p; p++)
		vms_argv_push(&rd, *p);
	for (const char *const *p = s->o.include_dirs; p && *p; p++)
		vms_argv_push(&rd, *p);
	vms_argv_push(&rd, s->o.headers_dir);
	vms_argv_push(&rd, s->o.tcc_lib_dir ? s->o.tcc_lib_dir : VMS_TCC_DEFAULT_LIB_DIR);
	if (s->o.vmlinux_header)
		vms_argv_push(&rd, s->o.vmlinux_header);
	char cwd[4096];
	struct vms_sandbox sb = { .read = (const char *const *)rd.v, .mech = s->o.sandbox_mech,
				  .root = s->o.sandbox_root,
				  .cwd = getcwd(cwd, sizeof(cwd)) ? cwd : NULL };
	int rc = vms_sandbox_enter(&sb, why);
	vms_argv_free(&rd);
	return rc;
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

	/* the frame and the setup live as long as the helper: TCC reads the template,
	 * the options and the confinement lists from them */
	struct vms_wire_frame f;
	struct vms_wire_setup s;
	if (vms_wire_recv(sock, -1, &f) < 0 || vms_wire_get_setup(&f, &s) < 0)
		return 1;
	if (s.o.confine && s.o.sandbox_mech) {
		const char *why = NULL;
		int rc = enter_sandbox(&s, &why);
		if (rc < 0) {
			/* never on unconfined: the caller fails the check with this */
			vms_wire_send_setup_fail(sock, -rc, why ? why : "cannot enter");
			_exit(0);
		}
	}
	struct vms_buf t = { 0 };
	build_template(&t, s.preamble, s.plen, s.body_path);

	struct vms_raw_msgs msgs = { 0 };
	H.msgs = &msgs;
	vms_hooks_add_vfile(s.tmpl_path, t.data, t.len);
	vms_hooks_set_marker(s.body_path, on_marker, NULL);
	vms_hooks_set_vmlinux(s.o.vmlinux_header);
	if (s.o.confine)
		vms_hooks_set_confine(s.cdirs, s.cfiles);
	vms_hooks_track(1);
	vms_arena_reset();
	vms_arena_set_cap(0);
	vms_hooks_set_heap(VMS_HEAP_ARENA);
	struct vms_diags d = { 0 };
	TCCState *st = vms_tcc_new_state(&s.o, &msgs, &d);
	if (st)
		tcc_add_file(st, s.tmpl_path);
	if (H.is_child)
		child_commit_and_exit();
	/* The marker was never reached: an error in the preamble. */
	for (size_t i = 0; i < d.n; i++)
		vms_raw_msgs_add(&msgs, vms_xasprintf("tcc: error: %s", d.v[i].msg), 0, 0);
	vms_wire_send_preamble_fail(H.sock, &msgs);
	_exit(0);
}
