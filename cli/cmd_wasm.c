/* vmslim wasm: writes the WebAssembly checker's bundle (wasm/) into a directory.
 *
 * The bundle is the prebuilt module (vmslim-tcc.wasm, its loader vmslim-tcc.js, the API
 * vmslim-check.js), made at build time with -DVMSLIM_WASM=ON, plus the headers a check
 * reads, each copied under fs/ at its native absolute path: the prelude and the shims,
 * TCC's runtime headers, libbpf's bpf/ headers, the --header that stands for vmlinux.h and
 * the -I directories' headers. manifest.json lists them with the options. Keeping the
 * native paths makes the bundle's diagnostics name the same files as `vmslim check`.
 *
 * Each file is written whole (vms_write_file_atomic); the manifest goes last, so a
 * bundle whose manifest is there is complete.
 */
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/common.h"
#include "tccarena/tccarena.h"

#ifndef VMSLIM_WASM_BUILD
#define VMSLIM_WASM_BUILD ""
#endif
#ifndef VMSLIM_WASM_INSTALL
#define VMSLIM_WASM_INSTALL "/usr/local/share/vmslim/wasm"
#endif

static const char help[] =
	"usage: vmslim wasm -o DIR [--header H] [-I DIR]... [-D NAME[=VALUE]]...\n"
	"Writes a self-contained WebAssembly bundle of the fast checker into DIR: a .wasm,\n"
	"its JS API (check(source, {file}) -> diagnostics) and the headers it needs.\n"
	"`node DIR/vmslim-check.js FILE` checks FILE and exits as `vmslim check` does.\n"
	"  -o DIR            output directory (created)\n"
	"  --header H        use H wherever the program includes vmlinux.h\n"
	"  -I DIR            include directory (its headers are copied)\n"
	"  -D NAME[=VALUE]   define a macro (-D-NAME undefines it)\n"
	"  --headers-dir D   " HELP_SPEC_HEADERS_DIR "\n"
	"  -h, --help        " HELP_SPEC_HELP "\n"
	"The prebuilt module is looked up in $VMSLIM_WASM_DIR, beside the binary (wasm/),\n"
	"in the build tree, then under the install prefix (share/vmslim/wasm).\n";

enum { O_HEADER = 256, O_HDRDIR };
static const struct option opts[] = {
	{ "header", required_argument, NULL, O_HEADER },
	{ "headers-dir", required_argument, NULL, O_HDRDIR },
	CLI_OPT_HELP,
	{ 0 },
};
static const struct cli_spec spec = { "wasm", help, "o:I:D:h", opts, NULL };

static const char *const module_files[] = { "vmslim-tcc.wasm", "vmslim-tcc.js", "vmslim-check.js" };

static int has_module(const char *dir)
{
	char *p = vms_xasprintf("%s/vmslim-tcc.wasm", dir);
	int ok = access(p, R_OK) == 0;
	free(p);
	return ok;
}

/* Where the prebuilt module is, like the TCC helper: owned, or NULL. */
static char *find_module(void)
{
	const char *env = getenv("VMSLIM_WASM_DIR");
	if (env && *env)
		return has_module(env) ? vms_xstrdup(env) : NULL;
	char *exe = vms_realpath("/proc/self/exe");
	char *dir = exe ? vms_dirname(exe) : NULL;
	char *cand[3] = { dir ? vms_xasprintf("%s/wasm", dir) : NULL,
			  *VMSLIM_WASM_BUILD ? vms_xstrdup(VMSLIM_WASM_BUILD) : NULL,
			  vms_xstrdup(VMSLIM_WASM_INSTALL) };
	free(exe), free(dir);
	char *found = NULL;
	for (int i = 0; i < 3; i++) {
		if (!found && cand[i] && has_module(cand[i]))
			found = cand[i];
		else
			free(cand[i]);
	}
	return found;
}

struct bundle {
	const char *out;
	json_object *files;	/* the fs/ paths */
	int err;		/* first -errno */
	const char *failed;	/* what it was about */
};

static int copy_file(struct bundle *b, const char *from, const char *to)
{
	char *data;
	size_t len;
	int e = vms_read_file(from, &data, &len);
	if (e == 0) {
		char *dir = vms_dirname(to);
		e = vms_mkdir_p(dir, 0755);
		free(dir);
		if (e == 0)
			e = vms_write_file_atomic(to, data, len, 0644);
		free(data);
	}
	if (e < 0 && !b->err) {
		b->err = e;
		b->failed = from;
	}
	return e;
}

/* One header into fs/ at its absolute path. */
static void add_file(struct bundle *b, const char *path)
{
	char *abs = vms_realpath(path);
	if (!abs) {
		if (!b->err)
			b->err = -errno, b->failed = path;
		return;
	}
	char *to = vms_xasprintf("%s/fs%s", b->out, abs);
	if (copy_file(b, abs, to) == 0)
		json_object_array_add(b->files, json_object_new_string(abs));
	free(to);
	free(abs);
}

static int is_header(const char *name)
{
	size_t n = strlen(name);
	return n > 2 && strcmp(name + n - 2, ".h") == 0;
}

/* Every header under dir (depth-bounded: an -I of / must not copy the world). */
static void add_tree(struct bundle *b, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *p = vms_xasprintf("%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(p, &st) == 0) {
			if (S_ISDIR(st.st_mode) && depth > 0)
				add_tree(b, p, depth - 1);
			else if (S_ISREG(st.st_mode) && is_header(e->d_name))
				add_file(b, p);
		}
		free(p);
	}
	closedir(d);
}

static json_object *strings(const struct vms_argv *v)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < v->n; i++)
		json_object_array_add(a, json_object_new_string(v->v[i]));
	return a;
}

int cmd_wasm(int argc, char **argv)
{
	struct cli_args a;
	cli_args_init(&a, &spec, argc, argv);
	const char *out = NULL, *header = NULL, *hdir = NULL;
	struct vms_argv incs = { 0 }, defs = { 0 }, rincs = { 0 };
	int c, rc = VMS_EXIT_FAIL;
	while ((c = cli_next(&a)) > 0) {
		switch (c) {
		case 'o': out = a.arg; break;
		case 'I': vms_argv_push(&incs, a.arg); break;
		case 'D': vms_argv_push(&defs, a.arg); break;
		case O_HEADER: header = a.arg; break;
		case O_HDRDIR: hdir = a.arg; break;
		}
	}
	if (c == CLI_EXIT) {
		rc = a.exit;
		goto done;
	}
	if (cli_positionals(&a, NULL, 0) < 0) {
		rc = VMS_EXIT_USAGE;
		goto done;
	}
	if (!out) {
		cli_error("wasm", "-o DIR is required");
		rc = cli_usage_error(&spec);
		goto done;
	}
	char *module = find_module();
	if (!module) {
		cli_error("wasm", "no prebuilt WebAssembly module (vmslim-tcc.wasm) found: build "
			  "vmslim with -DVMSLIM_WASM=ON, or set VMSLIM_WASM_DIR");
		goto done;
	}
	/* every input is resolved before DIR is touched: a typo makes no half bundle */
	char *headers = vms_realpath(hdir ? hdir : cli_headers_dir());
	char *vmlinux = header ? vms_realpath(header) : NULL;
	const char *missing = !headers ? (hdir ? hdir : "the headers directory")
			      : header && !vmlinux ? header : NULL;
	for (size_t i = 0; i < incs.n && !missing; i++) {
		char *r = vms_realpath(incs.v[i]);
		if (r)
			vms_argv_push(&rincs, r);
		else
			missing = incs.v[i];
		free(r);
	}
	if (missing) {
		cli_error("wasm", "cannot find %s: %s", missing, strerror(errno));
		free(module), free(headers), free(vmlinux);
		goto done;
	}
	struct bundle b = { .out = out, .files = json_object_new_array() };
	int e = vms_mkdir_p(out, 0755);
	if (e < 0 && !b.err)
		b.err = e, b.failed = out;
	for (size_t i = 0; i < sizeof(module_files) / sizeof(module_files[0]) && !b.err; i++) {
		char *from = vms_xasprintf("%s/%s", module, module_files[i]);
		char *to = vms_xasprintf("%s/%s", out, module_files[i]);
		copy_file(&b, from, to);
		free(from), free(to);
	}
	char *p = vms_xasprintf("%s/%s", headers, VMS_TCC_PRELUDE);
	add_file(&b, p);
	free(p);
	p = vms_xasprintf("%s/%s", headers, VMS_TCC_SHIMS);
	add_tree(&b, p, 4);
	free(p);
	char *tccinc = vms_xasprintf("%s/include", VMS_TCC_DEFAULT_LIB_DIR);
	add_tree(&b, tccinc, 0);
	free(tccinc);
	add_tree(&b, "/usr/include/bpf", 0); /* libbpf's headers, which programs include */
	if (vmlinux)
		add_file(&b, vmlinux);
	json_object *idirs = json_object_new_array();
	for (size_t i = 0; i < rincs.n; i++) {
		add_tree(&b, rincs.v[i], 8);
		json_object_array_add(idirs, json_object_new_string(rincs.v[i]));
	}
	if (!b.err) {
		json_object *m = json_object_new_object();
		json_object_object_add(m, "headersDir", json_object_new_string(headers));
		json_object_object_add(m, "tccLibDir", json_object_new_string(VMS_TCC_DEFAULT_LIB_DIR));
		json_object_object_add(m, "vmlinux", vmlinux ? json_object_new_string(vmlinux) : NULL);
		json_object_object_add(m, "includeDirs", idirs);
		json_object_object_add(m, "defines", strings(&defs));
		json_object_object_add(m, "files", json_object_get(b.files));
		const char *text = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_NOSLASHESCAPE);
		char *mp = vms_xasprintf("%s/manifest.json", out);
		e = vms_write_file_atomic(mp, text, strlen(text), 0644);
		if (e < 0)
			b.err = e, b.failed = mp;
		else
			rc = VMS_EXIT_OK;
		if (e < 0)
			cli_error("wasm", "cannot write %s: %s", mp, strerror(-e));
		free(mp);
		json_object_put(m);
	} else {
		json_object_put(idirs);
		cli_error("wasm", "cannot copy %s: %s", b.failed, strerror(-b.err));
	}
	json_object_put(b.files);
	free(module), free(headers), free(vmlinux);
done:
	vms_argv_free(&incs);
	vms_argv_free(&defs);
	vms_argv_free(&rincs);
	return rc;
}
