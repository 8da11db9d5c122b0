/* vmslim core against the truth. Modes:
 *   cli     VMSLIM SRCDIR HDRDIR BTF61 BTF618 WORK  the answers for the fixtures: which
 *           relocation fails or is guarded on which kernel, on which line, with which
 *           values; usage errors and damaged inputs
 *   libbpf  VMSLIM SRCDIR HDRDIR BTF WORK            every relocation's result equals what
 *           libbpf's loader computes for that BTF (btf_custom_path; its debug log says
 *           "patched insn #N ... -> V" or "substituting insn #N w/ invalid insn")
 *   kernel  VMSLIM SRCDIR HDRDIR WORK                against the running kernel: the
 *           portable object loads and `vmslim core` says 0; the other is rejected in the
 *           program `vmslim core` names */
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/testutil.h"

static const char *vmslim, *srcdir, *hdrdir, *work;

/* Line of the "@name" marker in a fixture. */
static int marker_line(const char *prog, const char *name)
{
	char *path = vms_xasprintf("%s/%s.bpf.c", srcdir, prog), *text = NULL;
	size_t len;
	if (vms_read_file(path, &text, &len) < 0)
		text = vms_xstrdup("");
	char *mark = vms_xasprintf("/* @%s */", name), *at = strstr(text, mark);
	size_t end = at ? (size_t)(at - text) : 0;
	int line = 1;
	for (size_t i = 0; i < end; i++)
		line += text[i] == '\n';
	CHECK(at, "no marker @%s in %s", name, path);
	free(mark);
	free(text);
	free(path);
	return line;
}

static char *compile(const char *prog)
{
	char *src = vms_xasprintf("%s/%s.bpf.c", srcdir, prog);
	char *obj = vms_xasprintf("%s/%s.o", work, prog);
	char *inc = vms_xasprintf("-I%s", hdrdir);
	const char *argv[] = { "clang", "--target=bpf", "-g", "-O2", "-D__TARGET_ARCH_x86", inc,
			       "-c", src, "-o", obj, NULL };
	char *err;
	int rc = test_run(argv, NULL, NULL, &err);
	CHECK(rc == 0, "clang %s: %s", src, err);
	free(err);
	free(src);
	free(inc);
	return obj;
}

/* Where the .BTF.ext section's bytes are in an object file. */
static void ext_section(const char *path, size_t *off, size_t *len)
{
	int fd = open(path, O_RDONLY);
	Elf *e;
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	elf_version(EV_CURRENT);
	if (fd < 0 || !(e = elf_begin(fd, ELF_C_READ, NULL)) || elf_getshdrstrndx(e, &shstrndx)) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;
		if (gelf_getshdr(scn, &sh) && (name = elf_strptr(e, shstrndx, sh.sh_name)) &&
		    !strcmp(name, ".BTF.ext")) {
			*off = sh.sh_offset;
			*len = sh.sh_size;
		}
	}
	elf_end(e);
	close(fd);
}

/* vmslim -j core ARGS...: the document (owned), exit code in *rc. */
static struct json_object *run_core(int *rc, const char *a1, const char *a2, const char *a3,
				    const char *a4, const char *a5, const char *a6,
				    const char *a7)
{
	const char *argv[] = { vmslim, "-j", "core", a1, a2, a3, a4, a5, a6, a7, NULL };
	char *out, *err;
	*rc = test_run(argv, NULL, &out, &err);
	struct json_object *doc = json_tokener_parse(out);
	CHECK(doc, "vmslim core %s: not JSON: %s / %s", a1, out, err);
	free(out);
	free(err);
	return doc ? doc : json_object_new_object();
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : NULL;
}

static long long jint(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) && v ? json_object_get_int64(v) : -1;
}

static struct json_object *relos(struct json_object *doc)
{
	struct json_object *v = NULL;
	json_object_object_get_ex(doc, "relocations", &v);
	return v;
}

/* The result for the relocation whose spec contains spec_part, of kind, on the target
 * whose path ends in target. */
static struct json_object *find(struct json_object *doc, const char *kind, const char *spec_part,
				const char *target)
{
	struct json_object *arr = relos(doc);
	size_t n = arr ? json_object_array_length(arr) : 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(arr, i);
		const char *t = jstr(r, "target");
		if (!strcmp(jstr(r, "kind"), kind) && strstr(jstr(r, "spec"), spec_part) &&
		    strlen(t) >= strlen(target) && !strcmp(t + strlen(t) - strlen(target), target))
			return r;
	}
	FAIL("no %s relocation on '%s' for %s", kind, spec_part, target);
	return NULL;
}

static void expect(struct json_object *doc, const char *prog, const char *kind,
		   const char *spec_part, const char *target, const char *status, long long value,
		   const char *marker)
{
	struct json_object *r = find(doc, kind, spec_part, target);
	if (!r)
		return;
	CHECK(!strcmp(jstr(r, "status"), status), "%s %s on %s: %s, expected %s (%s)", kind,
	      spec_part, target, jstr(r, "status"), status, jstr(r, "message"));
	if (value >= 0)
		CHECK(jint(r, "value") == value, "%s %s on %s: value %lld, expected %lld", kind,
		      spec_part, target, jint(r, "value"), value);
	if (marker) {
		int line = marker_line(prog, marker);
		CHECK(jint(r, "line") == line, "%s %s: line %lld, expected %d (@%s)", kind,
		      spec_part, jint(r, "line"), line, marker);
	}
}

#define T61 "vmlinux-6.1.0-56-cloud.btf"
#define T618 "vmlinux-6.18.44.btf"

static int mode_cli(const char *btf61, const char *btf618)
{
	int rc;
	char *inc = vms_xasprintf("-I%s", hdrdir);
	char *psrc = vms_xasprintf("%s/portable.bpf.c", srcdir);
	char *usrc = vms_xasprintf("%s/unportable.bpf.c", srcdir);

	/* portable, from source: everything resolves or is guarded */
	struct json_object *doc = run_core(&rc, psrc, "--target-btf", btf61, "--target-btf",
					   btf618, "--", inc);
	CHECK(rc == 0, "portable: exit %d", rc);
	EXPECT(jint(doc, "failed") == 0);
	EXPECT(jint(doc, "guarded") == 3);
	expect(doc, "portable", "field_exists", "inode___new.i_ctime_sec", T61, "resolved", 0, "guard_new");
	expect(doc, "portable", "field_exists", "inode___new.i_ctime_sec", T618, "resolved", 1, "guard_new");
	expect(doc, "portable", "field_byte_offset", "inode___new.i_ctime_sec", T61, "guarded", -1, "read_new");
	expect(doc, "portable", "field_byte_offset", "inode___new.i_ctime_sec", T618, "resolved", 104, "read_new");
	expect(doc, "portable", "field_exists", "inode___old.i_ctime ", T618, "resolved", 0, "guard_old");
	expect(doc, "portable", "field_byte_offset", "inode___old.i_ctime.tv_sec", T61, "resolved", 120, "read_old");
	expect(doc, "portable", "field_byte_offset", "inode___old.i_ctime.tv_sec", T618, "guarded", -1, "read_old");
	expect(doc, "portable", "type_size", "struct inode", T61, "resolved", 632, "inode_size");
	expect(doc, "portable", "type_size", "struct inode", T618, "resolved", 616, "inode_size");
	expect(doc, "portable", "field_byte_size", "inode.i_mode", T61, "resolved", 2, "mode_size");
	expect(doc, "portable", "field_signed", "inode.i_size", T618, "resolved", 1, "size_signed");
	expect(doc, "portable", "enumval_exists", "BPF_MAP_TYPE_ARENA", T61, "resolved", 0, "arena_exists");
	expect(doc, "portable", "enumval_value", "BPF_MAP_TYPE_ARENA", T61, "guarded", -1, "arena_value");
	expect(doc, "portable", "enumval_value", "BPF_MAP_TYPE_ARENA", T618, "resolved", 33, "arena_value");
	expect(doc, "portable", "enumval_value", "USER_RINGBUF", T61, "resolved", 31, "ringbuf_value");
	expect(doc, "portable", "field_byte_offset", "sk_buff.next", T61, "resolved", 0, "anon_next");
	expect(doc, "portable", "field_byte_offset", "sk_buff.len", T618, "resolved", 112, "skb_len");
	json_object_put(doc);

	/* guards that name another access: an else branch after a check on the new field,
	 * a whole flavour struct under bpf_core_type_exists() (tests/progs/core_compat) */
	char *csrc = vms_xasprintf("%s/../progs/core_compat.bpf.c", srcdir);
	doc = run_core(&rc, csrc, "-t", btf61, "-t", btf618, "--", inc);
	CHECK(rc == 0 && jint(doc, "failed") == 0 && jint(doc, "guarded") > 0,
	      "core_compat: exit %d, %lld failed, %lld guarded", rc, jint(doc, "failed"),
	      jint(doc, "guarded"));
	expect(doc, NULL, "field_byte_offset", "task_struct___pre514.state", T618, "guarded", -1, NULL);
	expect(doc, NULL, "field_byte_offset", "mm_struct___post62.rss_stat", T61, "guarded", -1, NULL);
	json_object_put(doc);
	free(csrc);

	/* unportable, as an object: two errors, each on its line, with its kernel */
	char *uobj = compile("unportable");
	doc = run_core(&rc, uobj, "-t", btf61, "-t", btf618, NULL, NULL);
	CHECK(rc == 1, "unportable: exit %d", rc);
	EXPECT(jint(doc, "failed") == 2);
	expect(doc, "unportable", "field_byte_offset", "inode.i_ctime_sec", T61, "failed", -1, "bare_new");
	expect(doc, "unportable", "field_byte_offset", "inode.i_ctime_sec", T618, "resolved", 104, "bare_new");
	expect(doc, "unportable", "field_byte_offset", "inode___old.i_ctime.tv_sec", T618, "failed", -1, "bare_old");
	struct json_object *r = find(doc, "field_byte_offset", "inode.i_ctime_sec", T61);
	if (r)
		CHECK(jstr(r, "hint") && strstr(jstr(r, "hint"), "i_ctime instead of i_ctime_sec"),
		      "hint: %s", jstr(r, "hint"));
	r = find(doc, "field_byte_offset", "inode___old.i_ctime.tv_sec", T618);
	if (r)	/* the member missing on the path is i_ctime, not tv_sec */
		CHECK(jstr(r, "hint") && strstr(jstr(r, "hint"), "i_ctime_sec, i_ctime_nsec instead of i_ctime"),
		      "hint: %s", jstr(r, "hint"));
	/* the failures are diagnostics too, at the same lines */
	struct json_object *diags = NULL;
	json_object_object_get_ex(doc, "diagnostics", &diags);
	int errors = 0, at_bare_new = 0;
	for (size_t i = 0; diags && i < json_object_array_length(diags); i++) {
		struct json_object *dg = json_object_array_get_idx(diags, i);
		if (strcmp(jstr(dg, "severity"), "error"))
			continue;
		errors++;
		at_bare_new += jint(dg, "line") == marker_line("unportable", "bare_new") &&
			       strstr(jstr(dg, "file"), "unportable.bpf.c") &&
			       strstr(jstr(dg, "message"), "6.1.0-56-cloud");
	}
	EXPECT(errors == 2);
	EXPECT(at_bare_new == 1);
	json_object_put(doc);

	/* text mode: gcc-style errors on stderr */
	const char *targv[] = { vmslim, "core", uobj, "--target-btf", btf61, NULL };
	char *out, *err;
	rc = test_run(targv, NULL, &out, &err);
	char *want = vms_xasprintf("unportable.bpf.c:%d:", marker_line("unportable", "bare_new"));
	CHECK(rc == 1 && strstr(err, want) && strstr(err, "error:"), "text: %d %s", rc, err);
	free(want);
	free(out);
	free(err);

	/* usage and bad inputs: one line, never a crash */
	struct { const char *a[6]; int rc; const char *says; } bad[] = {
		{ { uobj }, 2, "--target-btf" },
		{ { "-t", btf61 }, 2, "one program" },
		{ { "/nonexistent.o", "-t", btf61 }, 1, "cannot open" },
		{ { psrc, "-t", btf61, "--bogus" }, 2, "" },
		{ { btf61, "-t", btf61 }, 1, "not a BPF object" },
		{ { uobj, "-t", psrc }, 1, "cannot read as BTF" },
		{ { uobj, "-t", "/nonexistent.btf" }, 1, "cannot read as BTF" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[] = { vmslim, "core", bad[i].a[0], bad[i].a[1], bad[i].a[2],
				       bad[i].a[3], bad[i].a[4], NULL };
		rc = test_run(argv, NULL, &out, &err);
		CHECK(rc == bad[i].rc && strstr(err, bad[i].says), "case %zu: exit %d: %s", i, rc,
		      err);
		free(out);
		free(err);
	}

	/* damaged objects: bytes of .BTF.ext (every one of its headers and records, then
	 * a sample of the rest of the file) flipped in turn: an answer or an error, never a
	 * crash */
	char *data;
	size_t len, ext_off = 0, ext_len = 0;
	ext_section(uobj, &ext_off, &ext_len);
	CHECK(ext_len > 0, "%s: no .BTF.ext found", uobj);
	if (vms_read_file(uobj, &data, &len) == 0) {
		char *dmg = vms_xasprintf("%s/damaged.o", work);
		size_t stride = len / 40 + 1;
		for (size_t k = 0, off; (off = k < ext_len ? ext_off + k : (k - ext_len) * stride) < len;
		     k += k < 32 ? 1 : k + 29 < ext_len ? 29 : k < ext_len ? ext_len - k : 1) {
			char saved = data[off];
			data[off] = (char)(data[off] ^ 0xff);
			vms_write_file_atomic(dmg, data, len, 0644);
			data[off] = saved;
			const char *argv[] = { vmslim, "core", dmg, "-t", btf61, NULL };
			rc = test_run(argv, NULL, &out, &err);
			CHECK(rc == 0 || rc == 1, "damaged at %zu: exit %d: %s", off, rc, err);
			free(out);
			free(err);
		}
		free(dmg);
		free(data);
	}
	free(uobj);
	free(inc);
	free(psrc);
	free(usrc);
	return test_exit();
}

/* ---- libbpf's own run ---- */

static struct vms_buf lbf_log;

static int capture(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *s;
	if (vasprintf(&s, fmt, ap) >= 0) {
		vms_buf_puts(&lbf_log, s);
		free(s);
	}
	return 0;
}

/* What libbpf did to the instruction at (prog, insn): 1 patched to *val, 0 poisoned,
 * -1 not mentioned. */
static int libbpf_says(const char *log, const char *prog, long long insn, long long *val)
{
	char *head = vms_xasprintf("prog '%s': relo #", prog ? prog : "?");
	int found = -1;
	for (const char *p = strstr(log, head); p; p = strstr(p + 1, head)) {
		const char *e = strchr(p, '\n');
		char line[512];
		size_t n = e ? (size_t)(e - p) : strlen(p);
		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		char *at = strstr(line, "insn #");
		if (!at || atoll(at + 6) != insn)
			continue;
		if (strstr(line, "substituting insn") || strstr(line, "poison")) {
			found = 0;
			break;
		}
		char *arrow = strstr(line, "patched insn") ? strstr(line, "-> ") : NULL;
		if (arrow && !strstr(line, "mem_sz")) {
			*val = atoll(arrow + 3);
			found = 1;
			break;
		}
	}
	free(head);
	return found;
}

static int compare_with_libbpf(const char *obj, const char *btf, int *loaded)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = btf);
	int rc;
	struct json_object *doc = run_core(&rc, obj, "--target-btf",
					   btf ? btf : "/sys/kernel/btf/vmlinux", NULL, NULL, NULL,
					   NULL);
	vms_buf_free(&lbf_log);
	libbpf_set_print(capture);
	struct bpf_object *o = bpf_object__open_file(obj, &opts);
	int err = o ? bpf_object__load(o) : -errno;
	*loaded = err;
	bpf_object__close(o);
	libbpf_set_print(NULL);
	const char *log = lbf_log.data ? lbf_log.data : "";

	struct json_object *arr = relos(doc);
	size_t n = arr ? json_object_array_length(arr) : 0;
	CHECK(n > 0, "%s: no relocations reported", obj);
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(arr, i);
		long long v = -1;
		int says = libbpf_says(log, jstr(r, "function"), jint(r, "insn"), &v);
		const char *st = jstr(r, "status");
		if (says == 1)
			CHECK(!strcmp(st, "resolved") && jint(r, "value") == v,
			      "%s on %s: %s #%lld %s: libbpf patched %lld, vmslim %s %lld", obj,
			      btf ? btf : "kernel", jstr(r, "function"), jint(r, "insn"),
			      jstr(r, "spec"), v, st, jint(r, "value"));
		else if (says == 0)
			CHECK(strcmp(st, "resolved"), "%s on %s: %s: libbpf poisons, vmslim resolves",
			      obj, btf ? btf : "kernel", jstr(r, "spec"));
		else
			FAIL("%s on %s: libbpf's log does not mention %s insn #%lld", obj,
			     btf ? btf : "kernel", jstr(r, "function"), jint(r, "insn"));
	}
	json_object_put(doc);
	return rc;
}

static int mode_libbpf(const char *btf)
{
	const char *progs[] = { "portable", "unportable" };
	for (size_t i = 0; i < 2; i++) {
		char *obj = compile(progs[i]);
		int loaded;
		compare_with_libbpf(obj, btf, &loaded);
		free(obj);
	}
	return test_exit();
}

static int mode_kernel(void)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return test_skip("the running kernel has no /sys/kernel/btf/vmlinux");
	char *pobj = compile("portable"), *uobj = compile("unportable");
	int loaded, rc = compare_with_libbpf(pobj, NULL, &loaded);
	if (loaded == -EPERM || loaded == -EACCES) {
		free(pobj);
		free(uobj);
		return test_skip("this machine refuses to load kprobe programs (%s)",
				 strerror(-loaded));
	}
	CHECK(loaded == 0 && rc == 0, "portable on the running kernel: load %d, vmslim core %d",
	      loaded, rc);
	rc = compare_with_libbpf(uobj, NULL, &loaded);
	CHECK(loaded != 0 && rc == 1, "unportable: load %d, vmslim core %d", loaded, rc);
	/* the kernel rejects the program that vmslim core names */
	const char *log = lbf_log.data ? lbf_log.data : "";
	CHECK(strstr(log, "prog 'ctime_old': BPF program load failed") ||
	      strstr(log, "prog 'ctime_old': failed to load"), "load log: %s", log);
	free(pobj);
	free(uobj);
	return test_exit();
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 8 && !strcmp(argv[1], "cli")) {
		vmslim = argv[2], srcdir = argv[3], hdrdir = argv[4], work = argv[7];
		test_fresh_dir(work);
		return mode_cli(argv[5], argv[6]);
	}
	if (argc >= 7 && !strcmp(argv[1], "libbpf")) {
		vmslim = argv[2], srcdir = argv[3], hdrdir = argv[4], work = argv[6];
		test_fresh_dir(work);
		return mode_libbpf(argv[5]);
	}
	if (argc >= 6 && !strcmp(argv[1], "kernel")) {
		if (geteuid() != 0)
			return test_skip("loading BPF programs needs root");
		vmslim = argv[2], srcdir = argv[3], hdrdir = argv[4], work = argv[5];
		test_fresh_dir(work);
		return mode_kernel();
	}
	fprintf(stderr, "usage: test_core cli|libbpf|kernel ...\n");
	return 2;
}
