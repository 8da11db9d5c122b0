/* The daemon's scratch hygiene and fairness, driven through real daemons and clients.
 *
 * usage: test_serve_fair PART VMSLIM VMLINUX_DIR WORK_DIR
 *   crash    a crash is an answer: the TCC checker's crash (a check) and clang's (a build,
 *            `#pragma clang __debug crash`) are cached; no crash reproducer is left
 *   timeout  a build killed at --time-limit leaves no job directory (nor the source)
 *   sweep    a daemon killed with SIGKILL leaves its scratch directory; the next daemon
 *            to start removes it, and keeps a live daemon's, another uid's, a symlink's
 *            target and a directory without an owner mark
 *   idle     one client (uid) holding 128 idle connections: 32 are taken, the rest get
 *            "busy", another client (another uid) is served at once; idle connections
 *            and a partial line that never completes are closed after --idle-timeout
 *   queue    6 heavy builds from one client, then a small one from another: the small
 *            one runs next (round robin), not after the six
 *   cancel   a client that disconnects with a heavy build in flight: its worker and
 *            clang are killed, nothing is cached
 * The parts that need two uids (idle, queue) run as root (a forked child takes uid
 * 65534) and skip otherwise. Latencies are printed, never asserted beyond sanity bounds
 * that say "not starved". */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"
#include "serve/serve.h"
#include "tests/testutil.h"

#define OTHER_UID 65534

static const char *vmslim, *vmlinux_dir, *work;
static char *tmpdir; /* the daemons' $TMPDIR: their scratch directories live here */

/* ---- daemons ---------------------------------------------------------------------- */

struct srv {
	pid_t pid;
	char *sock, *log;
};

static void srv_start(struct srv *s, const char *name, const char *const *extra)
{
	s->sock = vms_xasprintf("%s/%s.sock", work, name);
	s->log = vms_xasprintf("%s/%s.log", work, name);
	char *cache = vms_xasprintf("%s/%s.cache", work, name);
	struct vms_argv a = { 0 };
	const char *base[] = { vmslim, "serve", "--socket", s->sock, "--cache-dir", cache,
			       "-I", vmlinux_dir, NULL };
	for (size_t i = 0; base[i]; i++)
		vms_argv_push(&a, base[i]);
	for (size_t i = 0; extra && extra[i]; i++)
		vms_argv_push(&a, extra[i]);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setenv("TMPDIR", tmpdir, 1);
		execv(vmslim, a.v);
		_exit(127);
	}
	vms_argv_free(&a);
	free(cache);
	s->pid = pid;
	for (int i = 0; i < 1500; i++) {
		char *reply = NULL;
		if (vms_client_call(s->sock, "{\"op\":\"ping\"}", &reply, 2000) == 0) {
			free(reply);
			return;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid)
			break;
		usleep(20000);
	}
	FAIL("daemon %s did not come up (see %s)", name, s->log);
	s->pid = 0;
}

static void srv_stop(struct srv *s, int sig)
{
	if (s->pid > 0) {
		kill(s->pid, sig);
		waitpid(s->pid, NULL, 0);
	}
	s->pid = 0;
	free(s->sock);
	free(s->log);
}

/* The one scratch directory in tmpdir that is not in `not` (NULL: none found). */
static char *scratch_of(const char *not)
{
	DIR *d = opendir(tmpdir);
	char *found = NULL;
	struct dirent *e;
	while (d && (e = readdir(d)) && !found)
		if (!strncmp(e->d_name, "vmslim-serve.", 13)) {
			char *p = vms_xasprintf("%s/%s", tmpdir, e->d_name);
			if (not && !strcmp(p, not))
				free(p);
			else
				found = p;
		}
	if (d)
		closedir(d);
	return found;
}

/* Regular files and symlinks under dir, ".owner" aside; the first one's path in *one. */
static size_t files_under(const char *dir, char **one)
{
	size_t n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strcmp(e->d_name, ".owner"))
			continue;
		char *p = vms_xasprintf("%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			n += files_under(p, one);
		} else {
			if (one && !*one)
				*one = vms_xstrdup(p);
			n++;
		}
		free(p);
	}
	if (d)
		closedir(d);
	return n;
}

/* ---- requests --------------------------------------------------------------------- */

static int conn_open(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static char *request(const char *op, const char *src)
{
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "op", json_object_new_string(op));
	json_object_object_add(r, "source", json_object_new_string(src));
	json_object_object_add(r, "object", json_object_new_boolean(0));
	char *t = vms_xasprintf("%s\n", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN));
	json_object_put(r);
	return t;
}

static int send_str(int fd, const char *s)
{
	return vms_write_all(fd, s, strlen(s)) < 0 ? -1 : 0;
}

/* One reply line within timeout_ms: owned, NULL at EOF or timeout (*eof set at EOF). */
static char *read_reply(int fd, int timeout_ms, int *eof)
{
	struct vms_buf b = { 0 };
	double end = vms_now_ms() + timeout_ms;
	if (eof)
		*eof = 0;
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int left = (int)(end - vms_now_ms());
		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;
		char c;
		ssize_t k = read(fd, &c, 1);
		if (k <= 0) {
			if (eof)
				*eof = 1;
			break;
		}
		if (c == '\n')
			return vms_buf_steal(&b);
		vms_buf_append(&b, &c, 1);
	}
	vms_buf_free(&b);
	return NULL;
}

static struct json_object *call(const char *sock, const char *line)
{
	char *reply = NULL;
	size_t n = strlen(line);
	char *req = vms_xstrndup(line, n && line[n - 1] == '\n' ? n - 1 : n);
	int e = vms_client_call(sock, req, &reply, 120000);
	free(req);
	if (e < 0) {
		FAIL("request failed: %s", strerror(-e));
		return NULL;
	}
	struct json_object *o = json_tokener_parse(reply);
	free(reply);
	return o;
}

static const char *str_of(struct json_object *o, const char *k)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

static int64_t stat_of(const char *sock, const char *group, const char *k)
{
	struct json_object *st = call(sock, "{\"op\":\"stats\"}"), *g = st, *v;
	int64_t r = -1;
	if (st && (!group || json_object_object_get_ex(st, group, &g)) &&
	    json_object_object_get_ex(g, k, &v))
		r = json_object_get_int64(v);
	json_object_put(st);
	return r;
}

/* A source clang takes seconds over (2^levels statements of macro expansion); tag
 * makes each one a request of its own. */
static char *heavy_source(int levels, int tag)
{
	struct vms_buf b = { 0 };
	vms_buf_printf(&b, "/* heavy %d */\n#define E0 x = x * 3 + 1;\n", tag);
	for (int i = 1; i <= levels; i++)
		vms_buf_printf(&b, "#define E%d E%d E%d\n", i, i - 1, i - 1);
	vms_buf_printf(&b, "int f(int x) { E%d return x; }\n", levels);
	return vms_buf_steal(&b);
}

static const char small_src[] = "int small(int x) { return x + 1; }\n";

/* ---- another client, under another uid ----------------------------------------------- */

/* Forks a child that becomes OTHER_UID, connects, sends line, and writes to the pipe
 * *rfd: "<ms> <reply>" (ms from its connect to the reply), or "-1 <why>". */
static pid_t other_client(const char *sock, const char *line, int *rfd)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		FILE *out = fdopen(p[1], "w");
		if (setgid(OTHER_UID) < 0 || setuid(OTHER_UID) < 0) {
			fprintf(out, "-1 setuid: %s\n", strerror(errno));
			_exit(1);
		}
		double t0 = vms_now_ms();
		int fd = conn_open(sock);
		if (fd < 0) {
			fprintf(out, "-1 connect: %s\n", strerror(errno));
			_exit(1);
		}
		char *r = send_str(fd, line) == 0 ? read_reply(fd, 120000, NULL) : NULL;
		fprintf(out, "%.3f %s\n", r ? vms_now_ms() - t0 : -1.0, r ? r : "no reply");
		fclose(out);
		_exit(0);
	}
	close(p[1]);
	*rfd = p[0];
	return pid;
}

/* The child's answer: its latency in ms (-1 on failure, *reply owned). */
static double other_result(pid_t pid, int rfd, char **reply)
{
	FILE *in = fdopen(rfd, "r");
	char *line = NULL;
	size_t cap = 0;
	double ms = -1;
	if (getline(&line, &cap, in) > 0) {
		char *sp = strchr(line, ' ');
		ms = atof(line);
		*reply = vms_xstrdup(sp ? sp + 1 : "");
	} else {
		*reply = vms_xstrdup("(nothing)");
	}
	free(line);
	fclose(in);
	waitpid(pid, NULL, 0);
	return ms;
}

/* ---- processes -------------------------------------------------------------------- */

static pid_t parent_of(pid_t pid, char *comm, size_t n)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t k = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (k <= 0)
		return -1;
	buf[k] = 0;
	char *l = strchr(buf, '('), *r = strrchr(buf, ')');
	if (!l || !r)
		return -1;
	if (comm)
		snprintf(comm, n, "%.*s", (int)(r - l - 1), l + 1);
	int ppid = -1;
	sscanf(r + 2, "%*c %d", &ppid);
	return ppid;
}

/* Processes named like "clang*" that descend from pid. */
static int clang_descendants(pid_t daemon)
{
	int n = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		pid_t p = atoi(e->d_name);
		char comm[64] = "";
		if (p <= 0 || parent_of(p, comm, sizeof(comm)) < 0 || strncmp(comm, "clang", 5))
			continue;
		for (int depth = 0; p > 1 && depth < 32; depth++) {
			p = parent_of(p, NULL, 0);
			if (p == daemon) {
				n++;
				break;
			}
		}
	}
	if (d)
		closedir(d);
	return n;
}

/* ---- the parts -------------------------------------------------------------------- */

static void part_crash(void)
{
	struct srv s;
	srv_start(&s, "crash", NULL);
	/* TCC's recursive-descent parser overflows its stack on this */
	struct vms_buf deep = { 0 };
	vms_buf_puts(&deep, "int x = ");
	for (int i = 0; i < 40000; i++)
		vms_buf_append(&deep, "(", 1);
	vms_buf_append(&deep, "1", 1);
	for (int i = 0; i < 40000; i++)
		vms_buf_append(&deep, ")", 1);
	vms_buf_puts(&deep, ";\n");
	char *deep_src = vms_buf_steal(&deep);
	const struct { const char *op, *src; } cases[] = {
		{ "check", deep_src },
		{ "build", "int x;\n#pragma clang __debug crash\nint y;\n" },
	};
	for (size_t i = 0; i < 2; i++) {
		char *line = request(cases[i].op, cases[i].src);
		for (int round = 0; round < 3; round++) {
			struct json_object *r = call(s.sock, line);
			const char *st = str_of(r, "status"), *cached = str_of(r, "cached");
			CHECK(st && !strcmp(st, "crashed"), "%s round %d: %s", cases[i].op, round,
			      json_object_to_json_string(r));
			if (round == 0)
				CHECK(cached && !strcmp(cached, "false"), "%s: first answer cached?",
				      cases[i].op);
			else
				CHECK(cached && !strcmp(cached, "memory"),
				      "%s round %d: a crash is not cached: %s", cases[i].op, round,
				      cached ? cached : "(none)");
			json_object_put(r);
		}
		free(line);
	}
	printf("crash: the checker's and clang's crashes answered from the cache\n");
	char *scratch = scratch_of(NULL), *one = NULL;
	CHECK(scratch, "no scratch directory in %s", tmpdir);
	size_t n = scratch ? files_under(scratch, &one) : 0;
	/* a --header symlink aside, nothing stays: no reproducer, no job directory */
	CHECK(n == 0, "%zu files left in the scratch directory, e.g. %s", n, one);
	free(one);
	free(scratch);
	free(deep_src);
	srv_stop(&s, SIGTERM);
}

static void part_timeout(void)
{
	struct srv s;
	const char *extra[] = { "--time-limit", "1500", "-j", "2", NULL };
	srv_start(&s, "timeout", extra);
	char *scratch = scratch_of(NULL);
	CHECK(scratch, "no scratch directory in %s", tmpdir);
	for (int i = 0; i < 2; i++) {
		char *src = heavy_source(19, i), *line = request("build", src);
		double t0 = vms_now_ms();
		struct json_object *r = call(s.sock, line);
		const char *st = str_of(r, "status");
		CHECK(st && !strcmp(st, "timeout"), "heavy build %d: %.300s", i,
		      json_object_to_json_string(r));
		printf("timeout: build %d stopped after %.0f ms\n", i, vms_now_ms() - t0);
		json_object_put(r);
		free(line);
		free(src);
	}
	char *one = NULL;
	size_t n = scratch ? files_under(scratch, &one) : 0;
	CHECK(n == 0, "timed-out builds left %zu files, e.g. %s", n, one);
	char *jobs = vms_xasprintf("%s/jobs", scratch ? scratch : "");
	DIR *d = opendir(jobs);
	int dirs = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		dirs += e->d_name[0] != '.';
	if (d)
		closedir(d);
	CHECK(dirs == 0, "%d job directories left in %s", dirs, jobs);
	printf("timeout: %d job directories and %zu files left\n", dirs, n);
	free(one);
	free(jobs);
	free(scratch);
	srv_stop(&s, SIGTERM);
}

/* A scratch directory as a daemon would leave it, owned by uid; locked: a live one. */
static char *plant(const char *name, uid_t uid, int owner, int *lock)
{
	char *p = vms_xasprintf("%s/%s", tmpdir, name);
	mkdir(p, 0700);
	char *f = vms_xasprintf("%s/jobs", p);
	mkdir(f, 0700);
	free(f);
	if (owner) {
		f = vms_xasprintf("%s/.owner", p);
		int fd = open(f, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0 && uid != getuid() && fchown(fd, uid, uid) < 0)
			FAIL("chown: %s", strerror(errno));
		if (lock && fd >= 0 && flock(fd, LOCK_EX) == 0)
			*lock = fd;
		else if (fd >= 0)
			close(fd);
		free(f);
	}
	if (uid != getuid() && chown(p, uid, uid) < 0)
		FAIL("chown: %s", strerror(errno));
	return p;
}

static int exists(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

static void part_sweep(void)
{
	struct srv k, live, next;
	srv_start(&live, "live", NULL);
	char *live_dir = scratch_of(NULL);
	CHECK(live_dir, "the live daemon has no scratch directory");
	srv_start(&k, "killed", NULL);
	char *killed_dir = scratch_of(live_dir);
	srv_stop(&k, SIGKILL);
	CHECK(killed_dir && exists(killed_dir), "SIGKILL removed the scratch directory?");
	/* what the sweep must keep, and one it must remove beside the killed daemon's */
	char *dead = plant("vmslim-serve.dead", getuid(), 1, NULL);
	char *noowner = plant("vmslim-serve.noowner", getuid(), 0, NULL);
	int lock = -1;
	char *locked = plant("vmslim-serve.locked", getuid(), 1, &lock);
	char *target = plant("not-a-scratch-dir", getuid(), 1, NULL);
	char *link = vms_xasprintf("%s/vmslim-serve.link", tmpdir);
	if (symlink(target, link) < 0)
		FAIL("symlink: %s", strerror(errno));
	char *other = getuid() == 0 ? plant("vmslim-serve.other", OTHER_UID, 1, NULL) : NULL;

	srv_start(&next, "next", NULL);
	CHECK(!exists(killed_dir), "the killed daemon's %s was not swept", killed_dir);
	CHECK(!exists(dead), "an unlocked owner's directory was not swept");
	CHECK(live_dir && exists(live_dir), "a live daemon's scratch directory was swept");
	CHECK(exists(noowner), "a directory without an owner mark was swept");
	CHECK(exists(locked), "a locked (live) directory was swept");
	CHECK(exists(link) && exists(target), "the sweep followed or removed a symlink");
	if (other)
		CHECK(exists(other), "another uid's directory was swept");
	char *logt = NULL;
	size_t ll = 0;
	vms_read_file(next.log, &logt, &ll);
	CHECK(logt && strstr(logt, "swept 2 scratch directories left by stopped daemons"),
	      "no (or a wrong) sweep line in %s", next.log);
	if (!failures)
		printf("sweep: killed daemon's and a dead owner's directory removed; live, "
		       "locked, unmarked, symlinked%s kept\n", other ? ", another uid's" : "");
	free(logt);
	srv_stop(&next, SIGTERM);
	srv_stop(&live, SIGTERM);
	CHECK(live_dir && !exists(live_dir), "a stopped daemon left its scratch directory");
	if (lock >= 0)
		close(lock);
	free(killed_dir);
	free(live_dir);
	free(dead);
	free(noowner);
	free(locked);
	free(target);
	free(link);
	free(other);
}

static void part_idle(void)
{
	struct srv s;
	const char *extra[] = { "--idle-timeout", "3", NULL };
	srv_start(&s, "idle", extra);
	chmod(s.sock, 0666); /* the other uid's client connects too */
	int fds[128], busy = 0, open_n = 0;
	double t0 = vms_now_ms(); /* none of them can expire before t0 + 3 s */
	for (int i = 0; i < 128; i++)
		fds[i] = conn_open(s.sock);
	/* over the per-client limit: one "busy" line, then the connection closes */
	struct pollfd pf[128];
	for (int i = 0; i < 128; i++)
		pf[i] = (struct pollfd){ fds[i], POLLIN, 0 };
	while (poll(pf, 128, 500) > 0)
		for (int i = 0; i < 128; i++) {
			if (pf[i].fd < 0 || !pf[i].revents)
				continue;
			char *r = read_reply(fds[i], 1000, NULL);
			if (r && strstr(r, "\"busy\""))
				busy++;
			else
				FAIL("connection %d: %s", i, r ? r : "closed without a reply");
			free(r);
			close(fds[i]);
			fds[i] = pf[i].fd = -1;
		}
	for (int i = 0; i < 128; i++)
		open_n += fds[i] >= 0;
	printf("idle: 128 connections of one uid: %d held, %d refused as busy\n", open_n, busy);
	CHECK(open_n == 32 && busy == 96, "held %d, busy %d (want 32 and 96)", open_n, busy);
	/* one of them starts a line and never ends it, a byte at a time */
	int drip = fds[0];
	send_str(drip, "{\"op\":");
	char *line = request("check", small_src);
	int rfd;
	pid_t pid = other_client(s.sock, line, &rfd);
	char *reply = NULL;
	double ms = other_result(pid, rfd, &reply);
	printf("idle: the other client (uid %d) answered in %.1f ms while 32 connections "
	       "idle\n", OTHER_UID, ms);
	CHECK(ms >= 0 && strstr(reply, "\"status\":\"ok\""), "other client: %s", reply);
	CHECK(ms < 10000, "the other client was starved (%.0f ms)", ms);
	free(reply);
	/* the held ones go after the idle timeout (3 s), the dripping one too */
	int closed = 0;
	for (int round = 0; round < 120 && closed < open_n; round++) {
		send_str(drip, " ");
		usleep(100000);
		for (int i = 0; i < 128; i++) {
			if (fds[i] < 0)
				continue;
			struct pollfd p = { fds[i], POLLIN, 0 };
			char c;
			if (poll(&p, 1, 0) == 1 && read(fds[i], &c, 1) <= 0) {
				close(fds[i]);
				fds[i] = -1;
				closed++;
			}
		}
	}
	double took = vms_now_ms() - t0;
	printf("idle: %d of %d idle connections (one dripping a partial line) closed within "
	       "%.1f s (timeout 3 s)\n", closed, open_n, took / 1000);
	CHECK(closed == open_n, "%d idle connections still open after %.0f ms", open_n - closed,
	      took);
	CHECK(took > 2900, "idle connections closed before the timeout (%.0f ms)", took);
	for (int i = 0; i < 128; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	/* a connection that is used stays: a request every second for 5 s */
	int fd = conn_open(s.sock);
	int served = 0;
	for (int i = 0; i < 5; i++) {
		char *r = send_str(fd, "{\"op\":\"ping\"}\n") == 0 ? read_reply(fd, 5000, NULL) : NULL;
		served += r != NULL;
		free(r);
		sleep(1);
	}
	CHECK(served == 5, "a busy connection was closed as idle (%d of 5 answered)", served);
	close(fd);
	free(line);
	srv_stop(&s, SIGTERM);
}

static void part_queue(void)
{
	struct srv s;
	const char *extra[] = { "-j", "1", NULL };
	srv_start(&s, "queue", extra);
	chmod(s.sock, 0666);
	/* a first heavy build alone: what one slot costs */
	char *src = heavy_source(16, 100), *line = request("build", src);
	double t0 = vms_now_ms();
	struct json_object *r = call(s.sock, line);
	double slot = vms_now_ms() - t0;
	CHECK(str_of(r, "status") && !strcmp(str_of(r, "status"), "ok"), "heavy build: %.300s",
	      json_object_to_json_string(r));
	printf("queue: one heavy build takes %.0f ms\n", slot);
	json_object_put(r);
	free(line);
	free(src);

	int fds[6];
	for (int i = 0; i < 6; i++) {
		src = heavy_source(16, i);
		line = request("build", src);
		fds[i] = conn_open(s.sock);
		send_str(fds[i], line);
		free(line);
		free(src);
	}
	for (int i = 0; i < 200 && stat_of(s.sock, NULL, "queued") < 5; i++)
		usleep(20000);
	CHECK(stat_of(s.sock, NULL, "queued") == 5, "the six builds are not all in (queued %d)",
	      (int)stat_of(s.sock, NULL, "queued"));
	line = request("build", small_src);
	int rfd;
	pid_t pid = other_client(s.sock, line, &rfd);
	free(line);
	/* the heavy ones, in the order they finish; the small one's answer is timed in the
	 * child, and how many heavy ones were done by then is counted here */
	int done_before = -1, done = 0;
	struct pollfd p[7];
	for (int i = 0; i < 6; i++)
		p[i] = (struct pollfd){ fds[i], POLLIN, 0 };
	p[6] = (struct pollfd){ rfd, POLLIN, 0 };
	double t1 = vms_now_ms();
	while ((done < 6 || done_before < 0) && vms_now_ms() - t1 < 300000) {
		if (poll(p, 7, 1000) <= 0)
			continue;
		for (int i = 0; i < 6; i++)
			if (p[i].fd >= 0 && p[i].revents) {
				char *rep = read_reply(fds[i], 1000, NULL);
				CHECK(rep && strstr(rep, "\"status\":\"ok\""), "heavy %d: %.200s", i,
				      rep ? rep : "(none)");
				free(rep);
				close(fds[i]);
				p[i].fd = -1;
				done++;
			}
		if (p[6].fd >= 0 && p[6].revents) {
			done_before = done;
			p[6].fd = -1;
		}
	}
	char *reply = NULL;
	double ms = other_result(pid, rfd, &reply);
	printf("queue: the other client's small build answered in %.0f ms, after %d of the "
	       "6 heavy builds (one slot: %.0f ms; FIFO would have waited for all 6)\n", ms,
	       done_before, slot);
	CHECK(ms >= 0 && strstr(reply, "\"status\":\"ok\""), "small build: %s", reply);
	CHECK(done_before >= 0 && done_before <= 1,
	      "the small build waited for %d heavy builds of another client", done_before);
	free(reply);
	srv_stop(&s, SIGTERM);
}

static void part_cancel(void)
{
	struct srv s;
	const char *extra[] = { "-j", "2", "--time-limit", "60000", "--cpu-limit", "60", NULL };
	srv_start(&s, "cancel", extra);
	char *src = heavy_source(20, 7), *line = request("build", src);
	int fd = conn_open(s.sock);
	send_str(fd, line);
	int clangs = 0;
	for (int i = 0; i < 500 && !(clangs = clang_descendants(s.pid)); i++)
		usleep(10000);
	CHECK(clangs > 0, "no clang started for the heavy build");
	CHECK(stat_of(s.sock, NULL, "workers") == 1, "no worker running");
	int64_t stores = stat_of(s.sock, "cache", "stores");
	double t0 = vms_now_ms();
	close(fd); /* the client goes */
	int64_t workers = -1;
	while (vms_now_ms() - t0 < 20000 &&
	       ((workers = stat_of(s.sock, NULL, "workers")) != 0 || clang_descendants(s.pid)))
		usleep(20000);
	double took = vms_now_ms() - t0;
	printf("cancel: %d clang process(es) of the build; worker and clang gone %.0f ms after "
	       "the client disconnected\n", clangs, took);
	CHECK(workers == 0, "the worker is still running %.0f ms after the disconnect", took);
	CHECK(clang_descendants(s.pid) == 0, "clang still runs after the disconnect");
	CHECK(stat_of(s.sock, "cache", "stores") == stores, "a cancelled build was cached");
	char *scratch = scratch_of(NULL), *one = NULL;
	size_t n = scratch ? files_under(scratch, &one) : 0;
	CHECK(n == 0, "the cancelled build left %zu files, e.g. %s", n, one);
	/* the same request afterwards is built afresh, not answered by the cancelled job */
	free(line);
	free(src);
	src = heavy_source(15, 7);
	line = request("build", src);
	struct json_object *r = call(s.sock, line);
	CHECK(str_of(r, "status") && !strcmp(str_of(r, "status"), "ok"), "after cancel: %.300s",
	      json_object_to_json_string(r));
	json_object_put(r);
	free(one);
	free(scratch);
	free(line);
	free(src);
	srv_stop(&s, SIGTERM);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: %s PART VMSLIM VMLINUX_DIR WORK_DIR\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	const char *part = argv[1];
	vmslim = argv[2];
	vmlinux_dir = argv[3];
	work = argv[4];
	if (access(vmslim, X_OK) < 0)
		return test_skip("no vmslim binary at %s", vmslim);
	char *vh = vms_xasprintf("%s/vmlinux.h", vmlinux_dir);
	int have = access(vh, R_OK) == 0;
	free(vh);
	if (!have)
		return test_skip("no vmlinux.h in %s", vmlinux_dir);
	if ((!strcmp(part, "idle") || !strcmp(part, "queue")) && geteuid() != 0)
		return test_skip("%s needs two uids: run as root (a child takes uid %d)", part,
				 OTHER_UID);
	test_fresh_dir(work);
	chmod(work, 0755);
	tmpdir = vms_xasprintf("%s/tmp", work);
	mkdir(tmpdir, 0700);
	if (!strcmp(part, "crash"))
		part_crash();
	else if (!strcmp(part, "timeout"))
		part_timeout();
	else if (!strcmp(part, "sweep"))
		part_sweep();
	else if (!strcmp(part, "idle"))
		part_idle();
	else if (!strcmp(part, "queue"))
		part_queue();
	else if (!strcmp(part, "cancel"))
		part_cancel();
	else {
		fprintf(stderr, "unknown part %s\n", part);
		return 2;
	}
	free(tmpdir);
	return test_exit();
}
