/* vmslim cc: a drop-in for clang. A BPF compile of a program that includes vmlinux.h up
 * front goes through the PCH path; everything else — and anything the PCH path cannot
 * handle — is exec'd as is, so the result is clang's, exit code and output included. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "pch/pch.h"
#include "serve/cc.h"
#include "serve/serve.h"

static const char help[] =
	"usage: vmslim cc [--clang PATH] [--cache-dir DIR] [--slim [--verify]] [--no-daemon]\n"
	"                 [--verbose]\n"
	"                 [COMPILER] ARGUMENTS\n"
	"\n"
	"Use in Makefiles as CLANG=\"vmslim cc\" or CC=\"vmslim cc gcc\". A compile with\n"
	"-target bpf (or --target=bpf), -c and one C source whose #include \"vmlinux.h\"\n"
	"comes first (after comments and #defines) is built with a cached, always-fresh\n"
	"PCH of the header it finds; -MD/-MMD/-MF/-MT/-MQ keep working and the dependency\n"
	"file names the real header. Anything else runs unchanged: under COMPILER when\n"
	"one is named first (as ccache does: `vmslim cc gcc -c main.c` stays gcc's), else\n"
	"under $VMSLIM_CC_FALLBACK, else clang. A COMPILER named clang* is also the clang\n"
	"of the BPF compiles.\n"
	"\n"
	"BPF compiles go through a per-user daemon that `vmslim cc` starts by itself on\n"
	"first use (`vmslim serve --user`, socket in $XDG_RUNTIME_DIR/vmslim/, else\n"
	"/tmp/vmslim-UID/) and that stops after $VMSLIM_IDLE_TIMEOUT seconds (default\n"
	"600) without requests. It keeps the PCH's state warm and answers an unchanged\n"
	"compile (same source, headers, flags, compiler, directory) from its cache: the\n"
	"same object, dependency file, messages and exit status as a fresh compile. When\n"
	"it cannot be had, refuses or goes away mid-request, the compile runs in this\n"
	"process instead, with the same answer.\n"
	"\n"
	"  --slim        build against a slim header derived for the program (objdiff-same\n"
	"                object; falls back to the PCH path where that does not apply)\n"
	"  --verify      with --slim (implied): also build with the full header and\n"
	"                compare with objdiff; a difference is exit 1, no object\n"
	"  --no-daemon   compile in this process\n"
	"\n"
	"The options above are vmslim's and must come first. Environment: VMSLIM_CLANG\n"
	"(the clang of BPF compiles), VMSLIM_CC_FALLBACK (the compiler of all others),\n"
	"VMSLIM_CC_VERBOSE=1 (like --verbose), VMSLIM_SLIM=1 (like --slim),\n"
	"VMSLIM_NO_DAEMON=1 (like --no-daemon), VMSLIM_IDLE_TIMEOUT, XDG_CACHE_HOME.\n"
	"\n"
	"Exit: clang's own status (127 when clang cannot be found, 126 when it cannot\n"
	"be run).\n";

/* The options are vmslim's few leading ones, parsed by hand: getopt would take clang's. */
static const struct cli_spec spec = { "cc", help, "", NULL, NULL };

static int exec_clang(const char *clang, int argc, char **argv)
{
	char **av = calloc((size_t)argc + 2, sizeof(*av));
	if (!av)
		abort();
	av[0] = (char *)clang;
	for (int i = 0; i < argc; i++)
		av[i + 1] = argv[i];
	fflush(NULL);
	execvp(clang, av);
	fprintf(stderr, "vmslim cc: cannot run %s: %s\n", clang, strerror(errno));
	free(av);
	return errno == ENOENT ? 127 : 126;
}

/* A first word that is a compiler rather than one of its arguments, as ccache tells
 * them apart: not an option, not a file to compile, and a program execvp would find. */
static int names_compiler(const char *w)
{
	static const char *const inputs[] = { ".c", ".h", ".i", ".s", ".S", ".o", ".a",
					      ".so", ".cc", ".cpp", ".cxx", ".ll", ".bc" };
	if (w[0] == '-' || !w[0])
		return 0;
	const char *dot = strrchr(w, '.');
	for (size_t k = 0; dot && k < sizeof(inputs) / sizeof(inputs[0]); k++)
		if (!strcmp(dot, inputs[k]))
			return 0;
	char *path = vms_which(w);
	free(path);
	return path != NULL;
}

static int is_clang(const char *compiler)
{
	return !strncmp(vms_basename(compiler), "clang", 5);
}

static int write_b64(int fd, struct json_object *reply, const char *k)
{
	struct json_object *v;
	void *d = NULL;
	size_t n = 0;
	if (!json_object_object_get_ex(reply, k, &v) || !json_object_is_type(v, json_type_string) ||
	    vms_base64_decode(json_object_get_string(v), (size_t)json_object_get_string_len(v), &d,
			      &n) < 0)
		return -1;
	int e = vms_write_all(fd, d, n);
	free(d);
	return e;
}

/* The compile through the per-user daemon: 0 with clang's exit status in *code, its
 * output written; -1 when the daemon could not answer (nothing was printed then, unless
 * verbose). */
static int via_daemon(const char *clang, const char *cache, int slim, int verify, int verbose,
		      int nargs, char **args, int *code)
{
	char *clang_path = vms_which(clang), *cache_dir = cache ? vms_xstrdup(cache)
							      : vms_cache_dir_default();
	char cwd[4096];
	int rc = -1;
	if (!clang_path || !getcwd(cwd, sizeof(cwd)))
		goto out;
	char *abs_clang = vms_realpath(clang_path);
	struct json_object *req = json_object_new_object(), *a = json_object_new_array();
	json_object_object_add(req, "op", json_object_new_string("cc"));
	for (int i = 0; i < nargs; i++)
		json_object_array_add(a, json_object_new_string(args[i]));
	json_object_object_add(req, "args", a);
	json_object_object_add(req, "cwd", json_object_new_string(cwd));
	json_object_object_add(req, "clang", json_object_new_string(abs_clang ? abs_clang
									       : clang_path));
	json_object_object_add(req, "cache_dir", json_object_new_string(cache_dir));
	json_object_object_add(req, "slim", json_object_new_boolean(slim));
	json_object_object_add(req, "slim_verify", json_object_new_boolean(verify));
	mode_t um = umask(022);
	umask(um);
	json_object_object_add(req, "umask", json_object_new_int((int)um));
	struct json_object *env = json_object_new_object();
	for (size_t i = 0; vms_cc_env_names[i]; i++)
		if (getenv(vms_cc_env_names[i]))
			json_object_object_add(env, vms_cc_env_names[i], json_object_new_string(getenv(vms_cc_env_names[i])));
	json_object_object_add(req, "env", env);
	free(abs_clang);
	struct vms_user_call call = { 0 };
	char *reply = NULL;
	int e = vms_user_daemon_call(&call, json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN),
				     &reply);
	json_object_put(req);
	if (e < 0) {
		if (verbose)
			fprintf(stderr, "vmslim cc: no daemon (%s): compiling in this process\n",
				strerror(-e));
		goto out;
	}
	struct json_object *r = json_tokener_parse(reply), *v;
	free(reply);
	int ok = r && json_object_object_get_ex(r, "ok", &v) && json_object_get_boolean(v) &&
		 json_object_object_get_ex(r, "exit", &v) && json_object_is_type(v, json_type_int);
	if (!ok) {
		struct json_object *er, *m;
		if (verbose)
			fprintf(stderr, "vmslim cc: the daemon did not answer (%s): compiling in this "
					"process\n",
				r && json_object_object_get_ex(r, "error", &er) &&
						json_object_object_get_ex(er, "message", &m)
					? json_object_get_string(m) : "no reply");
		json_object_put(r);
		goto out;
	}
	*code = json_object_get_int(v);
	write_b64(1, r, "stdout");
	write_b64(2, r, "stderr");
	if (verbose && *code != 0) {
		/* as in process: a failed compile is clang's to report, and the daemon ran it
		 * again under plain clang for exactly clang's messages */
		struct json_object *c = NULL;
		json_object_object_get_ex(r, "cached", &c);
		fprintf(stderr, "vmslim cc: passing through to %s: the compile failed (clang exit %d); "
				"clang ran again for its own messages, in the daemon%s\n",
			clang, *code, c && json_object_is_type(c, json_type_string)
					      ? " (an answer from its cache)" : "");
	} else if (verbose) {
		struct json_object *m = NULL, *c = NULL;
		json_object_object_get_ex(r, "mode", &m);
		json_object_object_get_ex(r, "cached", &c);
		fprintf(stderr, "vmslim cc: daemon%s%s%s: %s\n", call.started ? " (started)" : "",
			c && json_object_is_type(c, json_type_string) ? ", from the cache: " : "",
			c && json_object_is_type(c, json_type_string) ? json_object_get_string(c) : "",
			m ? json_object_get_string(m) : "");
	}
	json_object_put(r);
	rc = 0;
out:
	free(clang_path);
	free(cache_dir);
	return rc;
}

int cmd_cc(int argc, char **argv)
{
	const char *clang = NULL, *cache = NULL;
	int verbose = cli_env_on("VMSLIM_CC_VERBOSE"), slim = cli_env_on("VMSLIM_SLIM");
	int no_daemon = cli_env_on("VMSLIM_NO_DAEMON"), verify = 0;
	int i = 1;
	/* only leading options are vmslim's; the rest belongs to clang, untouched */
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--clang") && i + 1 < argc)
			clang = argv[++i];
		else if (!strncmp(a, "--clang=", 8))
			clang = a + 8;
		else if (!strcmp(a, "--cache-dir") && i + 1 < argc)
			cache = argv[++i];
		else if (!strncmp(a, "--cache-dir=", 12))
			cache = a + 12;
		else if (!strcmp(a, "--verbose"))
			verbose = 1;
		else if (!strcmp(a, "--slim"))
			slim = 1;
		else if (!strcmp(a, "--verify"))
			slim = verify = 1;
		else if (!strcmp(a, "--no-daemon"))
			no_daemon = 1;
		else
			break;
	}
	if (i == argc - 1 && !strcmp(argv[i], "--help")) {
		cli_usage(&spec, stdout);
		return VMS_EXIT_OK;
	}
	/* the compiler that is not BPF's: named first, else $VMSLIM_CC_FALLBACK */
	const char *other = NULL;
	if (i < argc && names_compiler(argv[i])) {
		other = argv[i++];
		if (!clang && is_clang(other))
			clang = other;
	}
	const char *env_fb = getenv("VMSLIM_CC_FALLBACK");
	if (!other && env_fb && *env_fb)
		other = env_fb;
	clang = vms_clang_default(clang);
	if (!other)
		other = clang;
	int nargs = argc - i;
	char **args = argv + i;

	struct vms_cc_plan plan;
	vms_cc_plan(nargs, args, &plan);
	if (!plan.is_bpf_compile) {
		/* no daemon round trip for what is not ours: exec'd straight away */
		if (verbose)
			fprintf(stderr, "vmslim cc: passing through to %s: %s\n", other, plan.why_not);
		vms_cc_plan_free(&plan);
		return exec_clang(other, nargs, args);
	}
	vms_cc_plan_free(&plan);
	int code;
	if (!no_daemon && via_daemon(clang, cache, slim, verify, verbose, nargs, args, &code) == 0)
		return code;
	struct vms_cc_req q = { .clang = clang, .args = args, .nargs = nargs, .cache_dir = cache,
				.slim = slim, .slim_verify = verify };
	struct vms_cc_answer a;
	int rc = vms_cc_run(&q, &a);
	if (rc == VMS_CC_DONE) {
		vms_write_all(1, a.out, a.out_len);
		vms_write_all(2, a.err, a.err_len);
		if (verbose)
			fprintf(stderr, "vmslim cc: %s\n", a.mode);
		code = a.exit_code;
		vms_cc_answer_free(&a);
		return code;
	}
	if (verbose) {
		/* the fast path does not apply, broke, or the program has errors: clang
		 * decides, exactly as without us; the reason given is the one that sent it there */
		vms_diags_print(stderr, &a.diags);
		fprintf(stderr, "vmslim cc: passing through to %s: %s\n", clang, a.mode);
	}
	vms_cc_answer_free(&a);
	return exec_clang(clang, nargs, args);
}
