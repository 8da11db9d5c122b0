/* BTF to C with libbpf's btf_dump, framed exactly as `bpftool btf dump file F format c`
 * frames it (bpftool 7.x: include guard, then the preserve_access_index pragma block).
 *
 * One difference remains, on purpose: Debian's libbpf 1.1 marks an enum whose BTF size is
 * not 4 bytes with __attribute__((mode(byte))) (or word...), so it keeps its kernel size;
 * the older libbpf inside bpftool 7.1 does not. Everything else is the same bytes.
 *
 * Debian's libbpf 1.1 prints a prototype without parameters as `()`, while the libbpf
 * inside bpftool 7.1 prints `(void)`; both mean the same to clang's BPF back end, but the
 * bytes would differ. btf_dump prints the parentheses of a parameter list as fragments of
 * their own, and a "(" fragment directly followed by ")" occurs only for an empty list, so
 * the printer fills in "void" there. */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extract/extract.h"

struct dump_sink {
	struct vms_buf b;
	int after_open_paren;
};

static void append_printf(void *ctx, const char *fmt, va_list args)
{
	struct dump_sink *sink = ctx;
	struct vms_buf *b = &sink->b;
	va_list ap;
	va_copy(ap, args);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	char *tmp = vms_xmalloc((size_t)n + 1);
	vsnprintf(tmp, (size_t)n + 1, fmt, args);
	if (sink->after_open_paren && !strcmp(tmp, ")"))
		vms_buf_puts(b, "void");
	sink->after_open_paren = !strcmp(tmp, "(");
	vms_buf_append(b, tmp, (size_t)n);
	free(tmp);
}

/* libbpf would print its complaints ("failed to get EHDR") on stderr; the diagnostic
 * below says the same once, in the tool's own words. */
static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level, (void)fmt, (void)args;
	return 0;
}

int vms_btf_to_c(const char *btf_path, char **out, size_t *out_len, struct vms_diags *d)
{
	struct stat st;
	int e = stat(btf_path, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
	if (!e && access(btf_path, R_OK) < 0)
		e = errno;
	if (e) {
		vms_diag_add(d, VMS_ERROR, btf_path, 0, 0, "cannot read BTF: %s", strerror(e));
		return -1;
	}
	libbpf_print_fn_t old = libbpf_set_print(quiet_print);
	struct btf *btf = btf__parse(btf_path, NULL);
	e = errno;
	libbpf_set_print(old);
	if (!btf) {
		char why[128];
		/* libbpf's own codes (LIBBPF_ERRNO__*, from 4000) are not errnos */
		if (libbpf_strerror(e, why, sizeof(why)))
			snprintf(why, sizeof(why), "error %d", e);
		vms_diag_add(d, VMS_ERROR, btf_path, 0, 0,
			     "not raw BTF nor an ELF file with a .BTF section (%s)", why);
		return -1;
	}
	struct dump_sink sink = { 0 };
	struct vms_buf *b = &sink.b;
	struct btf_dump *dump = btf_dump__new(btf, append_printf, &sink, NULL);
	if (!dump) {
		vms_diag_add(d, VMS_ERROR, btf_path, 0, 0, "libbpf cannot dump this BTF (%s)",
			     strerror(errno));
		btf__free(btf);
		return -1;
	}
	vms_buf_puts(b, "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n"
			 "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n"
			 "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n"
			 "#endif\n\n");
	int err = 0;
	__u32 n = btf__type_cnt(btf);
	for (__u32 id = 1; id < n && !err; id++)
		err = btf_dump__dump_type(dump, id);
	vms_buf_puts(b, "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n"
			 "#endif /* __VMLINUX_H__ */\n");
	btf_dump__free(dump);
	btf__free(btf);
	if (err) {
		vms_diag_add(d, VMS_ERROR, btf_path, 0, 0, "libbpf failed to dump BTF type: %s",
			     strerror(-err));
		vms_buf_free(b);
		return -1;
	}
	*out_len = b->len;
	*out = vms_buf_steal(b);
	return 0;
}
