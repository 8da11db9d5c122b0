/* The daemon, driven through real sockets and real processes.
 *
 * usage: test_serve PART VMSLIM VMLINUX_DIR PROGS_DIR WORK_DIR
 *   restart   two (four) daemons in a row on one cache directory: a repeated build is
 *             answered from disk; a truncated, then a bit-flipped entry is detected and
 *             recomputed (never served); SIGTERM leaves no temporary file behind
 *   stress    16 concurrent clients x 100 mixed requests (good, bad, crashing,
 *             oversized, #include "/etc/passwd", malformed, builds): every reply right,
 *             the daemon alive at the end, no zombie or leaked child, memory bounded
 *   protocol  malformed and hostile requests, pipelining, ids, socket mode, a second
 *             daemon on the same socket, a stale socket, limits (time, memory)
 *   confine   every way we know to include a file outside the header directories is
 *             refused, and no reply reveals the file's contents
 *   sigterm   SIGTERM with builds in flight: clean exit, no half-written cache entry,
 *             no orphaned compiler
 *   client    `vmslim client` prints and exits as `vmslim check` / `vmslim build` do
 * Wall-clock numbers are printed, never asserted. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"
#include "serve/serve.h"
#include "tests/testutil.h"

static const char *vmslim, *vmlinux_dir, *progs_dir, *work;

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#else
#define UNDER_ASAN 0
#endif

/* ---- a daemon ------------------------------------------------------------------- */

struct srv {
	pid_t pid;
	char *sock, *cache, *log;
};

static void srv_start(struct srv *s, const char *name, const char *cache,
		      const char *const *extra)
{
	memset(s, 0, sizeof(*s));
	s->sock = vms_xasprintf("%s/%s.sock", work, name);
	s->cache = vms_xstrdup(cache);
	s->log = vms_xasprintf("%s/%s.log", work, name);
	struct vms_argv a = { 0 };
	vms_argv_push(&a, vmslim);
	vms_argv_push(&a, "serve");
	vms_argv_push(&a, "--socket");
	vms_argv_push(&a, s->sock);
	vms_argv_push(&a, "--cache-dir");
	vms_argv_push(&a, cache);
	vms_argv_push(&a, "-I");
	vms_argv_push(&a, vmlinux_dir);
	vms_argv_push(&a, "-I");
	vms_argv_push(&a, "/usr/include");
	for (size_t i = 0; extra && extra[i]; i++)
		vms_argv_push(&a, extra[i]);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
		}
		execv(vmslim, a.v);
		_exit(127);
	}
	vms_argv_free(&a);
	s->pid = pid;
	/* up when it answers a ping */
	for (int i = 0; i < 600; i++) {
		char *reply = NULL;
		if (vms_client_call(s->sock, "{\"op\":\"ping\"}", &reply, 2000) == 0) {
			free(reply);
			return;
		}
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			FAIL("daemon %s exited during start-up (see %s)", name, s->log);
			s->pid = 0;
			return;
		}
		usleep(20000);
	}
	FAIL("daemon %s did not come up (see %s)", name, s->log);
}

/* SIGTERM and wait: returns the exit status (or -1). */
static int srv_stop(struct srv *s)
{
	int rc = -1;
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		for (int i = 0; i < 1500; i++) {
			int st;
			if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
				rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
				break;
			}
			usleep(10000);
		}
		if (rc < 0) {
			FAIL("daemon %d did not stop within 15 s of SIGTERM", s->pid);
			kill(s->pid, SIGKILL);
			waitpid(s->pid, NULL, 0);
		}
	}
	struct stat st;
	CHECK(lstat(s->sock, &st) < 0, "socket %s left behind", s->sock);
	free(s->sock);
	free(s->cache);
	free(s->log);
	s->pid = 0;
	return rc;
}

/* ---- requests ------------------------------------------------------------------- */

static struct json_object *compile_req(const char *op, const char *file, const char *src,
				       const char *const *flags)
{
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "op", json_object_new_string(op));
	json_object_object_add(r, "file", json_object_new_string(file));
	json_object_object_add(r, "source", json_object_new_string(src));
	if (flags) {
		struct json_object *a = json_object_new_array();
		for (size_t i = 0; flags[i]; i++)
			json_object_array_add(a, json_object_new_string(flags[i]));
		json_object_object_add(r, "flags", a);
	}
	return r;
}

/* Sends req (consumed), returns the parsed reply (NULL on transport failure). */
static struct json_object *call(const char *sock, struct json_object *req, char **raw)
{
	char *reply = NULL;
	int e = vms_client_call(sock, json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN),
				&reply, 120000);
	json_object_put(req);
	if (e < 0) {
		FAIL("request failed: %s", strerror(-e));
		return NULL;
	}
	struct json_object *o = json_tokener_parse(reply);
	if (!o)
		FAIL("reply is not JSON: %.200s", reply);
	if (raw)
		*raw = reply;
	else
		free(reply);
	return o;
}

static const char *str_of(struct json_object *o, const char *k)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, k, &v))
		return NULL;
	return json_object_get_string(v);
}

static const char *error_code(struct json_object *o)
{
	struct json_object *e;
	if (!o || !json_object_object_get_ex(o, "error", &e))
		return NULL;
	return str_of(e, "code");
}

static int64_t stat_of(struct json_object *stats, const char *group, const char *k)
{
	struct json_object *g, *v;
	if (!stats || !json_object_object_get_ex(stats, group, &g) ||
	    !json_object_object_get_ex(g, k, &v))
		return -1;
	return json_object_get_int64(v);
}

static struct json_object *simple(const char *sock, const char *op)
{
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "op", json_object_new_string(op));
	return call(sock, r, NULL);
}

static int has_error_on_line(struct json_object *rep, const char *file, int line)
{
	struct json_object *arr;
	if (!rep || !json_object_object_get_ex(rep, "diagnostics", &arr))
		return 0;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *d = json_object_array_get_idx(arr, i), *v;
		const char *f = str_of(d, "file"), *sev = str_of(d, "severity");
		int l = json_object_object_get_ex(d, "line", &v) ? json_object_get_int(v) : 0;
		if (f && !strcmp(f, file) && l == line && sev && !strcmp(sev, "error"))
			return 1;
	}
	return 0;
}

static void *object_of(struct json_object *rep, size_t *len)
{
	const char *b = str_of(rep, "object");
	if (!b)
		return NULL;
	/* decode base64 */
	size_t n = strlen(b);
	unsigned char *out = vms_xmalloc(n / 4 * 3 + 3);
	size_t k = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n && b[i] != '='; i++) {
		const char *tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		const char *p = strchr(tbl, b[i]);
		if (!p) {
			free(out);
			return NULL;
		}
		acc = acc << 6 | (uint32_t)(p - tbl);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[k++] = (unsigned char)(acc >> bits);
		}
	}
	*len = k;
	return out;
}

/* The program with its line 57 (`e->pid = ctx->pid;`) broken; returns that line. */
static char *broken(const char *src, int *line)
{
	const char *hit = strstr(src, "ctx->pid;");
	if (!hit) {
		fprintf(stderr, "execsnoop.bpf.c changed: no 'ctx->pid;'\n");
		exit(1);
	}
	*line = 1;
	for (const char *p = src; p < hit; p++)
		*line += *p == '\n';
	struct vms_buf b = { 0 };
	vms_buf_append(&b, src, (size_t)(hit - src));
	vms_buf_puts(&b, "ctx->pidd;");
	vms_buf_puts(&b, hit + strlen("ctx->pid;"));
	return vms_buf_steal(&b);
}

static char *deep_source(void)
{
	/* TCC's recursive-descent parser overflows its stack on this; clang refuses it */
	struct vms_buf b = { 0 };
	vms_buf_puts(&b, "#include \"vmlinux.h\"\nint x = ");
	for (int i = 0; i < 40000; i++)
		vms_buf_append(&b, "(", 1);
	vms_buf_append(&b, "1", 1);
	for (int i = 0; i < 40000; i++)
		vms_buf_append(&b, ")", 1);
	vms_buf_puts(&b, ";\n");
	return vms_buf_steal(&b);
}

static size_t count_files(const char *dir, const char *needle, char **one)
{
	size_t n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *p = vms_xasprintf("%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			n += count_files(p, needle, one);
		} else if (!needle || strstr(e->d_name, needle)) {
			n++;
			if (one && !*one)
				*one = vms_xstrdup(p);
		}
		free(p);
	}
	closedir(d);
	return n;
}

/* ---- restart -------------------------------------------------------------------- */

static int build_once(const char *sock, const char *src, const char *want_cached,
		      void **obj, size_t *len)
{
	struct json_object *rep = call(sock, compile_req("build", "execsnoop.bpf.c", src, NULL), NULL);
	const char *status = str_of(rep, "status"), *cached = str_of(rep, "cached");
	CHECK(status && !strcmp(status, "ok"), "build status %s", status ? status : "(none)");
	CHECK(cached && !strcmp(cached, want_cached), "build cached=%s, expected %s",
	      cached ? cached : "(none)", want_cached);
	*obj = object_of(rep, len);
	CHECK(*obj && *len > 1000, "no object in the reply");
	printf("  build: cached=%s, %s ms end to end\n", cached, str_of(rep, "total_ms"));
	json_object_put(rep);
	return 0;
}

static int64_t corrupt_count(const char *sock)
{
	struct json_object *st = simple(sock, "stats");
	int64_t n = stat_of(st, "cache", "corrupt");
	json_object_put(st);
	return n;
}

static void part_restart(void)
{
	char *cache = vms_xasprintf("%s/cache", work);
	char *entries = vms_xasprintf("%s/serve", cache);
	char *p = vms_xasprintf("%s/execsnoop.bpf.c", progs_dir);
	char *src = test_slurp(p);
	struct srv s;
	void *o1, *o2;
	size_t l1, l2;

	printf("daemon 1: empty cache\n");
	srv_start(&s, "d1", cache, NULL);
	build_once(s.sock, src, "false", &o1, &l1);
	CHECK(srv_stop(&s) == 0, "daemon 1 did not exit 0 after SIGTERM");
	char *entry = NULL;
	CHECK(count_files(entries, NULL, &entry) == 1, "expected one cache entry on disk");
	CHECK(count_files(cache, ".tmp.", NULL) == 0, "temporary files left in the cache");

	printf("daemon 2: the repeated build comes from disk\n");
	srv_start(&s, "d2", cache, NULL);
	build_once(s.sock, src, "disk", &o2, &l2);
	CHECK(l1 == l2 && !memcmp(o1, o2, l1), "the object from disk differs");
	free(o2);
	build_once(s.sock, src, "memory", &o2, &l2);
	free(o2);
	CHECK(srv_stop(&s) == 0, "daemon 2 did not exit 0");

	printf("daemon 3: a truncated entry is recomputed\n");
	struct stat st;
	if (entry && stat(entry, &st) == 0)
		CHECK(truncate(entry, st.st_size / 2) == 0, "truncate");
	srv_start(&s, "d3", cache, NULL);
	build_once(s.sock, src, "false", &o2, &l2);
	CHECK(l1 == l2 && !memcmp(o1, o2, l1), "the recomputed object differs");
	free(o2);
	CHECK(corrupt_count(s.sock) == 1, "the truncated entry was not counted as corrupt");
	CHECK(srv_stop(&s) == 0, "daemon 3 did not exit 0");

	printf("daemon 4: a flipped bit is recomputed\n");
	if (entry && stat(entry, &st) == 0) {
		int fd = open(entry, O_RDWR);
		unsigned char b;
		off_t at = st.st_size / 3;
		CHECK(fd >= 0 && pread(fd, &b, 1, at) == 1, "read entry");
		b ^= 0x10;
		CHECK(pwrite(fd, &b, 1, at) == 1, "write entry");
		close(fd);
	}
	srv_start(&s, "d4", cache, NULL);
	build_once(s.sock, src, "false", &o2, &l2);
	CHECK(l1 == l2 && !memcmp(o1, o2, l1), "the recomputed object differs");
	free(o2);
	CHECK(corrupt_count(s.sock) == 1, "the flipped entry was not counted as corrupt");
	/* and the rewritten entry is good again */
	CHECK(srv_stop(&s) == 0, "daemon 4 did not exit 0");
	srv_start(&s, "d5", cache, NULL);
	build_once(s.sock, src, "disk", &o2, &l2);
	free(o2);
	CHECK(srv_stop(&s) == 0, "daemon 5 did not exit 0");
	CHECK(count_files(cache, ".tmp.", NULL) == 0, "temporary files left in the cache");

	free(o1);
	free(entry);
	free(src);
	free(p);
	free(entries);
	free(cache);
}

/* ---- stress --------------------------------------------------------------------- */

struct stress_ctx {
	const char *sock;
	const char *good, *bad, *deep, *passwd, *build_src[3], *build_bad;
	int bad_line;
	size_t max_request;
	char *oversized;
	int client;
	int fails;
	int counts[12];
};

static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

#define SFAIL(c, ...) do { pthread_mutex_lock(&report_lock); \
	fprintf(stderr, "FAIL client %d: ", (c)->client); fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); pthread_mutex_unlock(&report_lock); (c)->fails++; } while (0)

static int conn_open(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One reply line from a persistent connection (buffer kept across calls). */
static char *read_line(int fd, struct vms_buf *in)
{
	for (;;) {
		char *nl = in->len ? memchr(in->data, '\n', in->len) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - in->data);
			char *line = vms_xstrndup(in->data, n);
			memmove(in->data, nl + 1, in->len - n - 1);
			in->len -= n + 1;
			return line;
		}
		char buf[65536];
		ssize_t r = recv(fd, buf, sizeof(buf), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return NULL;
		vms_buf_append(in, buf, (size_t)r);
	}
}

static void *stress_client(void *arg)
{
	struct stress_ctx *c = arg;
	int fd = -1;
	struct vms_buf in = { 0 };
	for (int i = 0; i < 100; i++) {
		int kind = (i * 7 + c->client * 3) % 12;
		c->counts[kind]++;
		if (fd < 0) {
			fd = conn_open(c->sock);
			in.len = 0;
			if (fd < 0) {
				SFAIL(c, "cannot connect: %s", strerror(errno));
				break;
			}
		}
		struct json_object *req = NULL;
		char *line = NULL;
		char uniq[128];
		switch (kind) {
		case 0: req = compile_req("check", "good.bpf.c", c->good, NULL); break;
		case 1: req = compile_req("check", "bad.bpf.c", c->bad, NULL); break;
		case 2: req = compile_req("check", "deep.bpf.c", c->deep, NULL); break;
		case 3: break; /* oversized */
		case 4: req = compile_req(i % 2 ? "check" : "build", "passwd.bpf.c", c->passwd, NULL); break;
		case 5: req = compile_req("build", "prog.bpf.c", c->build_src[(i / 12 + c->client) % 3], NULL); break;
		case 6: break; /* malformed */
		case 7: {
			/* never seen before: the checker runs (from its snapshot), no cache */
			snprintf(uniq, sizeof(uniq), "\nint unique_%d_%d;\n", c->client, i);
			char *u = vms_xasprintf("%s%s", c->good, uniq);
			req = compile_req("check", "good.bpf.c", u, NULL);
			free(u);
			break;
		}
		case 8: req = compile_req("build", "bad.bpf.c", c->build_bad, NULL); break;
		case 9: req = json_object_new_object();
			json_object_object_add(req, "op", json_object_new_string(i % 2 ? "stats" : "ping"));
			break;
		case 10: {
			const char *fl[] = { "-include/etc/passwd", NULL };
			req = compile_req("check", "flag.bpf.c", c->good, fl);
			break;
		}
		default: req = compile_req("check", "good.bpf.c", c->good, NULL); break;
		}
		if (req)
			json_object_object_add(req, "id", json_object_new_int(c->client * 1000 + i));
		int rc;
		if (kind == 3) {
			rc = send_all(fd, c->oversized, strlen(c->oversized));
		} else if (kind == 6) {
			static const char bad[] = "{\"op\": \"check\", \"source\": \"x\n";
			rc = send_all(fd, bad, sizeof(bad) - 1);
		} else {
			const char *t = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
			rc = send_all(fd, t, strlen(t));
			if (!rc)
				rc = send_all(fd, "\n", 1);
		}
		if (rc == 0)
			line = read_line(fd, &in);
		struct json_object *rep = line ? json_tokener_parse(line) : NULL;
		if (!rep) {
			SFAIL(c, "request %d (kind %d): no reply%s", i, kind, line ? " (not JSON)" : "");
			json_object_put(req);
			free(line);
			close(fd);
			fd = -1;
			continue;
		}
		const char *st = str_of(rep, "status"), *code = error_code(rep);
		struct json_object *idv;
		int idok = kind == 3 || kind == 6 ||
			   (json_object_object_get_ex(rep, "id", &idv) &&
			    json_object_get_int(idv) == c->client * 1000 + i);
		if (!idok)
			SFAIL(c, "request %d: wrong id in the reply", i);
		switch (kind) {
		case 0: case 7: case 11:
			if (!st || strcmp(st, "ok"))
				SFAIL(c, "good check %d: %s", i, line);
			break;
		case 1:
			if (!st || strcmp(st, "errors") || !has_error_on_line(rep, "bad.bpf.c", c->bad_line))
				SFAIL(c, "bad check %d: %.300s", i, line);
			break;
		case 2:
			if (!st || strcmp(st, "crashed"))
				SFAIL(c, "crashing check %d: %.300s", i, line);
			break;
		case 3:
			if (!code || strcmp(code, "too_large"))
				SFAIL(c, "oversized %d: %.300s", i, line);
			close(fd); /* the daemon closes it after a too-large request */
			fd = -1;
			break;
		case 4:
			if (!st || strcmp(st, "refused") || strstr(line, "root:"))
				SFAIL(c, "passwd %d: %.300s", i, line);
			break;
		case 5: {
			size_t len = 0;
			void *o = object_of(rep, &len);
			if (!st || strcmp(st, "ok") || !o || len < 1000 || memcmp(o, "\177ELF", 4))
				SFAIL(c, "build %d: %.200s", i, line);
			free(o);
			break;
		}
		case 6:
			if (!code || strcmp(code, "bad_request"))
				SFAIL(c, "malformed %d: %.300s", i, line);
			break;
		case 8:
			if (!st || strcmp(st, "errors") || str_of(rep, "object"))
				SFAIL(c, "bad build %d: %.300s", i, line);
			break;
		case 9:
			if (!str_of(rep, "ok") || strcmp(str_of(rep, "ok"), "true"))
				SFAIL(c, "stats/ping %d: %.300s", i, line);
			break;
		case 10:
			if (!st || strcmp(st, "refused"))
				SFAIL(c, "flag %d: %.300s", i, line);
			break;
		}
		json_object_put(rep);
		json_object_put(req);
		free(line);
		/* every fifth request on a new connection */
		if (fd >= 0 && i % 5 == 4) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	vms_buf_free(&in);
	return NULL;
}

static long status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	long v = -1;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			v = atol(line + strlen(key) + 1);
	if (f)
		fclose(f);
	return v;
}

struct child {
	pid_t pid;
	char state;
	unsigned long long start;
};

/* Children of pid, from /proc/<p>/stat. */
static size_t children_of(pid_t parent, struct child *out, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t n = 0;
	while (d && (e = readdir(d))) {
		pid_t p = atoi(e->d_name);
		if (p <= 0)
			continue;
		char path[64], buf[1024];
		snprintf(path, sizeof(path), "/proc/%d/stat", p);
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		ssize_t k = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (k <= 0)
			continue;
		buf[k] = 0;
		char *rp = strrchr(buf, ')');
		if (!rp)
			continue;
		char state;
		int ppid;
		unsigned long long start = 0;
		/* fields after comm: state ppid pgrp session tty tpgid flags minflt cminflt
		 * majflt cmajflt utime stime cutime cstime priority nice threads itreal start */
		if (sscanf(rp + 2, "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			   &state, &ppid, &start) != 3 || ppid != parent)
			continue;
		if (n < max)
			out[n] = (struct child){ p, state, start };
		n++;
	}
	if (d)
		closedir(d);
	return n;
}

static int same_process_alive(const struct child *c)
{
	struct child now[1];
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)c->pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t k = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (k <= 0)
		return 0;
	buf[k] = 0;
	char *rp = strrchr(buf, ')');
	unsigned long long start = 0;
	char state = 0;
	if (!rp || sscanf(rp + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			  &state, &start) != 2)
		return 0;
	(void)now;
	return start == c->start && state != 'Z';
}

static void part_stress(void)
{
	char *cache = vms_xasprintf("%s/cache", work);
	char *p = vms_xasprintf("%s/execsnoop.bpf.c", progs_dir);
	char *good = test_slurp(p);
	free(p);
	int bad_line;
	char *bad = broken(good, &bad_line);
	char *deep = deep_source();
	const char *names[3] = { "execsnoop", "exitsnoop", "xdp_filter" };
	char *builds[3];
	for (int i = 0; i < 3; i++) {
		p = vms_xasprintf("%s/%s.bpf.c", progs_dir, names[i]);
		builds[i] = test_slurp(p);
		free(p);
	}
	const size_t max_request = 256 * 1024;
	/* a valid request, too long by a little */
	struct vms_buf ov = { 0 };
	vms_buf_puts(&ov, "{\"op\":\"check\",\"source\":\"");
	while (ov.len < max_request + 100)
		vms_buf_puts(&ov, "int a; ");
	vms_buf_puts(&ov, "\"}\n");

	struct srv s;
	const char *extra[] = { "--max-request", "262144", "--mem-cache", "16", "--jobs", "2", NULL };
	srv_start(&s, "stress", cache, extra);
	if (!s.pid)
		return;
	/* warm: the snapshot and the PCH exist before the clock starts */
	struct json_object *w = call(s.sock, compile_req("check", "good.bpf.c", good, NULL), NULL);
	json_object_put(w);
	long rss0 = status_kb(s.pid, "VmRSS");

	struct stress_ctx ctx[16];
	pthread_t th[16];
	double t0 = vms_now_ms();
	for (int i = 0; i < 16; i++) {
		ctx[i] = (struct stress_ctx){
			.sock = s.sock, .good = good, .bad = bad, .deep = deep,
			.passwd = "#include \"/etc/passwd\"\nint x;\n",
			.build_src = { builds[0], builds[1], builds[2] }, .build_bad = bad,
			.bad_line = bad_line, .max_request = max_request, .oversized = ov.data,
			.client = i,
		};
		pthread_create(&th[i], NULL, stress_client, &ctx[i]);
	}
	int fails = 0, counts[12] = { 0 };
	for (int i = 0; i < 16; i++) {
		pthread_join(th[i], NULL);
		fails += ctx[i].fails;
		for (int k = 0; k < 12; k++)
			counts[k] += ctx[i].counts[k];
	}
	double ms = vms_now_ms() - t0;
	failures += fails;
	printf("1600 requests in %.0f ms (good %d, bad %d, crashing %d, oversized %d, passwd %d, "
	       "build %d, malformed %d, unique %d, bad build %d, stats %d, flag %d): %d wrong\n",
	       ms, counts[0] + counts[11], counts[1], counts[2], counts[3], counts[4], counts[5],
	       counts[6], counts[7], counts[8], counts[9], counts[10], fails);

	struct json_object *ping = simple(s.sock, "ping");
	CHECK(ping && str_of(ping, "ok") && !strcmp(str_of(ping, "ok"), "true"),
	      "the daemon does not answer after the stress");
	json_object_put(ping);
	struct json_object *stats = simple(s.sock, "stats");
	int64_t snapshots = stat_of(stats, "checker", "snapshots");
	printf("stats: %s\n", json_object_to_json_string_ext(stats, JSON_C_TO_STRING_PLAIN));
	json_object_put(stats);

	long rss = status_kb(s.pid, "VmRSS"), hwm = status_kb(s.pid, "VmHWM");
	printf("daemon memory: VmRSS %ld KiB after warm-up, %ld KiB at the end, peak %ld KiB\n",
	       rss0, rss, hwm);
	long bound = UNDER_ASAN ? 1024 * 1024 : 256 * 1024;
	CHECK(rss > 0 && rss < bound, "VmRSS %ld KiB over the %ld KiB bound", rss, bound);

	/* children: no zombie, and none but the checker's snapshot processes */
	struct child kids[64];
	size_t nk = children_of(s.pid, kids, 64);
	size_t zombies = 0;
	for (size_t i = 0; i < nk && i < 64; i++)
		zombies += kids[i].state == 'Z';
	printf("children of the daemon: %zu (snapshot processes: %lld), zombies %zu\n", nk,
	       (long long)snapshots, zombies);
	CHECK(zombies == 0, "%zu zombie children", zombies);
	CHECK(snapshots >= 0 && nk <= (size_t)snapshots, "%zu children but %lld snapshots", nk,
	      (long long)snapshots);
	CHECK(srv_stop(&s) == 0, "the daemon did not exit 0 after SIGTERM");
	for (size_t i = 0; i < nk && i < 64; i++) {
		int alive = 1;
		for (int k = 0; k < 300 && alive; k++) {
			alive = same_process_alive(&kids[i]);
			if (alive)
				usleep(10000);
		}
		CHECK(!alive, "child %d outlived the daemon", kids[i].pid);
	}
	vms_buf_free(&ov);
	for (int i = 0; i < 3; i++)
		free(builds[i]);
	free(deep);
	free(bad);
	free(good);
	free(cache);
}

/* ---- protocol ------------------------------------------------------------------- */

/* Sends raw bytes on a fresh connection, returns the first reply line (or NULL). */
static char *raw_exchange(const char *sock, const char *data, size_t len, int shut)
{
	int fd = conn_open(sock);
	if (fd < 0)
		return NULL;
	send_all(fd, data, len);
	if (shut)
		shutdown(fd, SHUT_WR);
	struct vms_buf in = { 0 };
	char *line = read_line(fd, &in);
	vms_buf_free(&in);
	close(fd);
	return line;
}

static void expect_code(const char *sock, const char *what, const char *data, size_t len,
			const char *code)
{
	char *line = raw_exchange(sock, data, len, 1);
	struct json_object *o = line ? json_tokener_parse(line) : NULL;
	const char *c = error_code(o);
	CHECK(c && !strcmp(c, code), "%s: expected error %s, got %.200s", what, code,
	      line ? line : "(no reply)");
	json_object_put(o);
	free(line);
}

static void part_protocol(void)
{
	char *cache = vms_xasprintf("%s/cache", work);
	struct srv s;
	const char *extra[] = { "--max-request", "65536", "--time-limit", "1500", "--mem-limit",
				"512", NULL };
	srv_start(&s, "proto", cache, extra);
	if (!s.pid)
		return;
	struct stat st;
	CHECK(stat(s.sock, &st) == 0 && (st.st_mode & 0777) == 0600, "socket mode %o, not 600",
	      st.st_mode & 0777);

	static const struct {
		const char *what, *data, *code;
	} bad[] = {
		{ "not JSON", "hello\n", "bad_request" },
		{ "truncated JSON", "{\"op\":\"check\"\n", "bad_request" },
		{ "trailing garbage", "{\"op\":\"ping\"} x\n", "bad_request" },
		{ "array", "[1,2,3]\n", "bad_request" },
		{ "string", "\"check\"\n", "bad_request" },
		{ "no op", "{\"source\":\"int x;\"}\n", "unknown_op" },
		{ "unknown op", "{\"op\":\"format-disk\"}\n", "unknown_op" },
		{ "op not a string", "{\"op\":7}\n", "unknown_op" },
		{ "no source", "{\"op\":\"check\"}\n", "bad_request" },
		{ "source a number", "{\"op\":\"check\",\"source\":42}\n", "bad_request" },
		{ "file with newline", "{\"op\":\"check\",\"source\":\"int x;\",\"file\":\"a\\nb\"}\n", "bad_request" },
		{ "flags not array", "{\"op\":\"check\",\"source\":\"int x;\",\"flags\":\"-O2\"}\n", "bad_request" },
		{ "flag not string", "{\"op\":\"check\",\"source\":\"int x;\",\"flags\":[1]}\n", "bad_request" },
		{ "invalid UTF-8", "{\"op\":\"check\",\"source\":\"\xff\xfe\"}\n", "bad_request" },
		{ "output without --allow-output", "{\"op\":\"build\",\"source\":\"int x;\",\"output\":\"/tmp/x.o\"}\n", "bad_request" },
		{ "no newline, then EOF", "{\"op\":\"nope\"}", "unknown_op" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_code(s.sock, bad[i].what, bad[i].data, strlen(bad[i].data), bad[i].code);

	/* deep nesting */
	struct vms_buf b = { 0 };
	for (int i = 0; i < 5000; i++)
		vms_buf_append(&b, "[", 1);
	vms_buf_append(&b, "\n", 1);
	expect_code(s.sock, "deep nesting", b.data, b.len, "bad_request");
	vms_buf_free(&b);
	/* binary garbage with NULs */
	char garbage[4096];
	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (char)(i * 131 + 7);
	garbage[sizeof(garbage) - 1] = '\n';
	expect_code(s.sock, "binary garbage", garbage, sizeof(garbage), "bad_request");
	/* too large: the daemon answers and closes */
	b = (struct vms_buf){ 0 };
	while (b.len < 70000)
		vms_buf_puts(&b, "xxxxxxxxxxxxxxxx");
	expect_code(s.sock, "too large", b.data, b.len, "too_large");
	vms_buf_free(&b);
	/* a NUL inside the source string is refused by the include scan */
	static const char nul_req[] =
		"{\"op\":\"check\",\"source\":\"int x;\\u0000#include \\\"/etc/passwd\\\"\"}\n";
	char *line = raw_exchange(s.sock, nul_req, sizeof(nul_req) - 1, 1);
	CHECK(line && strstr(line, "\"refused\""), "NUL in source: %s", line ? line : "(none)");
	free(line);

	/* pipelining: two requests in one write, two replies in order, ids echoed */
	int fd = conn_open(s.sock);
	const char two[] = "{\"op\":\"ping\",\"id\":\"first\"}\n{\"op\":\"ping\",\"id\":2}\n";
	send_all(fd, two, sizeof(two) - 1);
	struct vms_buf in = { 0 };
	char *l1 = read_line(fd, &in), *l2 = read_line(fd, &in);
	CHECK(l1 && strstr(l1, "\"id\":\"first\""), "first pipelined reply: %s", l1 ? l1 : "(none)");
	CHECK(l2 && strstr(l2, "\"id\":2"), "second pipelined reply: %s", l2 ? l2 : "(none)");
	free(l1);
	free(l2);
	vms_buf_free(&in);
	close(fd);

	/* a client that goes away mid-request, one that sends half a line and stalls */
	fd = conn_open(s.sock);
	send_all(fd, "{\"op\":\"build\",\"source\":\"#include \\\"vmlinux.h\\\"\\nint x;\"}\n", 55);
	close(fd);
	int stall = conn_open(s.sock);
	send_all(stall, "{\"op\":\"che", 10);

	/* limits: a macro bomb runs out of time (or memory) in the checker and in clang */
	const char *bomb =
		"#include \"vmlinux.h\"\n#define A(x) x x x x x x x x x x\n"
		"#define B(x) A(A(A(A(A(A(A(A(A(x)))))))))\nint y = 1 B(B(+1));\n";
	for (int k = 0; k < 2; k++) {
		struct json_object *rep = call(s.sock, compile_req(k ? "build" : "check", "bomb.bpf.c", bomb, NULL), NULL);
		const char *stt = str_of(rep, "status");
		printf("  bomb %s: %s in %s ms\n", k ? "build" : "check", stt ? stt : "?",
		       str_of(rep, "total_ms"));
		CHECK(stt && (!strcmp(stt, "timeout") || !strcmp(stt, "limit")),
		      "a macro bomb (%s) gave %s", k ? "build" : "check", stt ? stt : "(none)");
		json_object_put(rep);
	}
	/* still alive, and the stalled client did not block anyone */
	struct json_object *ping = simple(s.sock, "ping");
	CHECK(ping && !strcmp(str_of(ping, "ok"), "true"), "no ping after hostile clients");
	json_object_put(ping);
	close(stall);

	/* a second daemon on the same socket is refused; the first keeps working */
	char *log = vms_xasprintf("%s/second.log", work);
	char *cmd = vms_xasprintf("%s serve --socket %s --cache-dir %s/c2 -I %s -q 2>%s", vmslim,
				  s.sock, work, vmlinux_dir, log);
	int rc = system(cmd);
	CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 1, "a second daemon on a live socket: rc %d", rc);
	char *txt = NULL;
	size_t tl;
	if (vms_read_file(log, &txt, &tl) == 0)
		CHECK(strstr(txt, "another daemon"), "second daemon's message: %s", txt);
	free(txt);
	free(cmd);
	free(log);
	ping = simple(s.sock, "ping");
	CHECK(ping && !strcmp(str_of(ping, "ok"), "true"), "first daemon gone");
	json_object_put(ping);

	/* a shutdown request: reply, then a clean exit */
	struct json_object *sd = simple(s.sock, "shutdown");
	CHECK(sd && !strcmp(str_of(sd, "ok"), "true"), "shutdown reply");
	json_object_put(sd);
	int st2 = 0;
	for (int i = 0; i < 1000 && waitpid(s.pid, &st2, WNOHANG) != s.pid; i++)
		usleep(10000);
	CHECK(WIFEXITED(st2) && WEXITSTATUS(st2) == 0, "exit after shutdown: %d", st2);
	s.pid = 0;
	srv_stop(&s);

	/* a stale socket (daemon killed) does not stop the next one */
	srv_start(&s, "stale", cache, NULL);
	kill(s.pid, SIGKILL);
	waitpid(s.pid, NULL, 0);
	char *sockcopy = vms_xstrdup(s.sock);
	free(s.sock);
	free(s.cache);
	free(s.log);
	struct srv s2;
	srv_start(&s2, "stale", cache, NULL);
	CHECK(s2.pid > 0, "no daemon on a stale socket");
	srv_stop(&s2);
	free(sockcopy);
	free(cache);
}

/* ---- confine -------------------------------------------------------------------- */

/* A build written by the daemon (--allow-output DIR): the object when path, relative to
 * DIR or absolute, lands inside DIR (want non-NULL: that file is an ELF object), else an
 * error reply. Returns the error code, "" when written. */
static const char *output_case(const char *sock, const char *path, const char *want)
{
	static char code[32];
	struct json_object *req = compile_req("build", "w.bpf.c", "int x = 1;\n", NULL);
	json_object_object_add(req, "output", json_object_new_string(path));
	struct json_object *rep = call(sock, req, NULL);
	const char *e = error_code(rep);
	snprintf(code, sizeof(code), "%s", e ? e : "");
	if (want) {
		char *bytes = NULL;
		size_t len = 0;
		CHECK(rep && str_of(rep, "output") && !str_of(rep, "object") &&
		      vms_read_file(want, &bytes, &len) == 0 && len > 16 && !memcmp(bytes, "\177ELF", 4),
		      "output %s not written to %s: %s", path, want,
		      rep ? json_object_to_json_string(rep) : "(none)");
		free(bytes);
	} else {
		CHECK(e, "output %s accepted: %s", path, rep ? json_object_to_json_string(rep) : "(none)");
	}
	json_object_put(rep);
	return code;
}

/* Outputs inside DIR only, never through or over a symlink (issue 10, item 8). */
static void confine_outputs(const char *sock, const char *outdir)
{
	char *abs = vms_xasprintf("%s/written.o", outdir), *rel = vms_xasprintf("%s/rel.o", outdir);
	output_case(sock, abs, abs);
	output_case(sock, "rel.o", rel);
	/* a symlink at the target: refused, the link and the file it names untouched */
	char *victim = vms_xasprintf("%s/victim.txt", work), *link = vms_xasprintf("%s/link.o", outdir);
	vms_write_file_atomic(victim, "VICTIM\n", 7, 0644);
	unlink(link);
	CHECK(symlink(victim, link) == 0, "symlink");
	output_case(sock, "link.o", NULL);
	output_case(sock, link, NULL);
	char *v = NULL;
	struct stat st;
	CHECK(vms_read_file(victim, &v, NULL) == 0 && !strcmp(v, "VICTIM\n") &&
	      lstat(link, &st) == 0 && S_ISLNK(st.st_mode), "written through or over a symlink");
	free(v);
	/* a symlinked directory leading outside DIR */
	char *esc = vms_xasprintf("%s/esc", outdir), *escaped = vms_xasprintf("%s/x.o", work);
	unlink(esc);
	unlink(escaped);
	CHECK(symlink(work, esc) == 0, "symlink");
	output_case(sock, "esc/x.o", NULL);
	CHECK(access(escaped, F_OK) < 0, "written outside DIR through a symlinked directory");
	/* outside DIR, and ".." */
	const char *bad[] = { escaped, "../x.o", "sub/../../x.o", "./../x.o", "", "sub/", NULL };
	for (int i = 0; bad[i]; i++)
		CHECK(!strcmp(output_case(sock, bad[i], NULL), "bad_request"), "'%s' not a bad_request",
		      bad[i]);
	CHECK(access(escaped, F_OK) < 0, "written outside DIR");
	free(abs), free(rel), free(victim), free(link), free(esc), free(escaped);
}

static void part_confine(void)
{
	char *cache = vms_xasprintf("%s/cache", work);
	char *secret = vms_xasprintf("%s/secret.txt", work);
	char *inc = vms_xasprintf("%s/inc", work);
	char *sub = vms_xasprintf("%s/inc/sub", work);
	vms_mkdir_p(sub, 0755);
	vms_write_file_atomic(secret, "SECRET-CONTENT-42 garbage;\n", 27, 0600);
	char *l1 = vms_xasprintf("%s/evil.h", inc), *l2 = vms_xasprintf("%s/outside", inc);
	char *ok = vms_xasprintf("%s/ok.h", sub);
	unlink(l1);
	unlink(l2);
	CHECK(symlink(secret, l1) == 0, "symlink");
	CHECK(symlink(work, l2) == 0, "symlink");
	vms_write_file_atomic(ok, "#define OK_VALUE 42\n", 20, 0644);
	struct srv s;
	char *outdir = vms_xasprintf("%s/out", work);
	vms_mkdir_p(outdir, 0755);
	const char *extra[] = { "-I", inc, "--allow-output", outdir, NULL };
	srv_start(&s, "confine", cache, extra);
	if (!s.pid)
		return;
	char *via_dir = vms_xasprintf("#include \"outside/secret.txt\"\n");
	char *abs_secret = vms_xasprintf("#include \"%s\"\n", secret);
	const char *attacks[] = {
		"#include \"/etc/passwd\"\n",
		"#include </etc/passwd>\n",
		"#include \"../../../../../../etc/passwd\"\n",
		"#include <bpf/../../../etc/passwd>\n",
		"#include \"evil.h\"\n",
		via_dir,
		abs_secret,
		"#define P \"/etc/passwd\"\n#include P\n",
		"#define S(x) #x\n#include S(/etc/passwd)\n",
		"%:include \"/etc/passwd\"\n",
		"#inc\\\nlude \"/etc/passwd\"\n",
		"#/* c */include \"/etc/passwd\"\n",
		"/* start\n */ #include \"/etc/passwd\"\n",
		"  #  include_next \"/etc/passwd\"\n",
		"#import \"/etc/passwd\"\n",
		"#embed \"/etc/passwd\"\n",
		"#pragma GCC dependency \"/etc/passwd\"\n",
		"_Pragma(\"GCC dependency \\\"/etc/passwd\\\"\")\n",
		"#if __has_include(\"/etc/shadow\")\nint y;\n#endif\n",
		"#include \"vmlinux.h\" \r#include \"/etc/passwd\"\n",
		"#include \"vmlinux.h\"\\ \n#include \"/etc/passwd\"\n",
		"#include \"nonexistent-header.h\"\n",
		"#incl\\u0075de \"/etc/passwd\"\n",
		/* clang skips a UTF-8 BOM at the start: the '#' is first on its line */
		"\xef\xbb\xbf#include \"/etc/passwd\"\n",
		/* a comment line opening a comment hides none after it */
		"/*\n#define X /*\n#include \"/etc/passwd\"\n*/\n",
		/* clang compiling reads its Unicode blanks as blanks (clang -E does not) */
		"\xc2\xa0#include \"/etc/passwd\"\n",
		"int y;\n\xe2\x80\x83#include \"/etc/passwd\"\n",
		"\xe3\x80\x80#include \"/etc/passwd\"\n",
		"#\xc2\xa0include \"/etc/passwd\"\n",
		"#include\xc2\xa0\"/etc/passwd\"\n",
		"const char a[] = {\n\xc2\xa0#embed \"/etc/passwd\"\n};\n",
		"\xe2\x80\xa8#include_next </etc/passwd>\n",
		"\xc2\x85#pragma GCC dependency \"/etc/passwd\"\n",
		/* no clang reads these as blanks; refused all the same */
		"\xe2\x80\x8b#include \"/etc/passwd\"\n",
		"int y;\n\xef\xbb\xbf#include \"/etc/passwd\"\n",
		/* queries made by macros */
		"#define H(x) __has_include(x)\n#if H(\"/etc/shadow\")\nint y;\n#endif\n",
		"#define P __has_include\n#if P(\"/etc/shadow\")\nint y;\n#endif\n",
		"#define F \"/etc/shadow\"\n#if __has_include(F)\nint y;\n#endif\n",
		"#define CAT(a,b) a##b\n#if CAT(__has_,include)(\"/etc/shadow\")\nint y;\n#endif\n",
		"#if __has_embed(\"/etc/passwd\")\nint y;\n#endif\n",
		"#if __has_include_next(</etc/passwd>)\nint y;\n#endif\n",
		"#define S \"GCC dependency \\\"/etc/passwd\\\"\"\n_Pragma(S)\n",
		"#define P(x) _Pragma(#x)\nP(GCC dependency \"/etc/passwd\")\n",
		"#define CAT(a,b) a##b\nCAT(_Pra,gma)(\"GCC dependency \\\"/etc/passwd\\\"\")\n",
		/* assembler directives that read files, at file and at function scope */
		"__asm__(\".incbin \\\"/etc/passwd\\\"\");\n",
		"int f(void) { asm volatile(\".pushsection .data\\n.incbin \\\"/etc/passwd\\\"\\n"
		".popsection\"); return 0; }\n",
		"__asm__(\".inc\" \"bin \\\"/etc/passwd\\\"\");\n",
		"__asm__(\"\\x2eincbin \\\"/etc/passwd\\\"\");\n",
		"__asm(\"\\056INCBIN \\\"/etc/passwd\\\"\");\n",
		"#define A(x) __asm__(x)\nA(\".incbin \\\"/etc/passwd\\\"\");\n",
		"#define S(x) #x\n__asm__(S(.incbin \"/etc/passwd\"));\n",
		"__asm__(\".include \\\"/etc/passwd\\\"\");\n",
		"__asm__(\".macro m\\n.inc\\\\()bin \\\"/etc/passwd\\\"\\n.endm\\nm\");\n",
		"__asm__(\".irpc c,b\\n.inc\\\\c\\\\()in \\\"/etc/passwd\\\"\\n.endr\");\n",
		"#define E\n__asm__(\".inc\" E \"bin \\\"/etc/passwd\\\"\");\n",
		"#define CAT(a,b) a##b\n#define XS(x) S(x)\n#define S(x) #x\n"
		"__asm__(XS(.CAT(inc,bin) \"/etc/passwd\"));\n",
		"__asm__(\".inc%c0 \\\"/etc/passwd\\\"\" :: \"i\"(0));\n",
		"__asm__(R\"(.incbin \"/etc/passwd\")\");\n",
		NULL,
	};
	for (int k = 0; attacks[k]; k++)
		for (int op = 0; op < 2; op++) {
			char *raw = NULL;
			struct json_object *rep =
				call(s.sock, compile_req(op ? "build" : "check", "attack.bpf.c", attacks[k], NULL), &raw);
			const char *st = str_of(rep, "status");
			CHECK(st && !strcmp(st, "refused"), "attack %d (%s) was not refused: %.300s", k,
			      op ? "build" : "check", raw ? raw : "");
			CHECK(raw && !strstr(raw, "root:") && !strstr(raw, "SECRET-CONTENT"),
			      "attack %d leaked file contents: %.300s", k, raw ? raw : "");
			json_object_put(rep);
			free(raw);
		}
	/* flags that would add paths or files */
	const char *bad_flags[] = { "-include/etc/passwd", "-I/etc", "-isystem/etc",
				    "-Wp,-include,/etc/passwd", "-DX=1\n#include \"/etc/passwd\"",
				    "--sysroot=/", "@/etc/passwd", "-Xclang", "-fplugin=/tmp/x.so",
				    "-iquote/etc", "-imacros/etc/passwd", "-std=c99", "-trigraphs",
				    "-DA=asm", "-DH=__has_include", "-DC=a##b", "-DS=\".incbin\"",
				    "-DP=_Pragma(\"GCC dependency \\\"/etc/passwd\\\"\")", NULL };
	for (int k = 0; bad_flags[k]; k++) {
		const char *fl[] = { bad_flags[k], NULL };
		char *raw = NULL;
		struct json_object *rep = call(s.sock, compile_req("check", "f.bpf.c", "int x;\n", fl), &raw);
		const char *st = str_of(rep, "status");
		CHECK(st && !strcmp(st, "refused"), "flag %s was not refused: %.200s", bad_flags[k],
		      raw ? raw : "");
		json_object_put(rep);
		free(raw);
	}
	/* what is allowed stays allowed */
	const char *fine[] = {
		"#include \"vmlinux.h\"\n#include <bpf/bpf_helpers.h>\nint x;\n",
		"#include \"sub/ok.h\"\nint x = OK_VALUE;\n",
		"#include <sub/ok.h>\n// #include \"/etc/passwd\"\nint x = OK_VALUE;\n",
		"#include <stddef.h>\nsize_t n;\n",
		"#if __has_include(\"not-here.h\")\n#error no\n#endif\nint z;\n",
		"const char *s = \"#include \\\"/etc/passwd\\\"\";\n",
		/* pasting, stringizing and _Pragma as real programs use them */
		"#define CONCAT(a, b) a##b\nint CONCAT(foo_, bar) = 1;\n",
		"#define KP(name) int kprobe_##name(void) { return 0; }\nKP(do_unlinkat)\n",
		"#define DO_PRAGMA(x) _Pragma(#x)\nDO_PRAGMA(clang diagnostic push)\nint x;\n"
		"DO_PRAGMA(clang diagnostic pop)\n",
		"_Pragma(\"clang diagnostic push\")\nint x;\n_Pragma(\"clang diagnostic pop\")\n",
		"#define STR(x) #x\nconst char *s = STR(include) \"embedded.\" \"\\xc2\\xa0\";\n",
		NULL,
	};
	for (int k = 0; fine[k]; k++) {
		const char *fl[] = { "-DFOO=1", "-O2", "-Wall", NULL };
		char *raw = NULL;
		struct json_object *rep = call(s.sock, compile_req("check", "fine.bpf.c", fine[k], fl), &raw);
		const char *st = str_of(rep, "status");
		CHECK(st && !strcmp(st, "ok"), "legitimate source %d refused or failed: %.300s", k,
		      raw ? raw : "");
		json_object_put(rep);
		free(raw);
	}
	confine_outputs(s.sock, outdir);
	free(outdir);
	CHECK(srv_stop(&s) == 0, "confine daemon exit");
	free(via_dir);
	free(abs_secret);
	free(l1);
	free(l2);
	free(ok);
	free(sub);
	free(inc);
	free(secret);
	free(cache);
}

/* ---- header_rewrite --------------------------------------------------------------- */

/* A header in an -I directory rewritten at the same size with its mtime put back: the
 * next check and build see the new contents (the memory cache keys on content hashes; the
 * header memo notices the ctime). The first answers come from a header hashed more than 2 s
 * after it was written, so the memo trusts it until the rewrite. */
static void part_header_rewrite(void)
{
	char *cache = vms_xasprintf("%s/cache", work);
	char *inc = vms_xasprintf("%s/inc", work);
	char *hdr = vms_xasprintf("%s/inc/ver.h", work);
	vms_mkdir_p(inc, 0755);
	vms_write_file_atomic(hdr, "#define VER 1111\n", 17, 0644);
	struct stat before;
	CHECK(stat(hdr, &before) == 0, "stat %s", hdr);
	sleep(3);
	struct srv s;
	const char *extra[] = { "-I", inc, NULL };
	srv_start(&s, "rewrite", cache, extra);
	if (!s.pid)
		return;
	const char *src = "#include \"ver.h\"\n_Static_assert(VER == 1111, \"old header\");\n"
			  "int x = VER;\n";
	const char *ops[] = { "check", "build" };
	for (int op = 0; op < 2; op++)
		for (int k = 0; k < 2; k++) {
			struct json_object *rep = call(s.sock, compile_req(ops[op], "v.bpf.c", src, NULL), NULL);
			const char *st = str_of(rep, "status");
			CHECK(st && !strcmp(st, "ok"), "%s %d with the first header: %s", ops[op], k,
			      rep ? json_object_to_json_string(rep) : "(none)");
			json_object_put(rep);
		}
	/* same size, same inode, mtime restored */
	int fd = open(hdr, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, "#define VER 2222\n", 17, 0) == 17, "rewrite %s", hdr);
	if (fd >= 0)
		close(fd);
	struct timespec times[2] = { before.st_atim, before.st_mtim };
	CHECK(utimensat(AT_FDCWD, hdr, times, 0) == 0, "utimensat");
	struct stat after;
	CHECK(stat(hdr, &after) == 0 && after.st_size == before.st_size &&
	      after.st_ino == before.st_ino && after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
	      after.st_mtim.tv_nsec == before.st_mtim.tv_nsec, "the rewrite changed size or mtime");
	for (int op = 0; op < 2; op++) {
		char *raw = NULL;
		struct json_object *rep = call(s.sock, compile_req(ops[op], "v.bpf.c", src, NULL), &raw);
		const char *st = str_of(rep, "status");
		CHECK(st && !strcmp(st, "errors") && raw && strstr(raw, "old header"),
		      "%s after a same-size rewrite with mtime restored served the old header: %.300s",
		      ops[op], raw ? raw : "");
		json_object_put(rep);
		free(raw);
	}
	CHECK(srv_stop(&s) == 0, "rewrite daemon exit");
	free(hdr);
	free(inc);
	free(cache);
}

/* ---- sigterm -------------------------------------------------------------------- */

struct bg {
	const char *sock;
	char *src;
	char *reply;
	int rc;
};

static void *bg_build(void *arg)
{
	struct bg *b = arg;
	struct json_object *r = compile_req("build", "p.bpf.c", b->src, NULL);
	b->rc = vms_client_call(b->sock, json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN),
				&b->reply, 60000);
	json_object_put(r);
	return NULL;
}

static void part_sigterm(void)
{
	char *cache = vms_xasprintf("%s/cache", work);
	char *p = vms_xasprintf("%s/execsnoop.bpf.c", progs_dir);
	char *src = test_slurp(p);
	struct srv s;
	srv_start(&s, "term", cache, NULL);
	if (!s.pid)
		return;
	struct bg b[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		b[i] = (struct bg){ .sock = s.sock };
		b[i].src = vms_xasprintf("%s\n// variant %d\n", src, i);
		pthread_create(&th[i], NULL, bg_build, &b[i]);
	}
	usleep(300000);
	struct child kids[64];
	size_t nk = children_of(s.pid, kids, 64);
	printf("  SIGTERM with %zu children running\n", nk);
	CHECK(srv_stop(&s) == 0, "exit status after SIGTERM with builds in flight");
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		/* each either finished or was told the daemon is going away */
		CHECK(b[i].rc < 0 || (b[i].reply && (strstr(b[i].reply, "\"status\":\"ok\"") ||
						     strstr(b[i].reply, "shutting_down"))),
		      "build %d during shutdown: %s", i, b[i].reply ? b[i].reply : "(no reply)");
		free(b[i].reply);
		free(b[i].src);
	}
	for (size_t i = 0; i < nk && i < 64; i++) {
		int alive = 1;
		for (int k = 0; k < 300 && alive; k++) {
			alive = same_process_alive(&kids[i]);
			if (alive)
				usleep(10000);
		}
		CHECK(!alive, "child %d outlived the daemon", kids[i].pid);
	}
	CHECK(count_files(cache, ".tmp.", NULL) == 0, "a half-written cache entry was left");
	/* and every entry that is there is whole: a new daemon serves them or recomputes */
	srv_start(&s, "term2", cache, NULL);
	struct json_object *st = simple(s.sock, "stats");
	CHECK(stat_of(st, "cache", "corrupt") == 0, "corrupt entries after SIGTERM");
	json_object_put(st);
	srv_stop(&s);
	free(src);
	free(p);
	free(cache);
}

/* ---- client ----------------------------------------------------------------------- */

/* `vmslim client` prints and exits as `vmslim check` / `vmslim build` do. */
static void part_client(void)
{
	char *cache = vms_xasprintf("%s/cache", work);
	char *p = vms_xasprintf("%s/execsnoop.bpf.c", progs_dir);
	char *src = test_slurp(p);
	int line;
	char *bad = broken(src, &line);
	char *badp = vms_xasprintf("%s/bad.bpf.c", work), *goodp = vms_xasprintf("%s/good.bpf.c", work);
	char *passwdp = vms_xasprintf("%s/passwd.bpf.c", work);
	vms_write_file_atomic(badp, bad, strlen(bad), 0644);
	vms_write_file_atomic(goodp, src, strlen(src), 0644);
	vms_write_file_atomic(passwdp, "#include \"/etc/passwd\"\n", 23, 0644);
	char *inc = vms_xasprintf("-I%s", vmlinux_dir);
	struct srv s;
	srv_start(&s, "client", cache, NULL);
	if (!s.pid)
		return;
	const char *files[] = { goodp, badp };
	for (int k = 0; k < 2; k++) {
		char *e1, *e2;
		const char *direct[] = { vmslim, "check", inc, "-I/usr/include", files[k], NULL };
		const char *viad[] = { vmslim, "client", "--socket", s.sock, "check", files[k], NULL };
		int r1 = test_run(direct, NULL, NULL, &e1), r2 = test_run(viad, NULL, NULL, &e2);
		CHECK(r1 == r2 && r1 == k, "check %s: vmslim check exits %d, client %d", files[k], r1, r2);
		CHECK(!strcmp(e1, e2), "check %s: outputs differ:\n--- vmslim check\n%s--- client\n%s",
		      files[k], e1, e2);
		free(e1);
		free(e2);
	}
	char *e, *obj = vms_xasprintf("%s/c.o", work), *bobj = vms_xasprintf("%s/b.o", work);
	const char *b1[] = { vmslim, "client", "-s", s.sock, "build", goodp, "-o", obj, NULL };
	CHECK(test_run(b1, NULL, NULL, &e) == 0, "client build of a good program: %s", e);
	free(e);
	char *data = NULL;
	size_t dl = 0;
	CHECK(vms_read_file(obj, &data, &dl) == 0 && dl > 1000 && !memcmp(data, "\177ELF", 4),
	      "client build wrote no object");
	free(data);
	const char *b2[] = { vmslim, "client", "-s", s.sock, "build", badp, "-o", bobj, NULL };
	int rc = test_run(b2, NULL, NULL, &e);
	CHECK(rc == 1 && strstr(e, "bad.bpf.c") && strstr(e, "pidd"), "client build of a bad program: %d %s", rc, e);
	CHECK(access(bobj, F_OK) < 0, "a failed build left an object");
	free(e);
	const char *b3[] = { vmslim, "client", "-s", s.sock, "check", passwdp, NULL };
	rc = test_run(b3, NULL, NULL, &e);
	CHECK(rc == 1 && strstr(e, "refused") && !strstr(e, "root:"), "client check of /etc/passwd: %d %s", rc, e);
	free(e);
	const char *b4[] = { vmslim, "client", "-s", s.sock, "stats", NULL };
	CHECK(test_run(b4, NULL, NULL, &e) == 0, "client stats");
	free(e);
	char *gone = vms_xstrdup(s.sock);
	CHECK(srv_stop(&s) == 0, "client daemon exit");
	const char *b5[] = { vmslim, "client", "-s", gone, "check", goodp, NULL };
	rc = test_run(b5, NULL, NULL, &e);
	CHECK(rc == 1 && strstr(e, "no daemon"), "client without a daemon: %d %s", rc, e);
	free(e);
	const char *b6[] = { vmslim, "client", "frobnicate", NULL };
	CHECK(test_run(b6, NULL, NULL, &e) == 2, "client usage error");
	free(e);
	free(gone), free(obj), free(bobj), free(inc), free(badp), free(goodp), free(passwdp), free(bad);
	free(src), free(p), free(cache);
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: test_serve PART VMSLIM VMLINUX_DIR PROGS_DIR WORK_DIR\n");
		return 2;
	}
	vmslim = argv[2];
	vmlinux_dir = argv[3];
	progs_dir = argv[4];
	work = argv[5];
	signal(SIGPIPE, SIG_IGN);
	vms_remove_tree(work);
	vms_mkdir_p(work, 0755);
	/* the daemons' scratch directories land here: a daemon the test kills with SIGKILL
	 * cannot remove its own, and /tmp should not collect them */
	char *tmp = vms_xasprintf("%s/tmp", work);
	vms_mkdir_p(tmp, 0700);
	setenv("TMPDIR", tmp, 1);
	free(tmp);
	const char *part = argv[1];
	if (!strcmp(part, "restart"))
		part_restart();
	else if (!strcmp(part, "stress"))
		part_stress();
	else if (!strcmp(part, "protocol"))
		part_protocol();
	else if (!strcmp(part, "confine"))
		part_confine();
	else if (!strcmp(part, "header_rewrite"))
		part_header_rewrite();
	else if (!strcmp(part, "sigterm"))
		part_sigterm();
	else if (!strcmp(part, "client"))
		part_client();
	else {
		fprintf(stderr, "unknown part %s\n", part);
		return 2;
	}
	if (!failures)
		printf("%s: ok\n", part);
	return test_exit();
}
