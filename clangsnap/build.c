/* clangsnap/build.c: one build through a running snapshot. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clangsnap/internal.h"
#include "clangsnap/proto.h"
#include "common/ppscan.h"

/* ---- the program's preamble ------------------------------------------------------- */

struct first_scan {
	const char *why;	/* static */
	int seen;
};

static int first_dir(void *ctx, const struct vms_pp_src *s, const struct vms_pp_dir *d)
{
	(void)s;
	struct first_scan *f = ctx;
	f->seen = 1;
	if (d->name_len != 7 || memcmp(d->name, "include", 7)) {
		f->why = "a directive other than #include \"vmlinux.h\" comes first (the header "
			 "was read without it)";
		return 1;
	}
	static const char *const ok[] = { "\"vmlinux.h\"", "<vmlinux.h>", NULL };
	for (size_t i = 0; ok[i]; i++) {
		size_t l = strlen(ok[i]);
		if (d->text_len >= l && !memcmp(d->text, ok[i], l) &&
		    (d->text_len == l || d->text[l] == ' '))
			return 1;
	}
	f->why = "the first #include is not \"vmlinux.h\"";
	return 1;
}

static int first_code(void *ctx, const struct vms_pp_src *s, const struct vms_pp_code *c)
{
	(void)s;
	(void)c;
	struct first_scan *f = ctx;
	f->seen = 1;
	f->why = "code comes before #include \"vmlinux.h\"";
	return 1;
}

/* Why the program cannot be compiled after a header read without it, or NULL: the
 * snapshot read the header first, so the program's first directive must be its include
 * (a #define before it, e.g. BPF_NO_PRESERVE_ACCESS_INDEX, would change the header). */
static const char *preamble_refusal(const char *text, size_t len, const char *file)
{
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
		return "the source starts with a byte-order mark";
	struct vms_pp_src src;
	struct vms_diags d = { 0 };
	struct first_scan f = { 0 };
	if (vms_pp_open(&src, text, len, 0, file, &d) < 0) {
		f.why = "the source cannot be scanned";
	} else {
		struct vms_pp_ops ops = { .directive = first_dir, .code = first_code, .ctx = &f };
		vms_pp_scan(&src, 0, &ops);
		if (!f.seen)
			f.why = "the source does not include \"vmlinux.h\"";
	}
	vms_pp_close(&src);
	vms_diags_free(&d);
	return f.why;
}

/* ---- the dependency file ------------------------------------------------------------ */

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* The dependency file a plain build writes, from the one the child's clang wrote. The
 * child's lists the template's main file, the header (an absolute -include), the marker,
 * then what the program includes, in clang's order and spelling; a plain build lists the
 * source, then what the program includes. The program's first include is the header: if
 * it spelled the header as the -include did, clang merged the two and the entry already
 * sits right after the main file, as in a plain build; otherwise it is listed again under
 * the plain build's spelling, and the -include's goes. Owned, or NULL (not a rule). */
static char *dep_text(const struct vms_clangsnap *s, const char *text, size_t len,
		      const char *source, const struct vms_dep_req *q)
{
	struct vms_argv targets = { 0 }, toks = { 0 }, deps = { 0 };
	vms_dep_rule(text, len, &targets, &toks);
	char *out = NULL;
	if (toks.n < 3)
		goto done;
	char *u0 = vms_dep_unescape(toks.v[0]);
	char *marker = vms_xasprintf("%s/marker.h", s->work_dir);
	int ok = !strcmp(u0, s->main_path) || (s->source && !strcmp(u0, s->source));
	free(u0);
	char *src = vms_dep_escape(source);
	vms_argv_push(&deps, src);
	free(src);
	int header_again = 0;
	for (size_t i = 1; i < toks.n && ok; i++) {
		char *u = vms_dep_unescape(toks.v[i]);
		if (i > 2 && same_file(u, s->header))
			header_again = 1;
		free(u);
	}
	for (size_t i = 1; i < toks.n && ok; i++) {
		char *u = vms_dep_unescape(toks.v[i]);
		int drop = !strcmp(u, marker) || (i == 1 && header_again && !strcmp(u, s->header));
		free(u);
		if (!drop)
			vms_argv_push(&deps, toks.v[i]);
	}
	free(marker);
	if (ok) {
		vms_argv_free(&targets);
		for (size_t i = 0; q->targets && q->targets[i]; i++)
			vms_argv_push(&targets, q->targets[i]);
		out = vms_dep_format(&targets, &deps,
				     !q->phony ? 0 : s->phony_blank ? VMS_DEP_PHONY_BLANK
								 : VMS_DEP_PHONY_TIGHT,
				     source);
	}
done:
	vms_argv_free(&targets);
	vms_argv_free(&toks);
	vms_argv_free(&deps);
	return out;
}

/* Writes text to path whole or not at all (a temporary beside it, renamed over it), as
 * clang writes its outputs: without an fsync. 0 or -errno. */
static int write_output(const char *path, const char *text, mode_t mode)
{
	char *tmp = vms_xasprintf("%s.csnap-XXXXXX", path);
	vms_cleanup_hold();
	int fd = mkostemp(tmp, O_CLOEXEC);
	int e = fd < 0 ? -errno : 0;
	if (fd >= 0)
		vms_cleanup_add_path(tmp);
	vms_cleanup_release();
	if (fd >= 0) {
		e = vms_write_all(fd, text, strlen(text));
		if (!e && fchmod(fd, mode) < 0)
			e = -errno;
		e = vms_tmp_commit(fd, tmp, path, e);
		vms_cleanup_remove_path(tmp);
	}
	free(tmp);
	return e;
}

/* The process's umask without changing it (umask(2) is process-wide: another thread could
 * create a file in between); the one read at start when /proc says nothing. */
static mode_t current_umask(const struct vms_clangsnap *s)
{
	char *text;
	mode_t m = s->umask;
	if (vms_read_file("/proc/self/status", &text, NULL) == 0) {
		const char *p = strstr(text, "\nUmask:");
		if (p)
			m = (mode_t)strtoul(p + 8, NULL, 8) & 0777;
		free(text);
	}
	return m;
}

/* ---- the object's DWARF 5 checksums ------------------------------------------------ */

static size_t find16(const unsigned char *p, size_t n, size_t from, const unsigned char k[16])
{
	for (size_t i = from; i + 16 <= n; i++)
		if (p[i] == k[0] && !memcmp(p + i, k, 16))
			return i;
	return (size_t)-1;
}

/* A one-program snapshot's object records the blank template's MD5 for the main file
 * (the shim made clang hash the blank each time); the plain build's records the
 * program's. 0 done (or no checksums), 2 when the object holds the MD5 of the padded
 * program text (the shim's MD5 wrappers did not take: the main file would be listed
 * twice, which no patch repairs), -errno. */
static int patch_md5(const struct vms_clangsnap *s, int fd, const unsigned char padded[16],
		     const char *text, size_t len)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	size_t n = (size_t)st.st_size;
	unsigned char *obj = vms_xmalloc(n ? n : 1);
	int rc = 0;
	if (pread(fd, obj, n, 0) != (ssize_t)n) {
		rc = -EIO;
		goto out;
	}
	if (find16(obj, n, 0, padded) != (size_t)-1) {
		rc = 2;
		goto out;
	}
	unsigned char want[16];
	csnap_md5(text, len, want);
	for (size_t at = find16(obj, n, 0, s->blank_md5); at != (size_t)-1 && !rc;
	     at = find16(obj, n, at + 16, s->blank_md5))
		if (pwrite(fd, want, 16, (off_t)at) != 16)
			rc = -EIO;
out:
	free(obj);
	return rc;
}

/* ---- the request ------------------------------------------------------------------ */

/* The text clang lexes as its main file: the program (in a snapshot for any program,
 * named by a #line as a plain build names it: diagnostics, __FILE__, debug and BTF line
 * info, which reads the named file), then blanks up to the template's size. -1 (errno)
 * or the memfd; *md5 gets the MD5 of that whole text. */
static int main_text(const struct vms_clangsnap *s, const char *source, const char *text,
		     size_t len, const char **why, unsigned char md5[16])
{
	struct vms_buf b = { 0 };
	vms_buf_append(&b, "", 0);
	if (s->source)
		goto text;
	vms_buf_puts(&b, "#line 1 \"");
	for (const char *p = source; *p; p++) {
		if ((unsigned char)*p < ' ' || *p == 0x7f) {
			*why = "the source's path holds control characters";
			vms_buf_free(&b);
			return -2;
		}
		if (*p == '"' || *p == '\\')
			vms_buf_append(&b, "\\", 1);
		vms_buf_append(&b, p, 1);
	}
	vms_buf_puts(&b, "\"\n");
text:
	if (b.len + len + 1 > s->main_len) {
		*why = "the source is larger than the snapshot's template";
		vms_buf_free(&b);
		return -2;
	}
	int fd = memfd_create("clangsnap-source", MFD_CLOEXEC);
	if (fd < 0) {
		vms_buf_free(&b);
		return -1;
	}
	int rc = ftruncate(fd, (off_t)s->main_len) < 0 ? -errno : 0;
	if (!rc)
		rc = vms_write_all(fd, b.data, b.len);
	if (!rc)
		rc = vms_write_all(fd, text, len);
	if (!rc) {
		/* the rest: blanks, ending in a newline like the template */
		size_t left = s->main_len - b.len - len;
		char *blank = vms_xmalloc(left);
		memset(blank, ' ', left);
		blank[0] = '\n';
		blank[left - 1] = '\n';
		rc = vms_write_all(fd, blank, left);
		free(blank);
	}
	if (!rc && s->source) {
		void *m = mmap(NULL, s->main_len, PROT_READ, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED) {
			rc = -errno;
		} else {
			csnap_md5(m, s->main_len, md5);
			munmap(m, s->main_len);
		}
	}
	vms_buf_free(&b);
	if (rc) {
		close(fd);
		errno = -rc;
		return -1;
	}
	return fd;
}

/* The socket this process sends requests on: the control socket in the process that
 * started the snapshot; in a process forked from it (which may have closed its copy, and
 * whose number may name another file now), its own connection. -1 when none can be had. */
static int request_socket(struct vms_clangsnap *s)
{
	pid_t self = getpid();
	if (self == s->owner)
		return s->ctl;
	if (s->conn >= 0 && s->conn_pid == self)
		return s->conn;
	s->conn = -1; /* the parent's: not ours to close */
	if (!s->sock_path)
		return -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->sock_path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		fd = -1;
	}
	s->conn = fd;
	s->conn_pid = self;
	return fd;
}

static int send_req(int ctl, const struct csnap_req *req, const int fds[CSNAP_REQ_FDS])
{
	char cbuf[CMSG_SPACE(sizeof(int) * CSNAP_REQ_FDS)];
	memset(cbuf, 0, sizeof(cbuf));
	struct iovec iov = { (void *)req, sizeof(*req) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * CSNAP_REQ_FDS);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * CSNAP_REQ_FDS);
	ssize_t n;
	do
		n = sendmsg(ctl, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*req) ? 0 : -1;
}

/* Reads one int32 from the status pipe: 1, 0 at EOF (the server died), -1 on timeout. */
static int read_int(int fd, int timeout_ms, int32_t *v)
{
	double end = vms_now_ms() + timeout_ms;
	size_t got = 0;
	while (got < sizeof(*v)) {
		int left = (int)(end - vms_now_ms());
		if (left <= 0)
			return -1;
		struct pollfd pf = { fd, POLLIN, 0 };
		int n = poll(&pf, 1, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		ssize_t r = read(fd, (char *)v + got, sizeof(*v) - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		got += (size_t)r;
	}
	return 1;
}

static char *read_fd_all(int fd)
{
	struct vms_buf b = { 0 };
	vms_buf_append(&b, "", 0);
	if (lseek(fd, 0, SEEK_SET) == 0) {
		char tmp[8192];
		ssize_t n;
		while ((n = read(fd, tmp, sizeof(tmp))) > 0)
			vms_buf_append(&b, tmp, (size_t)n);
	}
	return vms_buf_steal(&b);
}

static void slot_acquire(struct vms_clangsnap *s)
{
	pthread_mutex_lock(&s->mu);
	while (s->running >= s->max_jobs)
		pthread_cond_wait(&s->cv, &s->mu);
	s->running++;
	pthread_mutex_unlock(&s->mu);
}

static void slot_release(struct vms_clangsnap *s)
{
	pthread_mutex_lock(&s->mu);
	s->running--;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static int not_applicable(struct vms_build_result *r, const char *why)
{
	free(r->mode);
	r->mode = vms_xasprintf("clang snapshot does not apply: %s", why);
	return 2;
}

/* The request's child: sends it and waits for its wait status. 1 with *status, 0 when
 * the server died, -1 on timeout (the child is killed), -errno when it could not send. */
static int run_child(struct vms_clangsnap *s, const char *srcdir, int src_fd, int out_fd,
		     int err_fd, int dep_fd, int *status)
{
	int sock = request_socket(s);
	if (sock < 0)
		return 0;
	int sp[2];
	if (pipe2(sp, O_CLOEXEC) < 0)
		return -errno;
	struct csnap_req req;
	memset(&req, 0, sizeof(req));
	req.magic = CSNAP_MAGIC;
	req.timeout_ms = (uint32_t)s->timeout_ms;
	snprintf(req.srcdir, sizeof(req.srcdir), "%s", srcdir);
	int fds[CSNAP_REQ_FDS] = { src_fd, out_fd, err_fd, sp[1], dep_fd };
	int rc = send_req(sock, &req, fds);
	close(sp[1]);
	if (rc < 0) {
		close(sp[0]);
		return 0;
	}
	int32_t pid = 0, st = 0;
	/* the child's own timer kills it at timeout_ms; this bound is for a wedged server */
	int got = read_int(sp[0], 30000, &pid);
	if (got == 1 && pid > 0)
		got = read_int(sp[0], s->timeout_ms + 30000, &st);
	else if (got == 1)
		got = 0;
	if (got < 0 && pid > 0)
		kill(pid, SIGKILL);
	close(sp[0]);
	*status = st;
	return got;
}

int vms_clangsnap_build(struct vms_clangsnap *s, const char *source, const char *output,
			const struct vms_dep_req *deps, struct vms_build_result *r,
			struct vms_diags *d)
{
	memset(r, 0, sizeof(*r));
	double t0 = vms_now_ms();
	r->clang_stderr = vms_xstrdup("");
	r->header_path = vms_xstrdup(s->header);
	r->used_pch = s->pch != NULL;
	if (deps && s->deps == VMS_CLANGSNAP_DEPS_NONE)
		return not_applicable(r, "a dependency file is asked for; the snapshot writes none");
	if (deps && (deps->system != 0) != (s->deps == VMS_CLANGSNAP_DEPS_MD))
		return not_applicable(r, deps->system ? "-MD asked for, the snapshot writes -MMD's"
						      : "-MMD asked for, the snapshot writes -MD's");
	const char *why = NULL;
	if (!vms_clangsnap_matches(s, s->clang, (const char *const *)s->flags.v, s->header, s->pch,
				   s->cwd, &why))
		return not_applicable(r, why);
	char *text;
	size_t len;
	int rc = vms_read_file(source, &text, &len);
	if (rc < 0) {
		vms_diag_add(d, VMS_ERROR, source, 0, 0, "cannot read: %s", strerror(-rc));
		return rc;
	}
	if (s->source && strcmp(source, s->source)) {
		free(text);
		return not_applicable(r, "another program than the snapshot's");
	}
	if ((why = preamble_refusal(text, len, source))) {
		free(text);
		return not_applicable(r, why);
	}
	if (memmem(text, len, "__TIMESTAMP__", 13)) {
		/* the main file's mtime, which clang took from the template */
		free(text);
		return not_applicable(r, "the program names __TIMESTAMP__");
	}
	unsigned char padded_md5[16];
	int src_fd = main_text(s, source, text, len, &why, padded_md5);
	if (src_fd == -2) {
		free(text);
		return not_applicable(r, why);
	}
	if (src_fd < 0) {
		rc = -errno;
		vms_diag_add(d, VMS_ERROR, source, 0, 0, "memfd: %s", strerror(errno));
		free(text);
		return rc;
	}
	/* the program's directory, which a plain build searches first for "quoted" names */
	char *abs_src = source[0] == '/' ? vms_xstrdup(source)
					 : vms_xasprintf("%s/%s", s->cwd, source);
	char *srcdir = vms_dirname(abs_src);
	free(abs_src);
	if (s->source) {
		/* the program's directory comes first for "vmlinux.h": it must still be ours */
		char *local = vms_xasprintf("%s/vmlinux.h", srcdir);
		int other = access(local, F_OK) == 0 && !same_file(local, s->header);
		free(local);
		if (other) {
			free(srcdir);
			free(text);
			close(src_fd);
			return not_applicable(r, "a vmlinux.h other than the snapshot's appeared "
						 "beside the program");
		}
	}
	char *out_abs = output[0] == '/' ? vms_xstrdup(output)
					 : vms_xasprintf("%s/%s", s->cwd, output);
	char *tmp = vms_xasprintf("%s.csnap-XXXXXX", out_abs);
	vms_cleanup_hold();
	int out_fd = mkostemp(tmp, O_CLOEXEC);
	if (out_fd >= 0)
		vms_cleanup_add_path(tmp);
	vms_cleanup_release();
	int err_fd = memfd_create("clangsnap-stderr", MFD_CLOEXEC);
	int dep_fd = memfd_create("clangsnap-deps", MFD_CLOEXEC);
	if (out_fd < 0 || err_fd < 0 || dep_fd < 0) {
		rc = -errno;
		vms_diag_add(d, VMS_ERROR, out_fd < 0 ? tmp : NULL, 0, 0, "cannot create: %s",
			     strerror(errno));
		goto out;
	}
	/* the mode clang gives objects; mkostemp made it 0600 */
	mode_t mask = current_umask(s);
	fchmod(out_fd, 0666 & ~mask);
	slot_acquire(s);
	double t1 = vms_now_ms();
	int st = 0;
	int got = run_child(s, srcdir, src_fd, out_fd, err_fd, dep_fd, &st);
	r->compile_ms = vms_now_ms() - t1;
	slot_release(s);
	free(r->clang_stderr);
	r->clang_stderr = read_fd_all(err_fd);
	if (got < 0 && got != -1) {
		rc = got;
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "clang snapshot: %s", strerror(-got));
	} else if (got == 0) {
		s->dead = 1;
		rc = not_applicable(r, "the snapshot process is gone");
	} else if (got < 0) {
		rc = not_applicable(r, "the build timed out");
	} else if (WIFSIGNALED(st)) {
		char *w = vms_xasprintf("clang %s (signal %d) on this program",
					WTERMSIG(st) == SIGALRM ? "timed out" : "crashed",
					WTERMSIG(st));
		rc = not_applicable(r, w);
		free(w);
	} else if (WEXITSTATUS(st) == CSNAP_EXIT_NA) {
		const char *m = strstr(r->clang_stderr, CSNAP_NA_PREFIX);
		char *w = vms_xstrdup(m ? m + strlen(CSNAP_NA_PREFIX) : "the child refused");
		w[strcspn(w, "\n")] = 0;
		rc = not_applicable(r, w);
		free(w);
	} else if ((WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 1) &&
		   strstr(r->clang_stderr, "<built-in>")) {
		/* a message about the header (one clang gives at the end of the unit, say) shows
		 * the template's -include in its include stack where a plain build shows the
		 * program's #include: only a plain build prints it right */
		rc = not_applicable(r, "clang's messages show the template's -include");
	} else if (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 1) {
		r->clang_exit = WEXITSTATUS(st);
		rc = r->clang_exit;
		r->mode = vms_xstrdup(s->pch ? "clang snapshot (PCH)" : "clang snapshot");
	} else {
		char *w = vms_xasprintf("clang exited with %d", WEXITSTATUS(st));
		rc = not_applicable(r, w);
		free(w);
	}
	if (rc == 0 && s->source) {
		int p = patch_md5(s, out_fd, padded_md5, text, len);
		if (p == 2)
			rc = not_applicable(r, "clang's MD5 of the main file could not be made the "
					       "template's (DWARF 5 would list it twice)");
		else if (p < 0) {
			vms_diag_add(d, VMS_ERROR, output, 0, 0, "cannot patch: %s", strerror(-p));
			rc = p;
		}
	}
	if (rc == 0 && deps) {
		char *raw = read_fd_all(dep_fd);
		char *text = dep_text(s, raw, strlen(raw), source, deps);
		free(raw);
		int c = text ? write_output(deps->file, text, 0666 & ~mask) : 0;
		if (!text)
			rc = not_applicable(r, "clang's dependency file is not the template's");
		else if (c < 0) {
			vms_diag_add(d, VMS_ERROR, deps->file, 0, 0, "cannot write: %s", strerror(-c));
			rc = c;
		}
		free(text);
	}
	if (rc == 0) {
		int c = vms_tmp_commit(out_fd, tmp, output, 0);
		out_fd = -1;
		if (c < 0) {
			vms_diag_add(d, VMS_ERROR, output, 0, 0, "cannot write: %s", strerror(-c));
			rc = c;
		}
	}
out:
	if (out_fd >= 0) {
		close(out_fd);
		unlink(tmp);
	}
	vms_cleanup_remove_path(tmp);
	if (err_fd >= 0)
		close(err_fd);
	if (dep_fd >= 0)
		close(dep_fd);
	close(src_fd);
	if (rc == 2) {
		/* the caller runs plain clang, which prints its own messages */
		free(r->clang_stderr);
		r->clang_stderr = vms_xstrdup("");
	}
	free(text);
	free(tmp);
	free(out_abs);
	free(srcdir);
	r->total_ms = vms_now_ms() - t0;
	return rc;
}
