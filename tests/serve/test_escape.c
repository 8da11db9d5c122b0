/* The escape suite (issue 10): every way we know for an untrusted source to read a file
 * outside the -I directories, or to learn whether one exists, sent to a real daemon as a
 * check and as a build, under each sandbox mode the machine offers and with --no-sandbox.
 *
 * Each case names an outside path as @P@. It runs twice, once with a marker planted at
 * that path and once with the path missing; the two answers must be the same (apart from
 * timings), and no answer may contain the marker — in its diagnostics or in the object's
 * bytes. A source that is unique per run (a trailing comment) keeps the cache out of it.
 *
 *   test_escape VMSLIM VMLINUX_DIR WORK MODE     MODE: auto | landlock | mount-ns | off
 *
 * Prints one line per case and mode, then "escape cases: N tried, M leaked". */
#include "common/common.h"
#include "common/sandbox.h"
#include "serve/serve.h"
#include "tests/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *vmslim, *vmlinux_dir, *work;
static char *sock;
static pid_t daemon_pid;
static int tried, leaked, differed;

/* one C identifier, so that a diagnostic quoting any token of the file quotes all of it;
 * a reply holding "escape_marker" anywhere (even inside the object) has leaked */
#define MARKER "vmslim_escape_marker_7f3a9c"
#define MARKER_PART "escape_marker"

/* The cases. @P@ is the outside path, @R@ the same path relative to the -I directory
 * "inc" (a "../.." form), @L@ a symlink inside "inc" that points at it (and shadows
 * glibc's <link.h> in a later -I directory); "inc/dirlink" is a symlink to its directory. */
static const struct { const char *name, *src; } cases[] = {
	{ "include absolute", "#include \"@P@\"\n" },
	{ "include angled absolute", "#include <@P@>\n" },
	{ "include dot-dot", "#include \"@R@\"\n" },
	{ "include symlink", "#include \"@L@\"\n" },
	{ "include through a symlinked directory", "#include \"dirlink/secret.h\"\n" },
	{ "angled include through a symlinked directory", "#include <dirlink/secret.h>\n" },
	{ "include_next", "#include_next \"@P@\"\n" },
	{ "embed", "const char d[] = {\n#embed \"@P@\"\n};\n" },
	{ "nbsp before include", "\xc2\xa0#include \"@P@\"\n" },
	{ "em space before include", "\xe2\x80\x83#include \"@P@\"\n" },
	{ "ideographic space before include", "\xe3\x80\x80#include \"@P@\"\n" },
	{ "bom before include", "\xef\xbb\xbf#include \"@P@\"\n" },
	{ "bom on line 2", "int a;\n\xef\xbb\xbf#include \"@P@\"\n" },
	{ "nbsp before embed", "const char d[] = {\n\xc2\xa0#embed \"@P@\"\n};\n" },
	{ "nbsp before include_next", "\xc2\xa0#include_next \"@P@\"\n" },
	{ "nbsp after hash", "#\xc2\xa0include \"@P@\"\n" },
	{ "has_include literal", "#if __has_include(\"@P@\")\nint exists;\n#endif\n" },
	{ "has_include via macro", "#define H(x) __has_include(x)\n#if H(\"@P@\")\nint exists;\n#endif\n" },
	{ "has_include name macro", "#define F \"@P@\"\n#if __has_include(F)\nint exists;\n#endif\n" },
	{ "has_include pasted", "#define J(a, b) a##b\n#if J(__has_, include)(\"@P@\")\nint exists;\n#endif\n" },
	{ "has_include_next", "#if __has_include_next(\"@P@\")\nint exists;\n#endif\n" },
	{ "has_embed", "#if __has_embed(\"@P@\")\nint exists;\n#endif\n" },
	{ "pragma dependency", "#pragma GCC dependency \"@P@\"\n" },
	{ "_Pragma via macro", "#define DO(x) _Pragma(#x)\nDO(GCC dependency \"@P@\")\n" },
	{ "incbin file scope", "__asm__(\".incbin \\\"@P@\\\"\");\n" },
	{ "incbin in function",
	  "int f(void)\n{\n\tasm volatile(\".pushsection .data.x\\n.incbin \\\"@P@\\\"\\n.popsection\");\n\treturn 0;\n}\n" },
	{ "incbin uppercase", "__asm__(\".INCBIN \\\"@P@\\\"\");\n" },
	{ "incbin split literal", "__asm__(\".inc\" \"bin \\\"@P@\\\"\");\n" },
	{ "incbin hex escape", "__asm__(\"\\x2eincbin \\\"@P@\\\"\");\n" },
	{ "incbin via macro", "#define A(s) __asm__(s)\n#define Q(x) #x\nA(Q(.incbin) \" \\\"@P@\\\"\");\n" },
	{ "incbin pasted asm keyword",
	  "#define J(a, b) a##b\n#define S(x) #x\nJ(__as, m__)(S(.inc) \"bin \\\"@P@\\\"\");\n" },
	{ "include directive in asm", "__asm__(\".include \\\"@P@\\\"\");\n" },
	{ "asm macro synthesizes incbin",
	  "__asm__(\".macro m a\\n.inc\\\\a \\\"@P@\\\"\\n.endm\\nm bin\");\n" },
	{ "incbin in section attribute",
	  "__attribute__((section(\".text\\n.incbin \\\"@P@\\\"\"), used)) int v = 1;\n" },
	{ "line directive names it", "#line 1 \"@P@\"\nint a = ;\n" },
	{ "import", "#import \"@P@\"\n" },
};

static char *subst(const char *src, const char *p, const char *r, const char *l)
{
	struct vms_buf b = { 0 };
	for (const char *s = src; *s;) {
		const char *with = NULL;
		if (!strncmp(s, "@P@", 3))
			with = p;
		else if (!strncmp(s, "@R@", 3))
			with = r;
		else if (!strncmp(s, "@L@", 3))
			with = l;
		if (with) {
			vms_buf_append(&b, with, strlen(with));
			s += 3;
		} else {
			vms_buf_append(&b, s++, 1);
		}
	}
	vms_buf_append(&b, "", 1);
	return b.data;
}

static int daemon_start(const char *mode)
{
	sock = vms_xasprintf("%s/escape.sock", work);
	char *inc = vms_xasprintf("%s/inc", work), *cache = vms_xasprintf("%s/cache", work);
	char *log = vms_xasprintf("%s/daemon.log", work);
	const char *sb_opt = !strcmp(mode, "off") ? "--no-sandbox" : "--sandbox";
	const char *argv[] = { vmslim, "serve", "-s", sock, "-I", vmlinux_dir, "-I", inc,
			       "-I", "/usr/include", "--cache-dir", cache, "--no-disk-cache",
			       sb_opt, strcmp(mode, "off") ? mode : NULL, NULL };
	daemon_pid = fork();
	if (daemon_pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(vmslim, (char *const *)argv);
		_exit(127);
	}
	free(inc);
	free(cache);
	for (int i = 0; i < 600; i++) {
		char *reply = NULL;
		if (vms_client_call(sock, "{\"op\":\"ping\"}", &reply, 2000) == 0) {
			free(reply);
			char *text = test_slurp(log);
			const char *m = text ? strstr(text, "sandbox: ") : NULL;
			printf("daemon (%s): %.*s\n", mode, m ? (int)strcspn(m, "\n") : 7,
			       m ? m : "no line");
			free(text);
			free(log);
			return 0;
		}
		int st;
		if (waitpid(daemon_pid, &st, WNOHANG) == daemon_pid) {
			char *text = test_slurp(log);
			FAIL("daemon (%s) exited at start: %s", mode, text ? text : "");
			free(text);
			free(log);
			return -1;
		}
		usleep(20000);
	}
	free(log);
	FAIL("daemon (%s) did not come up", mode);
	return -1;
}

static void daemon_stop(void)
{
	char *reply = NULL;
	if (vms_client_call(sock, "{\"op\":\"shutdown\"}", &reply, 10000) == 0)
		free(reply);
	int st;
	waitpid(daemon_pid, &st, 0);
	free(sock);
}

/* The reply without what may differ between two runs of the same answer. */
static char *normalize(struct json_object *o, int *contains_marker)
{
	json_object_object_del(o, "ms");
	json_object_object_del(o, "cached");
	json_object_object_del(o, "id");
	json_object_object_del(o, "timings");
	json_object_object_del(o, "total_ms");
	struct json_object *obj;
	*contains_marker = 0;
	if (json_object_object_get_ex(o, "object", &obj)) {
		void *bytes = NULL;
		size_t n = 0;
		const char *b64 = json_object_get_string(obj);
		if (vms_base64_decode(b64, strlen(b64), &bytes, &n) == 0) {
			*contains_marker = memmem(bytes, n, MARKER_PART, strlen(MARKER_PART)) != NULL;
			free(bytes);
		}
	}
	char *s = vms_xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	if (strstr(s, MARKER_PART))
		*contains_marker = 1;
	return s;
}

static char *ask(const char *op, const char *src, int run, int *marker)
{
	char *text = vms_xasprintf("%s// run %d\n", src, run);
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "op", json_object_new_string(op));
	json_object_object_add(r, "file", json_object_new_string("escape.bpf.c"));
	json_object_object_add(r, "source", json_object_new_string(text));
	free(text);
	char *reply = NULL;
	int e = vms_client_call(sock, json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN),
				&reply, 120000);
	json_object_put(r);
	if (e < 0)
		return vms_xasprintf("(transport: %s)", strerror(-e));
	struct json_object *o = json_tokener_parse(reply);
	*marker = 0;
	char *n = o ? normalize(o, marker) : vms_xstrdup(reply);
	*marker |= strstr(reply, MARKER_PART) != NULL; /* normalize() saw the object's bytes */
	json_object_put(o);
	free(reply);
	return n;
}

static const char *status_of(const char *reply)
{
	static char buf[32];
	const char *s = strstr(reply, "\"status\":\"");
	if (!s)
		return "error";
	s += 10;
	size_t n = strcspn(s, "\"");
	snprintf(buf, sizeof(buf), "%.*s", (int)(n < 31 ? n : 31), s);
	return buf;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: test_escape VMSLIM VMLINUX_DIR WORK MODE\n");
		return 2;
	}
	vmslim = argv[1];
	vmlinux_dir = argv[2];
	work = argv[3];
	const char *mode = argv[4];
	test_fresh_dir(work);
	if (strcmp(mode, "off") && strcmp(mode, "auto")) {
		unsigned want = !strcmp(mode, "landlock") ? VMS_SANDBOX_LANDLOCK : VMS_SANDBOX_MOUNTNS;
		if ((vms_sandbox_probe() & want) != want)
			return test_skip("this machine has no %s for the sandbox", mode);
	}
	char *inc = vms_xasprintf("%s/inc", work), *outside = vms_xasprintf("%s/outside", work);
	mkdir(inc, 0755);
	mkdir(outside, 0755);
	char *secret = vms_xasprintf("%s/secret.h", outside);
	char *rel = vms_xasprintf("../outside/secret.h");
	char *link = vms_xasprintf("%s/link.h", inc);
	CHECK(symlink(secret, link) == 0, "symlink: %s", strerror(errno));
	char *dirlink = vms_xasprintf("%s/dirlink", inc);
	CHECK(symlink(outside, dirlink) == 0, "symlink: %s", strerror(errno));
	free(dirlink);
	if (daemon_start(mode) < 0)
		return test_exit();
	int run = 0;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char *src = subst(cases[k].src, secret, rel, "link.h");
		for (int op = 0; op < 2; op++) {
			const char *opn = op ? "build" : "check";
			char *ans[2];
			int mk[2];
			for (int exists = 1; exists >= 0; exists--) {
				if (exists)
					vms_write_file_atomic(secret, MARKER " " MARKER ";\n",
							      strlen(MARKER " " MARKER ";\n"), 0644);
				else
					unlink(secret);
				ans[exists] = ask(opn, src, ++run, &mk[exists]);
			}
			tried++;
			int leak = mk[0] || mk[1];
			int same = !strcmp(ans[0], ans[1]);
			leaked += leak;
			differed += !same;
			printf("%-34s %-5s %-9s %s%s\n", cases[k].name, opn, status_of(ans[1]),
			       leak ? "LEAKED" : "no leak", same ? "" : ", answers differ");
			CHECK(!leak, "%s (%s, %s): the marker came back: %.400s", cases[k].name, opn,
			      mode, mk[1] ? ans[1] : ans[0]);
			CHECK(same, "%s (%s, %s): existing and missing paths answered differently:\n"
			      "  existing: %.400s\n  missing:  %.400s", cases[k].name, opn, mode,
			      ans[1], ans[0]);
			free(ans[0]);
			free(ans[1]);
		}
		free(src);
	}
	daemon_stop();
	printf("escape cases (%s): %d tried, %d leaked, %d answered differently for an "
	       "existing and a missing path\n", mode, tried, leaked, differed);
	free(inc);
	free(outside);
	free(secret);
	free(rel);
	free(link);
	return test_exit();
}
