/* The remote tier (issue 13): daemons sharing answers through a real redis-server, which
 * this test starts on a Unix socket in its work directory and stops at the end.
 *
 * usage: test_serve_remote PART VMSLIM VMLINUX_DIR PROGS_DIR WORK_DIR
 *   share    two daemons with their own cache directories ("machines"): a build and a
 *            check the first computed are answered by the second from Redis, the object
 *            byte-identical, then from its own memory; keys are vmslim:v1:VERSION:HEX
 *   corrupt  a truncated, bit-flipped, foreign (another key's entry), non-entry, wrong-
 *            type and oversized value under the key: each ignored, counted, recomputed
 *            (the right object), and repaired in Redis
 *   down     Redis stopped mid-run: builds still succeed, each bounded; Redis back: once
 *            the breaker's pause is over, hits resume
 *   slow     DEBUG SLEEP: the lookup gives up at its timeout; a listener that accepts and
 *            never answers: a client waiting on it does not hold up another one
 *   many     8 clients on each of the two daemons at once, builds and checks of four
 *            sources: every answer right, objects identical across daemons
 * Skipped (77) without redis-server. Time bounds are generous ("bounded, not hung": a
 * lookup has a 500 ms timeout, the bounds are seconds) and say so where they are. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
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
static char *redis_sock, *redis_url;
static pid_t redis_pid;

/* ---- redis-server and redis-cli --------------------------------------------------- */

static int have_program(const char *name)
{
	char *cmd = vms_xasprintf("command -v %s >/dev/null 2>&1", name);
	int ok = system(cmd) == 0;
	free(cmd);
	return ok;
}

/* Output of redis-cli on our socket with the given arguments (shell words), owned. */
static char *cli(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *cli(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *args;
	if (vasprintf(&args, fmt, ap) < 0)
		args = NULL;
	va_end(ap);
	char *cmd = vms_xasprintf("redis-cli -s %s %s 2>&1", redis_sock, args ? args : "");
	free(args);
	FILE *p = popen(cmd, "r");
	free(cmd);
	struct vms_buf b = { 0 };
	char buf[4096];
	size_t n;
	while (p && (n = fread(buf, 1, sizeof(buf), p)) > 0)
		vms_buf_append(&b, buf, n);
	if (p)
		pclose(p);
	char *s = vms_buf_steal(&b);
	size_t l = strlen(s);
	while (l && (s[l - 1] == '\n' || s[l - 1] == ' '))
		s[--l] = 0;
	return s;
}

static void redis_start(void)
{
	char *log = vms_xasprintf("%s/redis.log", work);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0)
			dup2(fd, 1), dup2(fd, 2);
		execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", redis_sock,
		       "--unixsocketperm", "700", "--save", "", "--appendonly", "no", "--dir", work,
		       "--enable-debug-command", "yes", (char *)NULL);
		_exit(127);
	}
	free(log);
	redis_pid = pid;
	for (int i = 0; i < 500; i++) {
		char *r = cli("PING");
		int up = !strcmp(r, "PONG");
		free(r);
		if (up)
			return;
		usleep(10000);
	}
	FAIL("redis-server did not come up (see %s/redis.log)", work);
}

static void redis_stop(void)
{
	if (redis_pid <= 0)
		return;
	kill(redis_pid, SIGKILL); /* as a crashed or unplugged server: no goodbye */
	waitpid(redis_pid, NULL, 0);
	redis_pid = 0;
	unlink(redis_sock);
}

/* The one key matching vmslim:* (owned), or NULL. */
static char *only_key(void)
{
	char *k = cli("--scan --pattern 'vmslim:*'");
	if (!*k || strchr(k, '\n')) {
		FAIL("expected one vmslim key in Redis, found: %s", *k ? k : "(none)");
		free(k);
		return NULL;
	}
	return k;
}

/* ---- daemons ------------------------------------------------------------------------ */

struct srv {
	pid_t pid;
	char *sock, *log;
};

static void srv_start(struct srv *s, const char *name, const char *const *extra)
{
	memset(s, 0, sizeof(*s));
	s->sock = vms_xasprintf("%s/%s.sock", work, name);
	s->log = vms_xasprintf("%s/%s.log", work, name);
	char *cache = vms_xasprintf("%s/cache-%s", work, name);
	vms_remove_tree(cache);
	struct vms_argv a = { 0 };
	const char *base[] = { vmslim, "serve", "--socket", s->sock, "--cache-dir", cache, "-I",
			       vmlinux_dir, "-I", "/usr/include", "--remote", redis_url, NULL };
	for (size_t i = 0; base[i]; i++)
		vms_argv_push(&a, base[i]);
	for (size_t i = 0; extra && extra[i]; i++)
		vms_argv_push(&a, extra[i]);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0)
			dup2(fd, 2), dup2(fd, 1);
		execv(vmslim, a.v);
		_exit(127);
	}
	vms_argv_free(&a);
	free(cache);
	s->pid = pid;
	for (int i = 0; i < 600; i++) {
		char *reply = NULL;
		if (vms_client_call(s->sock, "{\"op\":\"ping\"}", &reply, 2000) == 0) {
			free(reply);
			return;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			FAIL("daemon %s exited during start-up (see %s)", name, s->log);
			s->pid = 0;
			return;
		}
		usleep(20000);
	}
	FAIL("daemon %s did not come up (see %s)", name, s->log);
}

static void srv_stop(struct srv *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		int st = 0;
		waitpid(s->pid, &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "daemon %s did not exit 0", s->sock);
	}
	free(s->sock);
	free(s->log);
	s->pid = 0;
}

static struct json_object *call(const char *sock, const char *op, const char *file,
				const char *src)
{
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "op", json_object_new_string(op));
	if (src) {
		json_object_object_add(r, "file", json_object_new_string(file));
		json_object_object_add(r, "source", json_object_new_string(src));
	}
	char *reply = NULL;
	int e = vms_client_call(sock, json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN),
				&reply, 120000);
	json_object_put(r);
	if (e < 0) {
		FAIL("request to %s failed: %s", sock, strerror(-e));
		return NULL;
	}
	struct json_object *o = json_tokener_parse(reply);
	if (!o)
		FAIL("reply is not JSON: %.200s", reply);
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

static double num_of(struct json_object *o, const char *k)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, k, &v))
		return -1;
	return json_object_get_double(v);
}

static int64_t remote_stat(const char *sock, const char *k)
{
	struct json_object *st = call(sock, "stats", NULL, NULL), *g, *v;
	int64_t n = -1;
	if (st && json_object_object_get_ex(st, "remote", &g) && json_object_object_get_ex(g, k, &v))
		n = json_object_get_int64(v);
	json_object_put(st);
	return n;
}

/* Waits (bounded) until the daemon's remote writes reach n: a build's answer is written
 * in the background, after its reply. */
static void wait_stores(const char *sock, int64_t n)
{
	for (int i = 0; i < 500; i++) {
		if (remote_stat(sock, "stores") >= n && remote_stat(sock, "pending") == 0)
			return;
		usleep(10000);
	}
	FAIL("%s: fewer than %lld remote stores after 5 s", sock, (long long)n);
}

struct answer {
	char *status, *cached;
	void *obj;
	size_t len;
	double total_ms;
};

static void answer_free(struct answer *a)
{
	free(a->status), free(a->cached), free(a->obj);
	memset(a, 0, sizeof(*a));
}

static struct answer ask(const char *sock, const char *op, const char *file, const char *src)
{
	struct answer a = { 0 };
	struct json_object *rep = call(sock, op, file, src);
	const char *st = str_of(rep, "status"), *c = str_of(rep, "cached"), *b = str_of(rep, "object");
	a.status = vms_xstrdup(st ? st : "(none)");
	a.cached = vms_xstrdup(c ? c : "(none)");
	a.total_ms = num_of(rep, "total_ms");
	if (b)
		vms_base64_decode(b, strlen(b), &a.obj, &a.len);
	if (!st)
		fprintf(stderr, "reply: %s\n", json_object_to_json_string(rep));
	json_object_put(rep);
	return a;
}

/* A build that must succeed with the given origin and, with ref, that object. */
static void build_expect(const char *sock, const char *src, const char *cached,
			 const struct answer *ref, const char *what)
{
	struct answer a = ask(sock, "build", "prog.bpf.c", src);
	CHECK(!strcmp(a.status, "ok"), "%s: status %s", what, a.status);
	CHECK(!strcmp(a.cached, cached), "%s: cached=%s, expected %s", what, a.cached, cached);
	CHECK(a.obj && a.len > 1000, "%s: no object", what);
	if (ref)
		CHECK(a.len == ref->len && !memcmp(a.obj, ref->obj, a.len),
		      "%s: the object differs from the first build's", what);
	printf("  %s: cached=%s, %.1f ms\n", what, a.cached, a.total_ms);
	answer_free(&a);
}

static char *source(const char *tag)
{
	char *p = vms_xasprintf("%s/execsnoop.bpf.c", progs_dir);
	char *src = test_slurp(p);
	free(p);
	char *s = vms_xasprintf("%s\n/* %s */\n", src, tag);
	free(src);
	return s;
}

/* ---- parts -------------------------------------------------------------------------- */

static void part_share(void)
{
	struct srv a, b;
	srv_start(&a, "a", NULL);
	srv_start(&b, "b", NULL);
	char *src = source("share");
	struct answer first = ask(a.sock, "build", "prog.bpf.c", src);
	CHECK(!strcmp(first.status, "ok") && !strcmp(first.cached, "false"),
	      "first build: %s cached=%s", first.status, first.cached);
	wait_stores(a.sock, 1);
	char *key = only_key(), *want = vms_xasprintf("vmslim:v%d:", VMS_CACHE_ENTRY_VERSION);
	CHECK(key && !strncmp(key, want, strlen(want)) && strlen(key) > strlen(want) + 33,
	      "key %s: not vmslim:v1:VERSION:HEX", key ? key : "(none)");
	printf("  key: %s\n", key ? key : "(none)");
	build_expect(b.sock, src, "remote", &first, "machine 2, first build");
	build_expect(b.sock, src, "memory", &first, "machine 2, again");
	CHECK(remote_stat(b.sock, "hits") == 1, "machine 2: remote hits");
	CHECK(remote_stat(b.sock, "stores") == 0, "machine 2 wrote back what it read");
	CHECK(remote_stat(a.sock, "misses") == 1, "machine 1: remote misses");

	/* diagnostics travel too: an error on a line, answered by the second machine */
	char *bad = vms_xasprintf("%s\nint broken(void) { return undefined_thing; }\n", src);
	struct answer c1 = ask(a.sock, "check", "prog.bpf.c", bad);
	wait_stores(a.sock, 2);
	struct json_object *r2 = call(b.sock, "check", "prog.bpf.c", bad);
	CHECK(!strcmp(c1.status, "errors"), "check on machine 1: %s", c1.status);
	CHECK(r2 && !strcmp(str_of(r2, "status"), "errors") && !strcmp(str_of(r2, "cached"), "remote"),
	      "check on machine 2: %s", r2 ? json_object_to_json_string(r2) : "(none)");
	struct json_object *diags;
	CHECK(r2 && json_object_object_get_ex(r2, "diagnostics", &diags) &&
	      json_object_array_length(diags) > 0, "machine 2's check has no diagnostics");
	json_object_put(r2);
	answer_free(&c1);
	free(bad);

	srv_stop(&a);
	srv_stop(&b);
	char *blog = vms_xasprintf("%s/b.log", work), *log = test_slurp(blog);
	CHECK(log && strstr(log, "remote: unix://") && strstr(log, "2 hits"),
	      "machine 2's exit log line has no remote counters");
	free(log), free(blog);
	answer_free(&first);
	free(key), free(want), free(src);
}

/* One damaged value: machine 1 computes and stores, the value is replaced by damage(),
 * machine 2 (which never saw the source) must recompute it, count it, and repair it. */
static void corrupt_case(struct srv *a, struct srv *b, int i, const char *what,
			 const char *damage) __attribute__((format(printf, 5, 0)));
static void corrupt_case(struct srv *a, struct srv *b, int i, const char *what,
			 const char *damage)
{
	free(cli("FLUSHALL"));
	char *tag = vms_xasprintf("corrupt %d", i), *src = source(tag);
	struct answer first = ask(a->sock, "build", "prog.bpf.c", src);
	wait_stores(a->sock, i + 1);
	char *key = only_key();
	if (key) {
		char *cmd = vms_xasprintf(damage, key), *r = cli("%s", cmd);
		free(r), free(cmd);
	}
	int64_t before = remote_stat(b->sock, "corrupt");
	build_expect(b->sock, src, "false", &first, what);
	CHECK(remote_stat(b->sock, "corrupt") == before + 1, "%s: not counted as corrupt", what);
	wait_stores(b->sock, i + 1);
	build_expect(b->sock, src, "memory", &first, "  and then");
	free(key), free(tag), free(src);
	answer_free(&first);
}

static void part_corrupt(void)
{
	struct srv a, b;
	srv_start(&a, "a", NULL);
	srv_start(&b, "b", NULL);
	/* Lua does the byte surgery inside Redis: redis-cli cannot pass binary arguments */
	static const char *cases[][2] = {
		{ "truncated", "EVAL \"local v=redis.call('GET',KEYS[1]) return redis.call('SET',KEYS[1],string.sub(v,1,#v-7))\" 1 %s" },
		{ "bit-flipped", "EVAL \"local v=redis.call('GET',KEYS[1]) local n=math.floor(#v/2) return redis.call('SET',KEYS[1],string.sub(v,1,n-1)..string.char((string.byte(v,n)+1)%%256)..string.sub(v,n+1))\" 1 %s" },
		{ "foreign (another key's entry)", "EVAL \"local v=redis.call('GET',KEYS[1]) return redis.call('SET',KEYS[1],string.sub(v,1,8)..'XXXXXXXX'..string.sub(v,17))\" 1 %s" },
		{ "not an entry", "SET %s 'hello, I am not a vmslim entry but quite long enough to be read as one'" },
		{ "wrong type", "EVAL \"redis.call('DEL',KEYS[1]) return redis.call('RPUSH',KEYS[1],'x')\" 1 %s" },
	};
	int n = (int)(sizeof(cases) / sizeof(cases[0]));
	for (int i = 0; i < n; i++) {
		printf("%s\n", cases[i][0]);
		/* each case's key is then overwritten by machine 2's recomputed entry (SET
		 * replaces a value of any type) */
		corrupt_case(&a, &b, i, cases[i][0], cases[i][1]);
	}
	srv_stop(&b);

	/* oversized: a daemon whose cap is below the object neither stores nor reads it */
	printf("oversized\n");
	const char *small[] = { "--remote-max-entry", "4K", NULL };
	srv_start(&b, "b2", small);
	free(cli("FLUSHALL"));
	char *src = source("oversized");
	struct answer first = ask(a.sock, "build", "prog.bpf.c", src);
	wait_stores(a.sock, n + 1);
	int64_t too_large = remote_stat(b.sock, "too_large");
	build_expect(b.sock, src, "false", &first, "over --remote-max-entry");
	CHECK(remote_stat(b.sock, "too_large") == too_large + 2,
	      "an oversized value was not refused on read and on write (%lld)",
	      (long long)remote_stat(b.sock, "too_large"));
	CHECK(remote_stat(b.sock, "bytes_in") <= 4096 + 48 + 1,
	      "more than the cap was read: %lld", (long long)remote_stat(b.sock, "bytes_in"));
	answer_free(&first);
	free(src);
	srv_stop(&a);
	srv_stop(&b);
}

static void part_down(void)
{
	const char *opts[] = { "--remote-retry", "1000", NULL };
	struct srv a, b;
	srv_start(&a, "a", opts);
	srv_start(&b, "b", opts);
	char *s0 = source("down 0");
	struct answer first = ask(a.sock, "build", "prog.bpf.c", s0);
	wait_stores(a.sock, 1);
	build_expect(b.sock, s0, "remote", &first, "Redis up");

	printf("Redis stopped\n");
	redis_stop();
	for (int i = 1; i <= 3; i++) {
		char *tag = vms_xasprintf("down %d", i), *src = source(tag);
		struct answer x = ask(b.sock, "build", "prog.bpf.c", src);
		CHECK(!strcmp(x.status, "ok") && !strcmp(x.cached, "false"),
		      "build with Redis down: %s cached=%s", x.status, x.cached);
		/* bounded, not hung: a lookup gives up after 500 ms; 10 s is generous */
		CHECK(x.total_ms < 10000, "build with Redis down took %.0f ms", x.total_ms);
		printf("  build %d with Redis down: %.1f ms\n", i, x.total_ms);
		answer_free(&x);
		free(tag), free(src);
	}
	CHECK(remote_stat(b.sock, "failures") >= 1, "the breaker never opened");
	CHECK(remote_stat(b.sock, "skipped") >= 1, "nothing was skipped while Redis was down");

	printf("Redis back\n");
	redis_start();
	/* the breaker's pause (1 s here) must pass on both daemons */
	for (int i = 0; i < 1000; i++) {
		struct json_object *sa = call(a.sock, "stats", NULL, NULL), *sb = call(b.sock, "stats", NULL, NULL), *ga, *gb;
		int ready = json_object_object_get_ex(sa, "remote", &ga) &&
			    json_object_object_get_ex(sb, "remote", &gb) &&
			    num_of(ga, "retry_in_s") == 0 && num_of(gb, "retry_in_s") == 0;
		json_object_put(sa), json_object_put(sb);
		if (ready)
			break;
		usleep(10000);
	}
	char *s4 = source("down 4");
	int64_t st = remote_stat(a.sock, "stores");
	struct answer again = ask(a.sock, "build", "prog.bpf.c", s4);
	CHECK(!strcmp(again.cached, "false"), "machine 1 after the restart: cached=%s", again.cached);
	wait_stores(a.sock, st + 1);
	build_expect(b.sock, s4, "remote", &again, "machine 2 after the restart");
	answer_free(&again);
	answer_free(&first);
	free(s0), free(s4);
	srv_stop(&a);
	srv_stop(&b);
}

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

static void part_slow(void)
{
	struct srv b;
	srv_start(&b, "b", NULL);
	printf("DEBUG SLEEP 2 while a build looks up\n");
	char *cmd = vms_xasprintf("redis-cli -s %s DEBUG SLEEP 2 >/dev/null 2>&1 &", redis_sock);
	CHECK(system(cmd) == 0, "redis-cli in the background");
	free(cmd);
	/* the sleep has begun when a PING no longer answers within 200 ms */
	char *probe = vms_xasprintf("timeout 0.2 redis-cli -s %s PING >/dev/null 2>&1", redis_sock);
	int asleep = 0;
	for (int i = 0; i < 500 && !asleep; i++)
		asleep = system(probe) != 0;
	free(probe);
	CHECK(asleep, "Redis never went to sleep");
	char *src = source("slow");
	struct answer x = ask(b.sock, "build", "prog.bpf.c", src);
	CHECK(!strcmp(x.status, "ok") && !strcmp(x.cached, "false"), "build during DEBUG SLEEP: %s %s",
	      x.status, x.cached);
	CHECK(remote_stat(b.sock, "failures") == 1, "the lookup did not time out");
	/* bounded, not hung: 500 ms timeout, the build itself, generous slack */
	CHECK(x.total_ms < 10000, "took %.0f ms", x.total_ms);
	printf("  build during DEBUG SLEEP 2: %.1f ms\n", x.total_ms);
	answer_free(&x);
	srv_stop(&b);

	printf("a listener that accepts and never answers\n");
	char *mute = vms_xasprintf("%s/silent-redis.sock", work);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strncpy(sa.sun_path, mute, sizeof(sa.sun_path) - 1);
	unlink(mute);
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lfd, 64) == 0,
	      "listen on %s", mute);
	/* a long timeout, so that the lookup is certainly still waiting while the other
	 * client asks */
	char *url = vms_xasprintf("unix://%s", mute);
	const char *o[] = { "--remote", url, "--remote-timeout", "5000", "--remote-connect-timeout", "5000", NULL };
	srv_start(&b, "mute", o);
	int c1 = conn_open(b.sock);
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "op", json_object_new_string("build"));
	json_object_object_add(r, "source", json_object_new_string(src));
	const char *line = json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN);
	double t0 = vms_now_ms();
	CHECK(c1 >= 0 && write(c1, line, strlen(line)) == (ssize_t)strlen(line) && write(c1, "\n", 1) == 1,
	      "send the build");
	json_object_put(r);
	/* the other client: a ping answered while the build's lookup hangs */
	usleep(100000);
	char *reply = NULL;
	CHECK(vms_client_call(b.sock, "{\"op\":\"ping\"}", &reply, 2500) == 0,
	      "another client was held up by a hung lookup");
	free(reply);
	struct pollfd pf = { .fd = c1, .events = POLLIN };
	CHECK(poll(&pf, 1, 0) == 0, "the build answered before its lookup could have timed out");
	/* and the build ends after the timeout, bounded (5 s + the build; 30 s is generous) */
	pf.revents = 0;
	CHECK(poll(&pf, 1, 30000) == 1, "the build never answered");
	char buf[8192];
	ssize_t k = read(c1, buf, sizeof(buf) - 1);
	buf[k > 0 ? k : 0] = 0;
	CHECK(strstr(buf, "\"status\":\"ok\""), "the build after the hung lookup: %.200s", buf);
	printf("  build behind a mute listener: %.0f ms (timeout 5000 ms)\n", vms_now_ms() - t0);
	CHECK(remote_stat(b.sock, "failures") == 1, "the breaker did not open");
	close(c1);
	srv_stop(&b);
	close(lfd);
	unlink(mute);
	free(mute), free(url), free(src);
}

struct many_ctx {
	const char *sock;
	char **srcs;
	struct answer *ref;
	int id, fails;
};

static void *many_client(void *arg)
{
	struct many_ctx *c = arg;
	for (int r = 0; r < 6; r++) {
		int k = (c->id + r) % 4;
		const char *op = r % 3 == 2 ? "check" : "build";
		struct answer a = ask(c->sock, op, "prog.bpf.c", c->srcs[k]);
		int ok = !strcmp(a.status, "ok") &&
			 (!strcmp(op, "check") ||
			  (a.len == c->ref[k].len && !memcmp(a.obj, c->ref[k].obj, a.len)));
		if (!ok) {
			fprintf(stderr, "FAIL client %d on %s: %s of source %d: %s cached=%s\n",
				c->id, c->sock, op, k, a.status, a.cached);
			c->fails++;
		}
		answer_free(&a);
	}
	return NULL;
}

static void part_many(void)
{
	struct srv a, b;
	srv_start(&a, "a", NULL);
	srv_start(&b, "b", NULL);
	/* the reference objects, from a third daemon without the remote tier */
	const char *none[] = { "--no-remote", NULL };
	struct srv ref;
	srv_start(&ref, "ref", none);
	char *srcs[4];
	struct answer refs[4];
	for (int i = 0; i < 4; i++) {
		char *tag = vms_xasprintf("many %d", i);
		srcs[i] = source(tag);
		refs[i] = ask(ref.sock, "build", "prog.bpf.c", srcs[i]);
		CHECK(refs[i].obj, "reference build %d", i);
		free(tag);
	}
	srv_stop(&ref);
	pthread_t th[16];
	struct many_ctx ctx[16];
	for (int i = 0; i < 16; i++) {
		ctx[i] = (struct many_ctx){ i < 8 ? a.sock : b.sock, srcs, refs, i, 0 };
		pthread_create(&th[i], NULL, many_client, &ctx[i]);
	}
	for (int i = 0; i < 16; i++) {
		pthread_join(th[i], NULL);
		failures += ctx[i].fails;
	}
	int64_t hits = remote_stat(a.sock, "hits") + remote_stat(b.sock, "hits");
	printf("  remote hits on both daemons: %lld\n", (long long)hits);
	for (int i = 0; i < 4; i++) {
		free(srcs[i]);
		answer_free(&refs[i]);
	}
	srv_stop(&a);
	srv_stop(&b);
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: test_serve_remote PART VMSLIM VMLINUX_DIR PROGS_DIR WORK_DIR\n");
		return 2;
	}
	vmslim = argv[2];
	vmlinux_dir = argv[3];
	progs_dir = argv[4];
	work = argv[5];
	if (!have_program("redis-server") || !have_program("redis-cli"))
		return test_skip("redis-server or redis-cli is not installed (apt-get install "
				 "redis-server)");
	signal(SIGPIPE, SIG_IGN);
	vms_remove_tree(work);
	vms_mkdir_p(work, 0755);
	char *tmp = vms_xasprintf("%s/tmp", work);
	vms_mkdir_p(tmp, 0700);
	setenv("TMPDIR", tmp, 1);
	unsetenv("VMSLIM_REMOTE");
	free(tmp);
	redis_sock = vms_xasprintf("%s/redis.sock", work);
	redis_url = vms_xasprintf("unix://%s", redis_sock);
	redis_start();
	const char *part = argv[1];
	if (!strcmp(part, "share"))
		part_share();
	else if (!strcmp(part, "corrupt"))
		part_corrupt();
	else if (!strcmp(part, "down"))
		part_down();
	else if (!strcmp(part, "slow"))
		part_slow();
	else if (!strcmp(part, "many"))
		part_many();
	else
		FAIL("unknown part %s", part);
	redis_stop();
	if (!failures)
		printf("%s: ok\n", part);
	free(redis_sock), free(redis_url);
	return test_exit();
}
