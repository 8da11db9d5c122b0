/* vmslim build: a BPF object through a cached, always-fresh PCH, or against a slim header
 * derived for the program (--slim); optionally loaded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/report.h"
#include "pch/pch.h"
#include "slim/slim.h"
#include "bpfobj/bpfobj.h"
#include "serve/cc.h"
#include "serve/serve.h"

#include <json-c/json.h>
#include <sys/stat.h>
#include <unistd.h>

static const char help[] =
	"usage: vmslim build PROG.c [-o PROG.o] [--header H] [OPTIONS] [-- CLANG FLAGS]\n"
	"\n"
	"Compiles a BPF program with clang -include-pch, through a PCH of its header kept\n"
	"in the cache and rebuilt whenever the header (or anything it includes), the\n"
	"flags or the compiler changed. Flags: --target=bpf -g -O2\n"
	"-D__TARGET_ARCH_<host> (unless CLANG FLAGS define one), then CLANG FLAGS.\n"
	"#defines before the program's #include \"vmlinux.h\" are honoured; anything else\n"
	"there (code, other includes, #if) makes it a plain clang build, and so does a\n"
	"header under 256 KB (a slim one): parsing it costs less than loading a PCH.\n"
	"\n"
	"options:\n"
	"  -o, --output FILE    object file (default: PROG with .o for .c)\n"
	"      --header H       the program's #include \"vmlinux.h\" resolves to H (a slim\n"
	"                       header from `vmslim extract`, or the full one); default:\n"
	"                       wherever clang would find vmlinux.h\n"
	"      --cache-dir DIR  " HELP_SPEC_CACHE_DIR "\n"
	"      --clang PATH     " HELP_SPEC_CLANG "\n"
	"      --no-pch         plain clang build (the reference)\n"
	"      --slim           build against a slim header derived for this program from\n"
	"                       the full one (no hand-run `vmslim extract`; kept in the\n"
	"                       cache, shared by programs using the same declarations): the\n"
	"                       same object. Deriving it here parses the full header once\n"
	"                       (libclang, about a plain compile's time); `vmslim cc --slim`\n"
	"                       through the daemon keeps that parse warm, and so does\n"
	"                       this command through it. The dependency\n"
	"                       file names the full header. Where it does not apply (no\n"
	"                       vmlinux.h include up front, an -include, a program that does\n"
	"                       not parse) the build is the one without --slim (-v: why)\n"
	"      --verify         with --slim (implied): also build with the full header and\n"
	"                       compare with objdiff; any difference fails the build\n"
	"      --gmodules=WHEN  auto (default): only when no CO-RE is in play\n"
	"                       (BPF_NO_PRESERVE_ACCESS_INDEX defined, no CO-RE macros)\n"
	"                       and the object keeps every BTF type the kernel needs;\n"
	"                       never; always (experiments: clang crashes with CO-RE)\n"
	"      --load           load the object into the running kernel (libbpf), print\n"
	"                       the verifier's log if it is rejected, then unload\n"
	"      --no-daemon      build in this process (also VMSLIM_NO_DAEMON=1); by default\n"
	"                       the build runs in the per-user daemon `vmslim cc` uses\n"
	"                       (its warm slim contexts and PCH seal), with the same result\n"
	"  -v, --verbose        which path was taken and why, with timings\n"
	"  -h, --help           " HELP_SPEC_HELP "\n"
	"\n"
	"Exit: 0 built (and loaded), 1 build failed or the verifier rejected it,\n"
	"2 usage, 77 loading refused by this machine (no privileges, no BPF).\n";

static const struct option opts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "header", required_argument, NULL, 'H' },
	{ "cache-dir", required_argument, NULL, 'C' },
	{ "clang", required_argument, NULL, 'c' },
	{ "no-pch", no_argument, NULL, 'n' },
	{ "slim", no_argument, NULL, 's' },
	{ "verify", no_argument, NULL, 'V' },
	{ "gmodules", required_argument, NULL, 'g' },
	{ "load", no_argument, NULL, 'l' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "no-daemon", no_argument, NULL, 'D' },
	CLI_OPT_HELP,
	{ 0 },
};

static const struct cli_spec spec = { "build", help, "o:vh", opts, "clang flags" };

static const struct {
	const char *name;
	enum vms_gmodules_mode mode;
} gmodules_modes[] = {
	{ "auto", VMS_GMODULES_AUTO },
	{ "never", VMS_GMODULES_NEVER },
	{ "always", VMS_GMODULES_ALWAYS },
};

/* Fills o (and the flags) from argv: CLI_CONTINUE, or the exit code to stop with. */
static int parse(struct vms_build_opts *o, struct vms_slim_build_opts *so, int *load, int *verbose,
		 int *no_daemon, int argc, char **argv)
{
	struct cli_args a;
	size_t k;
	int c;
	/* PROG.c and the options may mix; clang flags follow "--" */
	cli_args_init(&a, &spec, argc, argv);
	while ((c = cli_next(&a)) > 0) {
		switch (c) {
		case 'o': o->output = a.arg; break;
		case 'H': o->header = a.arg; break;
		case 'C': o->cache_dir = a.arg; break;
		case 'c': o->clang = a.arg; break;
		case 'n': o->no_pch = 1; break;
		case 's': so->build = o; break;
		case 'V': so->build = o, so->verify = 1; break;
		case 'g':
			for (k = 0; k < sizeof(gmodules_modes) / sizeof(gmodules_modes[0]); k++)
				if (!strcmp(a.arg, gmodules_modes[k].name))
					break;
			if (k == sizeof(gmodules_modes) / sizeof(gmodules_modes[0])) {
				cli_error("build", "--gmodules takes auto, never or always");
				return VMS_EXIT_USAGE;
			}
			o->gmodules = gmodules_modes[k].mode;
			break;
		case 'l': *load = 1; break;
		case 'v': *verbose = 1; break;
		case 'D': *no_daemon = 1; break;
		}
	}
	if (c == CLI_EXIT)
		return a.exit;
	int npos = cli_positionals(&a, &o->source, 1);
	if (npos < 0)
		return VMS_EXIT_USAGE;
	if (!npos) {
		cli_error("build", "missing PROG.c");
		return cli_usage_error(&spec);
	}
	if (o->output && !strcmp(o->output, "-")) {
		/* clang's standard output is captured for its messages: the object would be lost */
		cli_error("build", "cannot write the object to standard output: give -o FILE");
		return VMS_EXIT_USAGE;
	}
	o->flags = (const char *const *)cli_rest(&a);
	return CLI_CONTINUE;
}

/* --load: the verifier's verdict on the object as an exit code. */
static int load_object(const char *obj, int verbose)
{
	char *log = NULL;
	int code = VMS_EXIT_FAIL;
	const char *verdict = "cannot open the object";
	switch (vms_bpf_load_object(obj, &log)) {
	case VMS_LOAD_OK:
		if (!verbose && log)
			*log = 0; /* the log of an accepted object only with -v */
		verdict = "loaded, every program accepted";
		code = VMS_EXIT_OK;
		break;
	case VMS_LOAD_REJECTED:
		verdict = "rejected by the verifier";
		break;
	case VMS_LOAD_REFUSED:
		verdict = "this machine refuses to load BPF programs";
		code = VMS_EXIT_REFUSED;
		break;
	default:
		break;
	}
	if (cli_json()) {
		cli_doc_str("load", verdict);
		cli_doc_str("verifier_log", log && *log ? log : NULL);
	} else {
		fputs(log ? log : "", stderr);
		fprintf(stderr, "vmslim build: %s: %s\n", obj, verdict);
	}
	free(log);
	return code;
}

/* ---- the build through the per-user daemon ------------------------------------------ */

/* The environment that changes what clang reads: a build under it stays in this process
 * (the daemon has its own environment, and build_file carries none). */
static int env_reaches_clang(void)
{
	for (size_t i = 0; vms_cc_env_names[i]; i++)
		if (getenv(vms_cc_env_names[i]))
			return 1;
	return 0;
}

static const char *jstr_of(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v) : NULL;
}

static double jnum_of(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_double(v) : 0;
}

/* The request vms_slim_or_full_build would get here, for the daemon. */
static struct json_object *build_request(const struct vms_build_opts *o, int slim, int verify,
					 const char *cwd, const char *clang, const char *cache)
{
	struct json_object *q = json_object_new_object(), *fl = json_object_new_array();
	json_object_object_add(q, "op", json_object_new_string("build_file"));
	json_object_object_add(q, "cwd", json_object_new_string(cwd));
	json_object_object_add(q, "source", json_object_new_string(o->source));
	json_object_object_add(q, "output", json_object_new_string(o->output));
	if (o->header)
		json_object_object_add(q, "header", json_object_new_string(o->header));
	for (size_t i = 0; o->flags && o->flags[i]; i++)
		json_object_array_add(fl, json_object_new_string(o->flags[i]));
	json_object_object_add(q, "flags", fl);
	json_object_object_add(q, "clang", json_object_new_string(clang));
	json_object_object_add(q, "cache_dir", json_object_new_string(cache));
	json_object_object_add(q, "slim", json_object_new_int(slim));
	json_object_object_add(q, "verify", json_object_new_int(verify));
	json_object_object_add(q, "no_pch", json_object_new_int(o->no_pch));
	json_object_object_add(q, "gmodules", json_object_new_int((int)o->gmodules));
	mode_t um = umask(022);
	umask(um);
	json_object_object_add(q, "umask", json_object_new_int((int)um));
	if (slim) {
		char *full = vms_slim_full_header(o);
		if (full)
			json_object_object_add(q, "slim_header", json_object_new_string(full));
		free(full);
	}
	return q;
}

/* The build by the per-user daemon: 1 with *rc, r, d and *slim_why as in-process
 * vms_slim_or_full_build would give them, 0 when it cannot answer (nothing happened
 * then: this process builds). */
static int build_via_daemon(const struct vms_build_opts *o, const struct vms_slim_build_opts *so,
			    int *rc, struct vms_build_result *r, struct vms_diags *d,
			    char **slim_why)
{
	char cwd[4096];
	if (cli_env_on("VMSLIM_NO_DAEMON") || env_reaches_clang() || !getcwd(cwd, sizeof(cwd)))
		return 0;
	char *clang = vms_which(vms_clang_default(o->clang)), *abs = clang ? vms_realpath(clang) : NULL;
	char *cache = o->cache_dir ? vms_realpath(o->cache_dir) : vms_cache_dir_default();
	int answered = 0;
	if (!abs || !cache)
		goto out;
	struct json_object *a = cli_daemon_ask(build_request(o, so->build != NULL, so->verify, cwd,
							     abs, cache), NULL);
	struct json_object *v, *b, *diags;
	if (a && json_object_object_get_ex(a, "build", &b) && json_object_object_get_ex(b, "rc", &v)) {
		*rc = json_object_get_int(v);
		memset(r, 0, sizeof(*r));
		r->mode = vms_xstrdup(jstr_of(b, "mode") ? jstr_of(b, "mode") : "");
		r->clang_stderr = vms_xstrdup(jstr_of(b, "clang_stderr") ? jstr_of(b, "clang_stderr")
									 : "");
		r->clang_exit = (int)jnum_of(b, "clang_exit");
		r->pch_rebuilt = json_object_object_get_ex(b, "pch_rebuilt", &v) &&
				 json_object_get_boolean(v);
		r->pch_ms = jnum_of(b, "pch_ms");
		r->compile_ms = jnum_of(b, "compile_ms");
		r->total_ms = jnum_of(b, "total_ms");
		*slim_why = jstr_of(b, "slim_why") ? vms_xstrdup(jstr_of(b, "slim_why")) : NULL;
		if (json_object_object_get_ex(a, "diagnostics", &diags))
			vms_diags_from_json(diags, d);
		answered = 1;
	}
	json_object_put(a);
out:
	free(clang), free(abs), free(cache);
	return answered;
}

int cmd_build(int argc, char **argv)
{
	struct vms_build_opts o = { 0 };
	struct vms_slim_build_opts so = { 0 };
	int load = 0, verbose = 0, no_daemon = 0;
	int rc = parse(&o, &so, &load, &verbose, &no_daemon, argc, argv);
	if (rc != CLI_CONTINUE)
		return rc;
	char *def_out = o.output ? NULL : cli_default_object(o.source);
	if (!o.output)
		o.output = def_out;

	struct vms_diags d = { 0 };
	struct vms_build_result r;
	char *slim_why = NULL;
	if (no_daemon || !build_via_daemon(&o, &so, &rc, &r, &d, &slim_why))
		rc = vms_slim_or_full_build(&o, so.build ? &so : NULL, &r, &d, &slim_why);
	/* the slim path did not apply: the build was the one without --slim */
	if (slim_why && verbose && !cli_json())
		fprintf(stderr, "vmslim build: %s: building with the full header\n", slim_why);
	free(slim_why);
	cli_clang_output(stderr, r.clang_stderr);
	cli_diags(stderr, &d);
	cli_doc_str("output", rc == 0 ? o.output : NULL);
	cli_doc_str("path", r.mode);
	cli_doc_bool("pch_rebuilt", r.pch_rebuilt);
	cli_doc_num("pch_ms", r.pch_ms);
	cli_doc_num("compile_ms", r.compile_ms);
	cli_doc_num("total_ms", r.total_ms);
	if (verbose && !cli_json())
		fprintf(stderr,
			"vmslim build: %s%s\nvmslim build: pch %.1f ms, compile %.1f ms, total %.1f ms\n",
			r.mode, r.pch_rebuilt ? " [PCH rebuilt]" : "", r.pch_ms, r.compile_ms,
			r.total_ms);
	int exit_code = rc == 0 ? VMS_EXIT_OK : VMS_EXIT_FAIL;
	if (rc == 0 && load)
		exit_code = load_object(o.output, verbose);
	vms_build_result_free(&r);
	vms_diags_free(&d);
	free(def_out);
	return exit_code;
}
