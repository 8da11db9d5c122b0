/* clangsnap/start.c: starting, checking and stopping a snapshot (the cc1 fork server). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clangsnap/internal.h"
#include "clangsnap/proto.h"
#include "common/ppscan.h"

#ifndef VMSLIM_CLANGSNAP_SHIM_PATH
#define VMSLIM_CLANGSNAP_SHIM_PATH "libvmslim_clangsnap_shim.so"
#endif

extern char **environ;

int csnap_fileid_get(const char *path, struct csnap_fileid *id)
{
	struct stat st;
	memset(id, 0, sizeof(*id));
	if (stat(path, &st) < 0)
		return -errno;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtime = st.st_mtim;
	id->ctime = st.st_ctim;
	return 0;
}

int csnap_fileid_same(const struct csnap_fileid *a, const struct csnap_fileid *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* `clang -###` prints each job as space-separated arguments, each in double quotes with
 * '"', '\\' and '$' escaped by a backslash (llvm::sys::printArg). */
void csnap_split_job(const char *line, struct vms_argv *out)
{
	const char *p = line;
	struct vms_buf b = { 0 };
	while (*p) {
		while (*p == ' ')
			p++;
		if (*p != '"')
			break;
		p++;
		b.len = 0;
		vms_buf_append(&b, "", 0);
		while (*p && *p != '"') {
			if (*p == '\\' && p[1])
				p++;
			vms_buf_append(&b, p, 1);
			p++;
		}
		if (*p == '"')
			p++;
		vms_argv_push(out, b.data ? b.data : "");
	}
	vms_buf_free(&b);
}

static char *abs_in(const char *cwd, const char *p)
{
	if (p[0] == '/')
		return vms_xstrdup(p);
	return vms_xasprintf("%s/%s", cwd, p);
}

/* Options whose value is the next argument: anything else that does not start with '-'
 * is an input, which the snapshot cannot take among its flags. */
static int takes_value(const char *a)
{
	static const char *const two[] = { "-I", "-D", "-U", "-include", "-imacros", "-isystem",
					   "-iquote", "-idirafter", "-target", "-Xclang", "-mllvm",
					   "-include-pch", "-isysroot", "--sysroot", "-std", "-arch",
					   "-Xlinker", NULL };
	for (size_t i = 0; two[i]; i++)
		if (!strcmp(a, two[i]))
			return 1;
	return 0;
}

/* Why these flags cannot be served by one long-lived compile, or NULL. */
static const char *flags_refusal(const char *const *f)
{
	for (size_t i = 0; f && f[i]; i++) {
		const char *a = f[i];
		if (a[0] != '-')
			return "an input file among the flags";
		if (!strcmp(a, "-c") || !strncmp(a, "-o", 2) || !strcmp(a, "-E") ||
		    !strcmp(a, "-S") || !strcmp(a, "-fsyntax-only") || !strcmp(a, "-###") ||
		    !strcmp(a, "-v") || !strcmp(a, "-emit-llvm") || !strncmp(a, "-save-temps", 11) ||
		    !strcmp(a, "-x") || !strncmp(a, "-x", 2))
			return "a flag that chooses the input, the output or the kind of output";
		if (!strncmp(a, "-M", 2) || !strncmp(a, "-Wp,-M", 6))
			return "dependency-file flags among the flags (a snapshot writes a "
			       "dependency file by its opts.deps)";
		if (!strcmp(a, "-include-pch"))
			return "-include-pch among the flags (give it as the PCH)";
		if (takes_value(a)) {
			if (!f[i + 1])
				return "a flag without its value";
			i++;
		}
	}
	return NULL;
}

/* The directory clang finds "vmlinux.h" in through the flags' -iquote and -I directories
 * (the program's own directory comes first in a plain build; build.c's child checks that
 * at each build). Owned path, or NULL. */
static char *resolve_header(const char *const *f, const char *cwd, const char *name)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; f && f[i]; i++) {
			const char *flag = pass == 0 ? "-iquote" : "-I";
			size_t fl = strlen(flag);
			const char *dir = NULL;
			if (!strcmp(f[i], flag) && f[i + 1])
				dir = f[i + 1];
			else if (!strncmp(f[i], flag, fl) && f[i][fl] && pass == 1)
				dir = f[i] + fl;
			if (takes_value(f[i]))
				i++;
			if (!dir)
				continue;
			char *d = abs_in(cwd, dir);
			char *p = vms_xasprintf("%s/%s", d, name);
			free(d);
			if (access(p, F_OK) == 0)
				return p;
			free(p);
		}
	}
	return NULL;
}

struct guard_scan {
	int ndir;
	int guarded;
	int includes;
	char guard[128];
};

static int guard_dir(void *ctx, const struct vms_pp_src *s, const struct vms_pp_dir *dir)
{
	(void)s;
	struct guard_scan *g = ctx;
	if (dir->name_len == 7 && !memcmp(dir->name, "include", 7))
		g->includes = 1;
	if (g->ndir == 0 && dir->name_len == 6 && !memcmp(dir->name, "ifndef", 6) &&
	    dir->text_len < sizeof(g->guard)) {
		memcpy(g->guard, dir->text, dir->text_len);
		g->guard[dir->text_len] = 0;
	} else if (g->ndir == 1 && g->guard[0] && dir->name_len == 6 &&
		   !memcmp(dir->name, "define", 6) && dir->text_len >= strlen(g->guard) &&
		   !memcmp(dir->text, g->guard, strlen(g->guard))) {
		g->guarded = 1;
	} else if (g->ndir == 0 && dir->name_len == 6 && !memcmp(dir->name, "pragma", 6) &&
		   dir->text_len >= 4 && !memcmp(dir->text, "once", 4)) {
		g->guarded = 1;
	}
	g->ndir++;
	return 0;
}

/* Why the header cannot be read once for many programs, or NULL: it needs an include
 * guard (the program's own #include of it is then free) and must include nothing (a
 * change there would go unseen). */
static const char *header_refusal(const char *path, struct vms_diags *d)
{
	char *text;
	size_t len;
	if (vms_read_file(path, &text, &len) < 0)
		return "the header cannot be read";
	struct vms_pp_src src;
	struct guard_scan g = { 0 };
	const char *why = NULL;
	if (vms_pp_open(&src, text, len, 0, path, d) < 0) {
		why = "the header cannot be scanned";
	} else {
		struct vms_pp_ops ops = { .directive = guard_dir, .ctx = &g };
		vms_pp_scan(&src, 0, &ops);
		if (!g.guarded)
			why = "the header has no include guard, so a program's #include of it "
			      "would read it again";
		else if (g.includes)
			why = "the header includes other files, whose changes a snapshot would "
			      "not see";
	}
	vms_pp_close(&src);
	free(text);
	return why;
}

static int refuse(struct vms_diags *d, const char *what, const char *why)
{
	vms_diag_add(d, VMS_ERROR, what, 0, 0, "clang snapshot does not apply: %s", why);
	return -ENOTSUP;
}

/* The driver's one cc1 job for the template, as argv. */
static int driver_job(struct vms_clangsnap *s, const char *tmpl, const char *out,
		      struct vms_argv *job, struct vms_diags *d)
{
	struct vms_argv a = { 0 };
	vms_argv_push(&a, s->clang_path);
	vms_argv_push(&a, "-###");
	for (size_t i = 0; i < s->flags.n; i++)
		vms_argv_push(&a, s->flags.v[i]);
	if (s->pch) {
		vms_argv_push(&a, "-include-pch");
		vms_argv_push(&a, s->pch);
	}
	if (s->dep_path) {
		/* the driver turns these into cc1's -dependency-file, -MT and (-MD)
		 * -sys-header-deps; the target and the template's entries are rewritten per
		 * build (build.c) */
		vms_argv_push(&a, s->deps == VMS_CLANGSNAP_DEPS_MMD ? "-MMD" : "-MD");
		vms_argv_push(&a, "-MF");
		vms_argv_push(&a, s->dep_path);
	}
	vms_argv_push(&a, "-c");
	vms_argv_push(&a, tmpl);
	vms_argv_push(&a, "-o");
	vms_argv_push(&a, out);
	/* -### prints the jobs for the directory it runs in; chdir would move every thread
	 * of the daemon, so the compilation directories are rewritten below instead */
	struct vms_proc_result r;
	int rc = vms_run(a.v, NULL, 0, 30000, &r);
	vms_argv_free(&a);
	if (rc < 0) {
		vms_diag_add(d, VMS_ERROR, s->clang_path, 0, 0, "cannot run clang: %s", strerror(-rc));
		return rc;
	}
	int jobs = 0;
	const char *line = NULL;
	for (char *p = r.err; p && *p;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		if (p[0] == ' ' && p[1] == '"') {
			jobs++;
			line = p;
		}
		p = nl ? nl + 1 : p + strlen(p);
	}
	if (r.exit_code != 0 || jobs != 1) {
		rc = refuse(d, s->clang_path, r.exit_code ? "the driver refused the flags"
							  : "the driver does not run one compile job");
	} else {
		csnap_split_job(line, job);
		for (size_t i = 0; i < job->n; i++) {
			static const char *const dirs[] = { "-fdebug-compilation-dir",
							    "-fcoverage-compilation-dir", NULL };
			for (size_t k = 0; dirs[k]; k++) {
				size_t l = strlen(dirs[k]);
				if (strncmp(job->v[i], dirs[k], l))
					continue;
				if (job->v[i][l] == '=') {
					free(job->v[i]);
					job->v[i] = vms_xasprintf("%s=%s", dirs[k], s->cwd);
				} else if (!job->v[i][l] && i + 1 < job->n) {
					free(job->v[i + 1]);
					job->v[i + 1] = vms_xstrdup(s->cwd);
				}
			}
		}
		if (job->n < 3 || strcmp(job->v[1], "-cc1") != 0 ||
		    strcmp(job->v[job->n - 1], tmpl) != 0)
			rc = refuse(d, s->clang_path, "the driver's job is not one cc1 on the input");
	}
	vms_proc_result_free(&r);
	return rc;
}

/* Blank padding: the space a program's text is mapped over (not a page multiple, so
 * clang maps it rather than reading it: a mapping can be replaced under the lexer). */
static int write_template(struct vms_clangsnap *s, struct vms_diags *d)
{
	s->main_len = VMS_CLANGSNAP_MAX_SOURCE;
	char *blank = vms_xmalloc(s->main_len);
	memset(blank, ' ', s->main_len);
	blank[s->main_len - 1] = '\n';
	csnap_md5(blank, s->main_len, s->blank_md5);
	int rc = vms_write_file_atomic(s->main_path, blank, s->main_len, 0600);
	free(blank);
	char *marker = vms_xasprintf("%s/marker.h", s->work_dir);
	if (!rc)
		rc = vms_write_file_atomic(marker, "", 0, 0600);
	free(marker);
	if (rc)
		vms_diag_add(d, VMS_ERROR, s->work_dir, 0, 0, "cannot write the template: %s",
			     strerror(-rc));
	return rc;
}

/* How this clang lays out -MP's rules (clang 14 puts a blank line before each, clang 19
 * none): asked of it once, on a file including an empty header, in the work directory. */
static int probe_phony(struct vms_clangsnap *s, struct vms_diags *d)
{
	char *c = vms_xasprintf("%s/probe.c", s->work_dir);
	char *h = vms_xasprintf("%s/probe.h", s->work_dir);
	char *dep = vms_xasprintf("%s/probe.d", s->work_dir);
	int rc = vms_write_file_atomic(h, "", 0, 0600);
	if (!rc)
		rc = vms_write_file_atomic(c, "#include \"probe.h\"\n", 20, 0600);
	struct vms_proc_result r = { 0 };
	const char *av[] = { s->clang_path, "-E", "-MD", "-MP", "-MF", dep, c, "-o", "/dev/null",
			     NULL };
	if (!rc)
		rc = vms_run((char *const *)av, NULL, 0, 30000, &r);
	char *text = NULL;
	if (!rc && r.exit_code == 0 && vms_read_file(dep, &text, NULL) == 0)
		s->phony_blank = strstr(text, "\n\n") != NULL;
	else if (!rc)
		rc = refuse(d, s->clang_path, "clang could not write a dependency file");
	else
		vms_diag_add(d, VMS_ERROR, s->clang_path, 0, 0, "cannot run clang: %s", strerror(-rc));
	if (r.err || r.out)
		vms_proc_result_free(&r);
	free(text);
	unlink(c), unlink(h), unlink(dep);
	free(c), free(h), free(dep);
	return rc;
}

/* The shim: the option, $VMSLIM_CLANGSNAP_SHIM, beside the running program (the build
 * tree) or in its prefix's libexec/vmslim (an install under any prefix), else where it
 * was built. Owned. */
static char *find_shim(const char *opt)
{
	const char *env = getenv("VMSLIM_CLANGSNAP_SHIM");
	if (opt || (env && *env))
		return vms_xstrdup(opt ? opt : env);
	char *p = vms_find_beside_exe(vms_basename(VMSLIM_CLANGSNAP_SHIM_PATH), R_OK);
	return p ? p : vms_xstrdup(VMSLIM_CLANGSNAP_SHIM_PATH);
}

static void push_env(struct vms_argv *env, const char *k, const char *v)
{
	vms_argv_pushf(env, "%s=%s", k, v);
}

static int wait_ready(struct vms_clangsnap *s, const char *err_path, struct vms_diags *d)
{
	struct pollfd pf = { s->ctl, POLLIN, 0 };
	int n;
	do
		n = poll(&pf, 1, 300000);
	while (n < 0 && errno == EINTR);
	struct csnap_ready m;
	memset(&m, 0, sizeof(m));
	ssize_t got = n > 0 ? recv(s->ctl, &m, sizeof(m), 0) : -1;
	char *text = NULL;
	size_t len = 0;
	vms_read_file(err_path, &text, &len);
	int rc = 0;
	if (n == 0) {
		rc = refuse(d, s->clang_path, "clang did not reach the marker in 300 s");
	} else if (got != (ssize_t)sizeof(m) || m.magic != CSNAP_MAGIC) {
		char *why = vms_xasprintf("clang ended before the marker (shim not loaded?)%s%s",
					  len ? ": " : "", len ? text : "");
		rc = refuse(d, s->clang_path, why);
		free(why);
	} else if (m.err) {
		m.why[sizeof(m.why) - 1] = 0;
		rc = refuse(d, s->clang_path, m.why);
	} else if (len) {
		/* The header's own warnings would be printed once here and never by a build. */
		char *why = vms_xasprintf("the template gives diagnostics a plain build would "
					  "repeat: %s", text);
		rc = refuse(d, s->header, why);
		free(why);
	}
	free(text);
	return rc;
}

static void reap(struct vms_clangsnap *s)
{
	if (s->pid <= 0)
		return;
	for (int i = 0; i < 200; i++) {
		pid_t w = waitpid(s->pid, NULL, WNOHANG);
		if (w == s->pid || (w < 0 && errno == ECHILD))
			goto done;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	kill(s->pid, SIGKILL);
	while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
		;
done:
	vms_cleanup_remove_child(s->pid);
	s->pid = -1;
}

/* The socket forked processes connect to (<work_dir>/ctl.sock), or -1 when the path does
 * not fit a socket address: then only the owner builds. */
static int listen_socket(struct vms_clangsnap *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *path = vms_xasprintf("%s/" CSNAP_SOCKET_NAME, s->work_dir);
	int fd = -1;
	if (strlen(path) < sizeof(sa.sun_path)) {
		memcpy(sa.sun_path, path, strlen(path) + 1);
		unlink(path);
		fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (fd >= 0 && (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0)) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0)
		s->sock_path = path;
	else
		free(path);
	return fd;
}

static int spawn(struct vms_clangsnap *s, struct vms_argv *job, const char *shim,
		 const char *err_path, struct vms_diags *d)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "socketpair: %s", strerror(errno));
		return -errno;
	}
	int lfd = listen_socket(s);
	struct vms_argv env = { 0 };
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "LD_PRELOAD=", 11) && strncmp(*e, "VMSLIM_CLANGSNAP_", 17))
			vms_argv_push(&env, *e);
	push_env(&env, "LD_PRELOAD", shim);
	push_env(&env, CSNAP_ENV_FD, "3");
	push_env(&env, CSNAP_ENV_MAIN, s->main_path);
	vms_argv_pushf(&env, "%s=%s/marker.h", CSNAP_ENV_MARKER, s->work_dir);
	vms_argv_pushf(&env, "%s=%s/template.o", CSNAP_ENV_OUT, s->work_dir);
	push_env(&env, CSNAP_ENV_DIR, s->work_dir);
	push_env(&env, CSNAP_ENV_HEADER, s->header);
	if (s->source)
		push_env(&env, CSNAP_ENV_SOURCE, s->source);
	if (s->dep_path)
		push_env(&env, CSNAP_ENV_DEP, s->dep_path);
	if (lfd >= 0)
		push_env(&env, CSNAP_ENV_LISTEN, "4");
	int errfd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (errfd < 0 || nullfd < 0) {
		int e = errno;
		vms_diag_add(d, VMS_ERROR, err_path, 0, 0, "cannot open: %s", strerror(e));
		close(sv[0]);
		close(sv[1]);
		if (lfd >= 0)
			close(lfd);
		if (errfd >= 0)
			close(errfd);
		if (nullfd >= 0)
			close(nullfd);
		vms_argv_free(&env);
		return -e;
	}
	pid_t parent = getpid();
	vms_cleanup_hold();
	pid_t pid = fork();
	if (pid == 0) {
		/* only async-signal-safe calls until exec (the daemon has threads) */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(127);
		if (chdir(s->cwd) < 0)
			_exit(127);
		if (dup2(nullfd, 0) < 0 || dup2(nullfd, 1) < 0 || dup2(errfd, 2) < 0 ||
		    dup2(sv[1], 3) < 0 || (lfd >= 0 && dup2(lfd, 4) < 0))
			_exit(127);
		close_range(lfd >= 0 ? 5 : 4, ~0u, 0);
		execve(job->v[0], job->v, env.v);
		_exit(127);
	}
	int fork_errno = errno;
	if (pid > 0)
		vms_cleanup_add_child(pid);
	vms_cleanup_release();
	close(sv[1]);
	if (lfd >= 0)
		close(lfd);
	close(errfd);
	close(nullfd);
	vms_argv_free(&env);
	if (pid < 0) {
		close(sv[0]);
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "fork: %s", strerror(fork_errno));
		return -fork_errno;
	}
	s->pid = pid;
	s->ctl = sv[0];
	return 0;
}

int vms_clangsnap_start(const struct vms_clangsnap_opts *o, struct vms_clangsnap **out,
			struct vms_diags *d)
{
	*out = NULL;
	if (!o->header) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "clang snapshot: no header given");
		return -EINVAL;
	}
	const char *why = flags_refusal(o->flags);
	if (why)
		return refuse(d, NULL, why);
	struct vms_clangsnap *s = vms_xcalloc(1, sizeof(*s));
	s->ctl = -1;
	s->pid = -1;
	s->conn = -1;
	s->owner = getpid();
	s->deps = o->deps;
	s->source = o->source ? vms_xstrdup(o->source) : NULL;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->umask = umask(022);
	umask(s->umask);
	s->max_jobs = o->max_jobs > 0 ? o->max_jobs : 4;
	s->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 120000;
	s->clang = vms_xstrdup(vms_clang_default(o->clang));
	for (size_t i = 0; o->flags && o->flags[i]; i++)
		vms_argv_push(&s->flags, o->flags[i]);
	char cwdbuf[PATH_MAX];
	s->cwd = o->cwd ? vms_realpath(o->cwd) : (getcwd(cwdbuf, sizeof(cwdbuf)) ?
						       vms_xstrdup(cwdbuf) : NULL);
	s->header = vms_realpath(o->header);
	s->pch = o->pch ? vms_realpath(o->pch) : NULL;
	char *w = vms_which(s->clang);
	s->clang_path = w ? vms_realpath(w) : NULL;
	free(w);
	struct vms_argv job = { 0 };
	char *err_path = NULL, *resolved = NULL;
	int rc = 0;
	if (!s->cwd || !s->header || (o->pch && !s->pch) || !s->clang_path) {
		const char *what = !s->cwd ? "the build directory" : !s->header ? o->header
				 : (o->pch && !s->pch) ? o->pch : s->clang;
		vms_diag_add(d, VMS_ERROR, what, 0, 0, "not found");
		rc = -ENOENT;
		goto fail;
	}
	csnap_fileid_get(s->clang_path, &s->clang_id);
	csnap_fileid_get(s->header, &s->header_id);
	if (s->pch)
		csnap_fileid_get(s->pch, &s->pch_id);
	if ((why = header_refusal(s->header, d))) {
		rc = refuse(d, s->header, why);
		goto fail;
	}
	if (s->source) {
		/* the program's own directory comes first for "vmlinux.h" */
		char *abs = abs_in(s->cwd, s->source);
		char *dir = vms_dirname(abs);
		char *p = vms_xasprintf("%s/vmlinux.h", dir);
		if (access(p, F_OK) == 0)
			resolved = p;
		else
			free(p);
		free(dir);
		free(abs);
	}
	if (!resolved)
		resolved = resolve_header(o->flags, s->cwd, "vmlinux.h");
	struct csnap_fileid rid;
	if (!resolved || csnap_fileid_get(resolved, &rid) < 0 || rid.dev != s->header_id.dev ||
	    rid.ino != s->header_id.ino) {
		rc = refuse(d, s->header, "the flags' -I directories do not make \"vmlinux.h\" "
					  "this header");
		goto fail;
	}
	if (o->work_dir) {
		s->work_dir = vms_realpath(o->work_dir);
	} else {
		char *t = vms_make_tempdir("vmslim-clangsnap");
		s->work_dir = t ? vms_realpath(t) : NULL;
		if (t && s->work_dir && strcmp(t, s->work_dir)) {
			/* the cleanup list holds t: keep removing that one */
			free(s->work_dir);
			s->work_dir = vms_xstrdup(t);
		}
		free(t);
		s->own_work_dir = 1;
	}
	if (!s->work_dir) {
		vms_diag_add(d, VMS_ERROR, o->work_dir, 0, 0, "no work directory: %s", strerror(errno));
		rc = -errno ? -errno : -EIO;
		goto fail;
	}
	s->main_path = vms_xasprintf("%s/template.c", s->work_dir);
	if (s->deps != VMS_CLANGSNAP_DEPS_NONE)
		s->dep_path = vms_xasprintf("%s/template.d", s->work_dir);
	if ((rc = write_template(s, d)))
		goto fail;
	if (s->dep_path && (rc = probe_phony(s, d)))
		goto fail;
	char *tmpl_out = vms_xasprintf("%s/template.o", s->work_dir);
	/* a one-program snapshot compiles the program's path (the shim gives cc1 the blank
	 * template when it opens it); the driver runs elsewhere, so it gets it absolute, and
	 * cc1 the spelling of the command line, as in a plain build */
	char *input = s->source ? abs_in(s->cwd, s->source) : vms_xstrdup(s->main_path);
	rc = driver_job(s, input, tmpl_out, &job, d);
	free(tmpl_out);
	free(input);
	if (rc)
		goto fail;
	if (s->source) {
		free(job.v[job.n - 1]);
		job.v[job.n - 1] = vms_xstrdup(s->source);
	}
	s->cc1_path = vms_realpath(job.v[0]);
	if (s->cc1_path)
		csnap_fileid_get(s->cc1_path, &s->cc1_id);
	/* The header (unless it comes from the PCH) and the marker, last in the -include
	 * list: the flags' own -include files still come first, as in a plain build where
	 * they precede the main file. An absolute path: -include looks in cwd first. */
	struct vms_argv argv = { 0 };
	for (size_t i = 0; i + 3 < job.n; i++)
		/* freeing the AST before the backend saves memory, not output: in a child it
		 * would only tear down the header's AST that the server keeps anyway */
		if (strcmp(job.v[i], "-clear-ast-before-backend"))
			vms_argv_push(&argv, job.v[i]);
	if (!s->pch) {
		vms_argv_push(&argv, "-include");
		vms_argv_push(&argv, s->header);
	}
	vms_argv_push(&argv, "-include");
	vms_argv_pushf(&argv, "%s/marker.h", s->work_dir);
	for (size_t i = job.n - 3; i < job.n; i++)
		vms_argv_push(&argv, job.v[i]);
	if (strcmp(job.v[job.n - 3], "-x") != 0) {
		vms_argv_free(&argv);
		rc = refuse(d, s->clang_path, "the driver's job does not end in -x c <input>");
		goto fail;
	}
	char *shim = find_shim(o->shim);
	if (access(shim, R_OK) < 0) {
		vms_argv_free(&argv);
		vms_diag_add(d, VMS_ERROR, shim, 0, 0, "clang snapshot shim not found");
		free(shim);
		rc = -ENOENT;
		goto fail;
	}
	err_path = vms_xasprintf("%s/template.err", s->work_dir);
	rc = spawn(s, &argv, shim, err_path, d);
	free(shim);
	vms_argv_free(&argv);
	if (rc)
		goto fail;
	if ((rc = wait_ready(s, err_path, d)))
		goto fail;
	vms_argv_free(&job);
	free(err_path);
	free(resolved);
	*out = s;
	return 0;
fail:
	vms_argv_free(&job);
	free(err_path);
	free(resolved);
	vms_clangsnap_stop(s);
	return rc;
}

int vms_clangsnap_matches(const struct vms_clangsnap *s, const char *clang,
			  const char *const *flags, const char *header, const char *pch,
			  const char *cwd, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	*why = NULL;
	if (s->dead || s->pid <= 0)
		return *why = "the snapshot is not running", 0;
	char *w = vms_which(vms_clang_default(clang));
	char *cp = w ? vms_realpath(w) : NULL;
	free(w);
	int same_clang = cp && !strcmp(cp, s->clang_path);
	free(cp);
	if (!same_clang)
		return *why = "another clang", 0;
	struct csnap_fileid id;
	if (csnap_fileid_get(s->clang_path, &id) < 0 || !csnap_fileid_same(&id, &s->clang_id) ||
	    (s->cc1_path && (csnap_fileid_get(s->cc1_path, &id) < 0 ||
			     !csnap_fileid_same(&id, &s->cc1_id))))
		return *why = "the clang binary changed on disk", 0;
	size_t n = 0;
	while (flags && flags[n])
		n++;
	if (n != s->flags.n)
		return *why = "other flags", 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(flags[i], s->flags.v[i]))
			return *why = "other flags", 0;
	char *h = header ? vms_realpath(header) : NULL;
	int same_header = h && !strcmp(h, s->header);
	free(h);
	if (!same_header)
		return *why = "another header", 0;
	if (csnap_fileid_get(s->header, &id) < 0 || !csnap_fileid_same(&id, &s->header_id))
		return *why = "the header changed on disk", 0;
	char *p = pch ? vms_realpath(pch) : NULL;
	int same_pch = (!p && !s->pch) || (p && s->pch && !strcmp(p, s->pch));
	free(p);
	if (!same_pch)
		return *why = "another PCH", 0;
	if (s->pch && (csnap_fileid_get(s->pch, &id) < 0 || !csnap_fileid_same(&id, &s->pch_id)))
		return *why = "the PCH changed on disk", 0;
	char cwdbuf[PATH_MAX];
	char *c = cwd ? vms_realpath(cwd) : (getcwd(cwdbuf, sizeof(cwdbuf)) ?
					     vms_xstrdup(cwdbuf) : NULL);
	int same_cwd = c && !strcmp(c, s->cwd);
	free(c);
	if (!same_cwd)
		return *why = "another build directory", 0;
	return 1;
}

int vms_clangsnap_pid(const struct vms_clangsnap *s)
{
	return s && s->pid > 0 ? (int)s->pid : -1;
}

int vms_clangsnap_alive(struct vms_clangsnap *s)
{
	if (s->pid <= 0 || s->dead)
		return 0;
	pid_t w = waitpid(s->pid, NULL, WNOHANG);
	if (w == 0)
		return 1;
	if (w == s->pid || (w < 0 && errno == ECHILD)) {
		vms_cleanup_remove_child(s->pid);
		s->pid = -1;
	}
	s->dead = 1;
	return 0;
}

void vms_clangsnap_stop(struct vms_clangsnap *s)
{
	if (!s)
		return;
	/* EOF on the control socket: the server kills its children and exits */
	if (s->ctl >= 0)
		close(s->ctl);
	if (s->conn >= 0)
		close(s->conn);
	reap(s);
	if (s->work_dir) {
		if (s->own_work_dir) {
			vms_remove_tree(s->work_dir);
		} else {
			const char *names[] = { "template.c", "marker.h", "template.err",
						CSNAP_SOCKET_NAME, "template.d", NULL };
			for (size_t i = 0; names[i]; i++) {
				char *p = vms_xasprintf("%s/%s", s->work_dir, names[i]);
				unlink(p);
				free(p);
			}
		}
	}
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	vms_argv_free(&s->flags);
	free(s->clang);
	free(s->clang_path);
	free(s->cc1_path);
	free(s->header);
	free(s->pch);
	free(s->cwd);
	free(s->work_dir);
	free(s->main_path);
	free(s->sock_path);
	free(s->dep_path);
	free(s->source);
	free(s);
}
