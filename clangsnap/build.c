/* clangsnap/build.c: one build through a running snapshot. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
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

/* ---- the request ------------------------------------------------------------------ */

/* The text clang lexes as its main file: the program, named by a #line as a plain build
 * names it (diagnostics, __FILE__, debug and BTF line info, which reads the named file),
 * then blanks up to the template's size. -1 (errno) or the memfd. */
static int main_text(const struct vms_clangsnap *s, const char *source, const char *text,
		     size_t len, const char **why)
{
	struct vms_buf b = { 0 };
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
	vms_buf_free(&b);
	if (rc) {
		close(fd);
		errno = -rc;
		return -1;
	}
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
		     int err_fd, int *status)
{
	int sp[2];
	if (pipe2(sp, O_CLOEXEC) < 0)
		return -errno;
	struct csnap_req req;
	memset(&req, 0, sizeof(req));
	req.magic = CSNAP_MAGIC;
	req.timeout_ms = (uint32_t)s->timeout_ms;
	snprintf(req.srcdir, sizeof(req.srcdir), "%s", srcdir);
	int fds[CSNAP_REQ_FDS] = { src_fd, out_fd, err_fd, sp[1] };
	int rc = send_req(s->ctl, &req, fds);
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
			const char *dep_file, struct vms_build_result *r, struct vms_diags *d)
{
	memset(r, 0, sizeof(*r));
	double t0 = vms_now_ms();
	r->clang_stderr = vms_xstrdup("");
	r->header_path = vms_xstrdup(s->header);
	r->used_pch = s->pch != NULL;
	if (dep_file)
		return not_applicable(r, "dependency files are not written by snapshot builds yet");
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
	if ((why = preamble_refusal(text, len, source))) {
		free(text);
		return not_applicable(r, why);
	}
	int src_fd = main_text(s, source, text, len, &why);
	free(text);
	if (src_fd == -2)
		return not_applicable(r, why);
	if (src_fd < 0) {
		rc = -errno;
		vms_diag_add(d, VMS_ERROR, source, 0, 0, "memfd: %s", strerror(errno));
		return rc;
	}
	/* the program's directory, which a plain build searches first for "quoted" names */
	char *abs_src = source[0] == '/' ? vms_xstrdup(source)
					 : vms_xasprintf("%s/%s", s->cwd, source);
	char *srcdir = vms_dirname(abs_src);
	free(abs_src);
	char *out_abs = output[0] == '/' ? vms_xstrdup(output)
					 : vms_xasprintf("%s/%s", s->cwd, output);
	char *tmp = vms_xasprintf("%s.csnap-XXXXXX", out_abs);
	vms_cleanup_hold();
	int out_fd = mkostemp(tmp, O_CLOEXEC);
	if (out_fd >= 0)
		vms_cleanup_add_path(tmp);
	vms_cleanup_release();
	int err_fd = memfd_create("clangsnap-stderr", MFD_CLOEXEC);
	if (out_fd < 0 || err_fd < 0) {
		rc = -errno;
		vms_diag_add(d, VMS_ERROR, out_fd < 0 ? tmp : NULL, 0, 0, "cannot create: %s",
			     strerror(errno));
		goto out;
	}
	/* the mode clang gives objects; mkostemp made it 0600 */
	fchmod(out_fd, 0666 & ~s->umask);
	slot_acquire(s);
	double t1 = vms_now_ms();
	int st = 0;
	int got = run_child(s, srcdir, src_fd, out_fd, err_fd, &st);
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
	} else if (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 1) {
		r->clang_exit = WEXITSTATUS(st);
		rc = r->clang_exit;
		r->mode = vms_xstrdup(s->pch ? "clang snapshot (PCH)" : "clang snapshot");
	} else {
		char *w = vms_xasprintf("clang exited with %d", WEXITSTATUS(st));
		rc = not_applicable(r, w);
		free(w);
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
	close(src_fd);
	if (rc == 2) {
		/* the caller runs plain clang, which prints its own messages */
		free(r->clang_stderr);
		r->clang_stderr = vms_xstrdup("");
	}
	free(tmp);
	free(out_abs);
	free(srcdir);
	r->total_ms = vms_now_ms() - t0;
	return rc;
}
