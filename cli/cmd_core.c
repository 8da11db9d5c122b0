/* vmslim core: the CLI over vms_core_resolve(): is every CO-RE access of a program
 * satisfiable on the kernels it ships to? */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/report.h"
#include "common/bpf_cmdline.h"
#include "core/core.h"

static const char help[] =
	"usage: vmslim core PROG.c|PROG.o --target-btf FILE [--target-btf FILE...]\n"
	"                   [OPTIONS] [-- CLANG FLAGS]\n"
	"\n"
	"Resolves each CO-RE relocation of a BPF object against each target kernel's BTF,\n"
	"offline, with libbpf's own relocation engine (Debian's libbpf): \"___flavour\"\n"
	"structs, anonymous members, field offset/size/signedness/existence, type\n"
	"id/size/existence and enum value relocations, as the loader would on that kernel.\n"
	"A .c program is compiled first: --target=bpf -g -O2 -D__TARGET_ARCH_<host>\n"
	"(unless CLANG FLAGS define one), then CLANG FLAGS.\n"
	"\n"
	"Each relocation that a kernel cannot satisfy is an error at its source line\n"
	"(from .BTF.ext line info), with a hint. One that its function cannot reach on\n"
	"that kernel once the existence checks are answered (bpf_core_field_exists(),\n"
	"bpf_core_type_exists(), bpf_core_enum_value_exists(): on the same access, or an\n"
	"else branch, or a whole ___flavour struct) is a note, \"guarded\": dead code that\n"
	"the verifier drops. -j: every (relocation, kernel) pair in \"relocations\".\n"
	"\n"
	"options:\n"
	"  -t, --target-btf FILE  a kernel's BTF (raw, as /sys/kernel/btf/vmlinux, or an\n"
	"                         ELF with .BTF); repeat for each kernel\n"
	"      --clang PATH       " HELP_SPEC_CLANG "\n"
	"  -v, --verbose          also list every resolved relocation\n"
	"  -h, --help             " HELP_SPEC_HELP "\n"
	"\n"
	"exit status: 0 every unguarded relocation resolves on every target,\n"
	"             1 some do not (or the program does not compile, or a file cannot\n"
	"             be read), 2 usage error\n";

static const struct option opts[] = {
	{ "target-btf", required_argument, NULL, 't' },
	{ "clang", required_argument, NULL, 'c' },
	{ "verbose", no_argument, NULL, 'v' },
	CLI_OPT_HELP,
	{ 0 },
};

static const struct cli_spec spec = { "core", help, "t:vh", opts, "clang flags" };

static const char *const status_names[] = { "resolved", "guarded", "failed" };

/* PROG.c → a temporary object (owned path, in *tmpdir); NULL after printing clang's
 * messages. */
static char *compile(const char *src, const char *clang, char **rest, char **tmpdir)
{
	struct vms_argv av = { 0 };
	struct vms_proc_result r = { 0 };
	char *obj;

	*tmpdir = vms_make_tempdir("vmslim-core");
	if (!*tmpdir) {
		cli_error("core", "cannot make a temporary directory: %s", strerror(errno));
		return NULL;
	}
	obj = vms_xasprintf("%s/prog.o", *tmpdir);
	struct vms_bpf_cmd c = {
		.clang = clang,
		.opts = VMS_BPF_DEBUG | VMS_BPF_O2,
		.user = { VMS_ARGS(rest) },
		.input = src,
		.output = obj,
	};
	vms_bpf_cmdline(&c, &av);
	if (vms_run(av.v, NULL, 0, 0, &r) < 0) {
		cli_error("core", "cannot run %s", clang);
		goto fail;
	}
	if (r.exit_code) {
		cli_clang_output(stderr, r.err);
		cli_error("core", "%s does not compile", src);
		goto fail;
	}
	if (r.err_len)
		cli_clang_output(stderr, r.err);
	vms_proc_result_free(&r);
	vms_argv_free(&av);
	return obj;
fail:
	vms_proc_result_free(&r);
	vms_argv_free(&av);
	free(obj);
	return NULL;
}

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && !strcmp(s + n - m, suf);
}

static void add_json(const struct vms_core_result *v)
{
	struct json_object *doc = cli_doc(), *arr = NULL, *o = json_object_new_object();
	if (!json_object_object_get_ex(doc, "relocations", &arr)) {
		arr = json_object_new_array();
		json_object_object_add(doc, "relocations", arr);
	}
	json_object_object_add(o, "index", json_object_new_int((int)v->idx));
	json_object_object_add(o, "target", json_object_new_string(v->target));
	json_object_object_add(o, "section", json_object_new_string(v->section));
	json_object_object_add(o, "function", json_object_new_string(v->func));
	json_object_object_add(o, "insn", json_object_new_int64(v->insn));
	json_object_object_add(o, "kind", json_object_new_string(v->kind_name));
	json_object_object_add(o, "spec", json_object_new_string(v->spec));
	json_object_object_add(o, "file", v->file ? json_object_new_string(v->file) : NULL);
	json_object_object_add(o, "line", json_object_new_int(v->line));
	json_object_object_add(o, "column", json_object_new_int(v->col));
	json_object_object_add(o, "status", json_object_new_string(status_names[v->status]));
	json_object_object_add(o, "local_value", json_object_new_int64((int64_t)v->local_val));
	json_object_object_add(o, "value", v->status == VMS_CORE_RESOLVED
						   ? json_object_new_int64((int64_t)v->value)
						   : NULL);
	json_object_object_add(o, "message", v->message ? json_object_new_string(v->message) : NULL);
	json_object_object_add(o, "hint", v->hint ? json_object_new_string(v->hint) : NULL);
	json_object_array_add(arr, o);
}

int cmd_core(int argc, char **argv)
{
	struct cli_args a;
	const char **targets = vms_xcalloc((size_t)argc + 1, sizeof(*targets));
	const char *clang = getenv("VMSLIM_CLANG"), *why, *pos[1];
	size_t ntargets = 0;
	int verbose = 0, c, rc;

	if (!clang || !*clang)
		clang = "clang";
	cli_args_init(&a, &spec, argc, argv);
	while ((c = cli_next(&a)) > 0) {
		if (c == 't')
			targets[ntargets++] = a.arg;
		else if (c == 'c')
			clang = a.arg;
		else if (c == 'v')
			verbose = 1;
	}
	if (c == CLI_EXIT) {
		free(targets);
		return a.exit;
	}
	if (cli_positionals(&a, pos, 1) != 1 || !ntargets) {
		if (!ntargets)
			cli_error("core", "expected at least one --target-btf FILE");
		else
			cli_error("core", "expected one program (PROG.c or PROG.o)");
		free(targets);
		return cli_usage_error(&spec);
	}
	if (!vms_core_available(&why)) {
		cli_error("core", "not available in this build: %s", why);
		free(targets);
		return VMS_EXIT_FAIL;
	}

	char *obj = NULL, *tmpdir = NULL;
	const char *prog = pos[0];
	if (has_suffix(prog, ".c")) {
		obj = compile(prog, clang, cli_rest(&a), &tmpdir);
		if (!obj) {
			rc = VMS_EXIT_FAIL;
			goto out;
		}
	} else if (cli_rest(&a)[0]) {
		cli_error("core", "clang flags are for a .c program, not an object (%s)", prog);
		rc = VMS_EXIT_USAGE;
		goto out;
	}

	struct vms_core_report rep;
	struct vms_diags d = { 0 };
	int r = vms_core_resolve(obj ? obj : prog, targets, ntargets, &rep, &d);
	cli_doc_str("program", prog);
	if (r < 0) {
		cli_diags(stderr, &d);
		vms_diags_free(&d);
		rc = VMS_EXIT_FAIL;
		goto out;
	}
	size_t failed = 0, guarded = 0;
	if (cli_json())
		json_object_object_add(cli_doc(), "relocations", json_object_new_array());
	for (size_t i = 0; i < rep.n; i++) {
		const struct vms_core_result *v = &rep.v[i];
		const char *file = v->file ? v->file : prog;
		if (cli_json())
			add_json(v);
		if (v->status == VMS_CORE_FAILED) {
			failed++;
			vms_diag_add(&d, VMS_ERROR, file, v->line, v->col, "%s (%s in %s)",
				     v->message, v->kind_name, *v->func ? v->func : v->section);
			if (v->hint)
				vms_diag_add(&d, VMS_NOTE, file, v->line, v->col, "hint: %s", v->hint);
		} else if (v->status == VMS_CORE_GUARDED) {
			guarded++;
			vms_diag_add(&d, VMS_NOTE, file, v->line, v->col, "%s", v->message);
		} else if (verbose && !cli_json()) {
			printf("%s:%d:%d: %s: %s %s = %llu (compiled %llu)\n", file, v->line,
			       v->col, vms_basename(v->target), v->kind_name, v->spec,
			       (unsigned long long)v->value, (unsigned long long)v->local_val);
		}
	}
	cli_diags(cli_json() ? stdout : stderr, &d);
	vms_diags_free(&d);
	cli_doc_int("relocation_count", (long long)rep.nrelos);
	cli_doc_int("failed", (long long)failed);
	cli_doc_int("guarded", (long long)guarded);
	if (!cli_json())
		printf("%s: %zu CO-RE relocation%s x %zu kernel%s: %zu failed, %zu guarded\n",
		       prog, rep.nrelos, rep.nrelos == 1 ? "" : "s", ntargets,
		       ntargets == 1 ? "" : "s", failed, guarded);
	vms_core_report_free(&rep);
	rc = r ? VMS_EXIT_FAIL : VMS_EXIT_OK;
out:
	if (tmpdir)
		vms_remove_tree(tmpdir);
	free(tmpdir);
	free(obj);
	free(targets);
	return rc;
}
