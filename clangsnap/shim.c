/* clangsnap/shim.c: the LD_PRELOAD shim that turns a cc1 process into a fork server.
 *
 * Until the marker (the template's last -include) is opened it only watches: which fd is
 * the template main file and where clang maps it (clang maps the main file before the
 * -include list is read, and lexes it only after), and which fd is the output temporary
 * (clang opens <out>-XXXXXXXX.o.tmp with O_CREAT|O_EXCL before parsing, writes the object
 * at the end and renames it). LLVM opens files with open(), so open, open64, openat and
 * openat64 are all wrapped; stat-like lookups go through open too for #include.
 *
 * At the marker the process becomes the server (it never returns to clang): it unlinks
 * the template's temporary, reports ready, and forks one child per request. The child
 * maps the request's text over the main file (MAP_FIXED at the same address: the lexer's
 * pointers stay valid), dup2s the request's output file onto the output temporary's fd,
 * and returns from the marker's open into clang, which compiles the program as its main
 * file. clang's final rename of the temporary becomes a no-op: the library renames its
 * own file once it has the child's exit status.
 *
 * A snapshot for one program (VMSLIM_CLANGSNAP_SOURCE) runs cc1 on the program's own path,
 * as a plain build does, so that the names clang keeps from its start (the compile unit's
 * DW_AT_name, the main file's directory for quoted includes, the dependency file's first
 * entry) are the plain build's; the shim opens the blank template when cc1 opens that
 * path. DWARF 5 also records the main file's MD5, taken once at the start (of the blank)
 * and again for the program's functions: the shim makes the second one hash the blank
 * too (clang's calls into LLVM's MD5 go through the dynamic linker, so it can wrap them),
 * so that clang sees one main file, and the library writes the program's MD5 over the
 * blank's in the object.
 *
 * Without the variables (any other process that inherits LD_PRELOAD) it does nothing. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clangsnap/proto.h"

#define EXPORT __attribute__((visibility("default")))
#define MAX_CHILDREN 256
#define MAX_CLIENTS 64

static struct {
	int active;		/* the variables are set */
	int served;		/* the marker was reached */
	int child;		/* this is a request's child */
	int ctl;
	const char *main_path, *marker, *dir, *header;
	const char *dep_path;	/* the template's dependency file, or NULL */
	const char *source;	/* the input cc1 opens (one-program snapshots), or NULL */
	const void *blank;	/* the template main file's bytes (mapped for the MD5 wrappers) */
	int dep_fd;		/* a child's: the request's dependency file */
	int listen;		/* where other processes connect, or -1 */
	size_t dir_len;
	dev_t header_dev;
	ino_t header_ino;
	int main_fd;		/* open template main file, until mapped */
	void *main_addr;
	size_t main_len;
	int out_fd;
	char out_tmp[PATH_MAX];
	char srcdir[PATH_MAX];
} S = { .ctl = -1, .main_fd = -1, .out_fd = -1, .dep_fd = -1, .listen = -1 };

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static int (*real_rename)(const char *, const char *);
static int (*real_close)(int);

__attribute__((constructor)) static void shim_init(void)
{
	real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	real_openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
	real_mmap = (void *(*)(void *, size_t, int, int, int, off_t))dlsym(RTLD_NEXT, "mmap");
	real_rename = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
	real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
	const char *fd = getenv(CSNAP_ENV_FD);
	S.main_path = getenv(CSNAP_ENV_MAIN);
	S.marker = getenv(CSNAP_ENV_MARKER);
	S.dir = getenv(CSNAP_ENV_DIR);
	S.header = getenv(CSNAP_ENV_HEADER);
	S.dep_path = getenv(CSNAP_ENV_DEP);
	S.source = getenv(CSNAP_ENV_SOURCE);
	const char *lfd = getenv(CSNAP_ENV_LISTEN);
	S.listen = lfd ? atoi(lfd) : -1;
	if (!fd || !S.main_path || !S.marker || !S.dir || !S.header || !real_open ||
	    !real_openat || !real_mmap || !real_rename || !real_close)
		return;
	S.ctl = atoi(fd);
	S.dir_len = strlen(S.dir);
	struct stat st;
	if (stat(S.header, &st) == 0) {
		S.header_dev = st.st_dev;
		S.header_ino = st.st_ino;
	}
	S.active = 1;
}

static void put_err(const char *s)
{
	ssize_t n = write(2, s, strlen(s));
	(void)n;
}

/* A child that meets what a plain clang would do otherwise stops, so the caller falls
 * back to plain clang. */
static void not_applicable(const char *what, const char *name)
{
	put_err(CSNAP_NA_PREFIX);
	put_err(what);
	put_err(name);
	put_err("\n");
	_exit(CSNAP_EXIT_NA);
}

/* In a child, a lookup of <template dir>/X is clang searching the main file's directory
 * for a quoted #include "X". A plain build would search the program's directory there:
 * if X exists in it (other than the header itself, which the snapshot has read), the
 * plain build would read that file, so this build does not apply. */
static void guard_lookup(const char *path)
{
	if (strncmp(path, S.dir, S.dir_len) != 0 || path[S.dir_len] != '/')
		return;
	if (strcmp(path, S.marker) == 0 || strcmp(path, S.main_path) == 0)
		return;
	const char *rest = path + S.dir_len + 1;
	char alt[PATH_MAX];
	if ((size_t)snprintf(alt, sizeof(alt), "%s/%s", S.srcdir, rest) >= sizeof(alt))
		not_applicable("include path too long: ", rest);
	struct stat st;
	if (stat(alt, &st) != 0)
		return;
	if (st.st_dev == S.header_dev && st.st_ino == S.header_ino)
		return;
	not_applicable("it includes a file from its own directory: ", rest);
}

static void send_ready(int err, const char *why)
{
	struct csnap_ready m;
	memset(&m, 0, sizeof(m));
	m.magic = CSNAP_MAGIC;
	m.err = err;
	if (why)
		snprintf(m.why, sizeof(m.why), "%s", why);
	while (send(S.ctl, &m, sizeof(m), MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

struct slot {
	pid_t pid;
	int status_fd;
};

static void write_int(int fd, int v)
{
	int32_t x = v;
	ssize_t n = write(fd, &x, sizeof(x));
	(void)n;
}

/* Receives one request: 1 with fds[] filled, 0 at EOF (the library is gone), -1 on a bad
 * message (its descriptors closed). */
static int recv_req(int sock, struct csnap_req *req, int fds[CSNAP_REQ_FDS])
{
	char cbuf[CMSG_SPACE(sizeof(int) * CSNAP_REQ_FDS)];
	struct iovec iov = { req, sizeof(*req) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	ssize_t n;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0;
	int nfds = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (int i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (nfds < CSNAP_REQ_FDS)
				fds[nfds++] = fd;
			else
				close(fd);
		}
	}
	if (n != (ssize_t)sizeof(*req) || req->magic != CSNAP_MAGIC || nfds != CSNAP_REQ_FDS ||
	    (mh.msg_flags & MSG_CTRUNC)) {
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		return -1;
	}
	req->srcdir[sizeof(req->srcdir) - 1] = 0;
	return 1;
}

/* The child's side of a fork: become the request's compile. Returns the marker's fd. */
static int become_request(const struct csnap_req *req, int fds[CSNAP_REQ_FDS], pid_t server,
			  const sigset_t *old_mask, int sfd, struct slot *slots, int nslots,
			  const int *clients, int nclients, int flags)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != server)
		_exit(CSNAP_EXIT_NA);
	close(S.ctl);
	close(sfd);
	if (S.listen >= 0)
		close(S.listen);
	for (int i = 0; i < nclients; i++)
		close(clients[i]);
	for (int i = 0; i < nslots; i++)
		close(slots[i].status_fd);
	close(fds[3]);
	S.dep_fd = fds[4];
	sigprocmask(SIG_SETMASK, old_mask, NULL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(fds[2], 2) < 0 || dup2(fds[1], S.out_fd) < 0)
		_exit(CSNAP_EXIT_NA);
	void *p = real_mmap(S.main_addr, S.main_len, PROT_READ, MAP_PRIVATE | MAP_FIXED, fds[0], 0);
	if (p != S.main_addr)
		not_applicable("cannot map the program over the template: ", strerror(errno));
	close(fds[0]);
	close(fds[1]);
	close(fds[2]);
	if (req->timeout_ms) {
		/* SIGALRM's default action ends the process; clang does not catch it. */
		struct itimerval it = { { 0, 0 }, { req->timeout_ms / 1000,
						    (req->timeout_ms % 1000) * 1000 } };
		setitimer(ITIMER_REAL, &it, NULL);
	}
	snprintf(S.srcdir, sizeof(S.srcdir), "%s", req->srcdir);
	S.child = 1;
	return real_open(S.marker, flags);
}

/* The server loop; returns only in a child (the marker's fd for clang). */
static int serve(int flags)
{
	if (!S.main_addr || S.out_fd < 0) {
		send_ready(-EPROTO, !S.main_addr ? "clang did not map the template main file"
						 : "clang's output temporary was not seen");
		_exit(3);
	}
	unlink(S.out_tmp);
	sigset_t chld, old;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		send_ready(-errno, "signalfd");
		_exit(3);
	}
	int bfd = real_open(S.main_path, O_RDONLY | O_CLOEXEC);
	if (bfd >= 0) {
		void *b = real_mmap(NULL, S.main_len, PROT_READ, MAP_PRIVATE, bfd, 0);
		S.blank = b == MAP_FAILED ? NULL : b;
		real_close(bfd);
	}
	int dn = real_open("/dev/null", O_RDWR | O_CLOEXEC);
	if (dn >= 0) {
		/* The server's own stderr (the template's) says nothing more. */
		dup2(dn, 2);
		close(dn);
	}
	/* a client that goes away mid-build must not take the server with it */
	signal(SIGPIPE, SIG_IGN);
	send_ready(0, NULL);
	pid_t self = getpid();
	static struct slot slots[MAX_CHILDREN];
	int nslots = 0;
	/* sockets requests come on: the control socket, then connected clients */
	static int clients[MAX_CLIENTS];
	int nclients = 0;
	for (;;) {
		struct pollfd pf[3 + MAX_CLIENTS];
		pf[0] = (struct pollfd){ S.ctl, POLLIN, 0 };
		pf[1] = (struct pollfd){ sfd, POLLIN, 0 };
		pf[2] = (struct pollfd){ S.listen, POLLIN, 0 }; /* -1: ignored by poll */
		for (int i = 0; i < nclients; i++)
			pf[3 + i] = (struct pollfd){ clients[i], POLLIN, 0 };
		if (poll(pf, (nfds_t)(3 + nclients), -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) > 0)
				;
			int st;
			pid_t pid;
			while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
				for (int i = 0; i < nslots; i++) {
					if (slots[i].pid != pid)
						continue;
					write_int(slots[i].status_fd, st);
					close(slots[i].status_fd);
					slots[i] = slots[--nslots];
					break;
				}
			}
		}
		if (pf[2].revents & POLLIN) {
			int c = accept4(S.listen, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0 && nclients < MAX_CLIENTS)
				clients[nclients++] = c;
			else if (c >= 0)
				close(c);
		}
		/* the control socket first (its EOF ends everything), then each client; a
		 * client's EOF only closes its connection */
		int stop = 0;
		for (int k = nclients; k >= 0 && !stop; k--) {
			int idx = k == 0 ? 0 : 2 + k;
			if (!(pf[idx].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			int sock = pf[idx].fd;
			struct csnap_req req;
			int fds[CSNAP_REQ_FDS];
			int got = recv_req(sock, &req, fds);
			if (got == 0 && k == 0) {
				stop = 1;
				break;
			}
			if (got == 0) {
				close(sock);
				clients[k - 1] = clients[--nclients];
				continue;
			}
			if (got < 0)
				continue;
			pid_t pid = nslots < MAX_CHILDREN ? fork() : -1;
			if (pid == 0)
				return become_request(&req, fds, self, &old, sfd, slots, nslots,
						      clients, nclients, flags);
			write_int(fds[3], pid < 0 ? -1 : (int)pid);
			if (pid > 0) {
				slots[nslots].pid = pid;
				slots[nslots].status_fd = fds[3];
				nslots++;
			} else {
				close(fds[3]);
			}
			close(fds[0]);
			close(fds[1]);
			close(fds[2]);
			close(fds[4]);
		}
		if (stop)
			break;
	}
	/* The library is gone: nothing may outlive it. */
	for (int i = 0; i < nslots; i++)
		kill(slots[i].pid, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	_exit(0);
}

static int on_open(const char *path, int flags, int fd)
{
	if (fd < 0 || S.child)
		return fd;
	if (S.main_fd < 0 && !S.main_addr && strcmp(path, S.main_path) == 0) {
		S.main_fd = fd;
	} else if (S.out_fd < 0 && (flags & O_CREAT) && strncmp(path, S.dir, S.dir_len) == 0 &&
		   path[S.dir_len] == '/') {
		size_t n = strlen(path);
		if (n > 4 && strcmp(path + n - 4, ".tmp") == 0 && n < sizeof(S.out_tmp)) {
			S.out_fd = fd;
			memcpy(S.out_tmp, path, n + 1);
		}
	}
	return fd;
}

static int wrapped_open(int dirfd, const char *path, int flags, mode_t mode)
{
	if (!S.active || !path)
		return dirfd == AT_FDCWD ? real_open(path, flags, mode)
					 : real_openat(dirfd, path, flags, mode);
	if (S.child && S.dep_path && strcmp(path, S.dep_path) == 0) {
		/* clang writes the dependency file: the request's */
		return fcntl(S.dep_fd, (flags & O_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
	} else if (S.child) {
		guard_lookup(path);
	} else if (!S.served && strcmp(path, S.marker) == 0) {
		S.served = 1;
		return serve(flags);
	} else if (!S.served && S.source && strcmp(path, S.source) == 0) {
		path = S.main_path; /* the program's name, the template's blank bytes */
	}
	int fd = dirfd == AT_FDCWD ? real_open(path, flags, mode)
				   : real_openat(dirfd, path, flags, mode);
	return on_open(path, flags, fd);
}

#define MODE_ARG(flags, mode)                                                                 \
	do {                                                                                  \
		if (((flags) & O_CREAT) || ((flags) & __O_TMPFILE) == __O_TMPFILE) {                                      \
			va_list ap;                                                           \
			va_start(ap, flags);                                                  \
			mode = va_arg(ap, mode_t);                                            \
			va_end(ap);                                                           \
		}                                                                             \
	} while (0)

EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	return wrapped_open(AT_FDCWD, path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	return wrapped_open(AT_FDCWD, path, flags, mode);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	return wrapped_open(dirfd, path, flags, mode);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	MODE_ARG(flags, mode);
	return wrapped_open(dirfd, path, flags, mode);
}

static void *wrapped_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = real_mmap(addr, len, prot, flags, fd, off);
	if (S.active && !S.served && fd >= 0 && fd == S.main_fd && p != MAP_FAILED && off == 0) {
		S.main_addr = p;
		S.main_len = len;
		S.main_fd = -1; /* clang closes it next; the number will be reused */
	}
	return p;
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return wrapped_mmap(addr, len, prot, flags, fd, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return wrapped_mmap(addr, len, prot, flags, fd, off);
}

/* Read (not mapped) and closed: the number is about to name another file. */
EXPORT int close(int fd)
{
	if (S.active && !S.served && fd >= 0 && fd == S.main_fd)
		S.main_fd = -1;
	return real_close ? real_close(fd) : (int)syscall(SYS_close, fd);
}

EXPORT int rename(const char *from, const char *to)
{
	if (S.active && S.child && from && strcmp(from, S.out_tmp) == 0)
		return 0; /* the library commits the request's own output file */
	return real_rename(from, to);
}

/* ---- LLVM's MD5, as clang calls it for DWARF 5 file checksums ----------------------- *
 * clang 14 hashes a file with MD5::update(StringRef) + final, clang 19 with the static
 * MD5::hash(ArrayRef<uint8_t>); both take (pointer, length) in registers. In a child, the
 * main file's mapping (the program) is hashed as the blank template it replaced. */

struct md5_result {
	uint64_t lo, hi; /* std::array<uint8_t, 16>, returned in two registers */
};

static const void *md5_input(const void *p, size_t n)
{
	if (S.child && S.source && S.blank && p == S.main_addr && n == S.main_len)
		return S.blank;
	return p;
}

EXPORT void _ZN4llvm3MD56updateENS_9StringRefE(void *self, const char *p, size_t n)
{
	static void (*real)(void *, const char *, size_t);
	if (!real)
		real = (void (*)(void *, const char *, size_t))dlsym(RTLD_NEXT,
			"_ZN4llvm3MD56updateENS_9StringRefE");
	real(self, md5_input(p, n), n);
}

EXPORT void _ZN4llvm3MD56updateENS_8ArrayRefIhEE(void *self, const unsigned char *p, size_t n)
{
	static void (*real)(void *, const unsigned char *, size_t);
	if (!real)
		real = (void (*)(void *, const unsigned char *, size_t))dlsym(RTLD_NEXT,
			"_ZN4llvm3MD56updateENS_8ArrayRefIhEE");
	real(self, md5_input(p, n), n);
}

EXPORT struct md5_result _ZN4llvm3MD54hashENS_8ArrayRefIhEE(const unsigned char *p, size_t n)
{
	static struct md5_result (*real)(const unsigned char *, size_t);
	if (!real)
		real = (struct md5_result (*)(const unsigned char *, size_t))dlsym(RTLD_NEXT,
			"_ZN4llvm3MD54hashENS_8ArrayRefIhEE");
	return real(md5_input(p, n), n);
}
