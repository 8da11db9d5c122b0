/* vmslim cc: a drop-in for clang. A BPF compile of a program that includes vmlinux.h up
 * front goes through the PCH path; everything else — and anything the PCH path cannot
 * handle — is exec'd as is, so the result is clang's, exit code and output included. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "pch/pch.h"

static const char help[] =
	"usage: vmslim cc [--clang PATH] [--cache-dir DIR] [--verbose] [COMPILER] ARGUMENTS\n"
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
	"The options above are vmslim's and must come first. Environment: VMSLIM_CLANG\n"
	"(the clang of BPF compiles), VMSLIM_CC_FALLBACK (the compiler of all others),\n"
	"VMSLIM_CC_VERBOSE=1 (like --verbose), XDG_CACHE_HOME.\n"
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

/* Why the PCH path handed a compile back to clang, by vms_build's result. */
static const char *rerun_reason(int rc, const struct vms_build_result *r)
{
	static char buf[160];
	switch (rc) {
	case 1:
		snprintf(buf, sizeof(buf),
			 "the compile failed (clang exit %d); clang runs again for its own messages",
			 r->clang_exit);
		return buf;
	case 2:
		return r->mode; /* what made the PCH path not apply */
	case 3:
		return "the inline assembly was refused";
	default:
		return "the PCH path could not run (see above)";
	}
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

int cmd_cc(int argc, char **argv)
{
	const char *clang = NULL, *cache = NULL;
	const char *env_v = getenv("VMSLIM_CC_VERBOSE");
	int verbose = env_v && *env_v && strcmp(env_v, "0");
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
		if (verbose)
			fprintf(stderr, "vmslim cc: passing through to %s: %s\n", other, plan.why_not);
		vms_cc_plan_free(&plan);
		return exec_clang(other, nargs, args);
	}
	struct vms_build_opts o = {
		.source = plan.source, .output = plan.output,
		.flags = (const char *const *)plan.flags.v, .clang = clang, .cache_dir = cache,
		.raw_flags = 1, .dep_file = plan.dep_file,
		.dep_flags = (const char *const *)plan.dep_flags.v, .require_pch = 1,
	};
	struct vms_diags d = { 0 };
	struct vms_build_result r;
	int rc = vms_build(&o, &r, &d);
	/* On a compile error the plain clang reruns it: its messages then are exactly clang's
	 * (no PCH in the include stacks), which a drop-in owes the user; errors are the slow
	 * path anyway. */
	int code = 0;
	if (rc == 0) {
		code = r.clang_exit;
		fputs(r.clang_stderr, stderr);
		if (verbose)
			fprintf(stderr, "vmslim cc: %s (pch %.1f ms, compile %.1f ms)\n", r.mode,
				r.pch_ms, r.compile_ms);
	} else if (verbose) {
		/* the PCH path does not apply, broke, or the program has errors: clang decides,
		 * exactly as without us; the reason given is the one that sent it there */
		vms_diags_print(stderr, &d);
		fprintf(stderr, "vmslim cc: passing through to %s: %s\n", clang, rerun_reason(rc, &r));
	}
	vms_build_result_free(&r);
	vms_diags_free(&d);
	vms_cc_plan_free(&plan);
	if (rc == 0)
		return code;
	return exec_clang(clang, nargs, args);
}
