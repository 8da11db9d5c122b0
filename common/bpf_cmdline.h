/* The one place that builds a BPF clang command line (for the clang driver or libclang)
 * and applies the target-architecture rule. */
#ifndef VMSLIM_COMMON_BPF_CMDLINE_H
#define VMSLIM_COMMON_BPF_CMDLINE_H

#include <stddef.h>

#include "common/common.h"

/* A list of arguments: n of them, or up to a NULL entry when n is VMS_ARGS_NT. */
struct vms_args {
	const char *const *v;
	size_t n;
};

#define VMS_ARGS_NT ((size_t)-1)
#define VMS_ARGS(nt_vector) ((struct vms_args){ (const char *const *)(nt_vector), VMS_ARGS_NT })

enum {
	VMS_BPF_LANG_C = 1 << 0,	/* -x c: parse the input as C whatever its name */
	VMS_BPF_DEBUG = 1 << 1,		/* -g */
	VMS_BPF_O2 = 1 << 2,		/* -O2 (what every libbpf Makefile uses; also shapes
					 * the macros clang predefines, __OPTIMIZE__) */
	VMS_BPF_SYNTAX_ONLY = 1 << 3,	/* -fsyntax-only */
	VMS_BPF_PLAIN_DIAGS = 1 << 4,	/* -fno-color-diagnostics -fno-caret-diagnostics */
	VMS_BPF_RAW = 1 << 5,		/* the user's flags are complete: no --target, -g,
					 * -O2 or architecture is added */
};

/* What goes on the line, in the order it goes there:
 *
 *   clang [-x c] --target=bpf [-g] [-O2] [-fsyntax-only] [-D__TARGET_ARCH_<host>]
 *         [-fno-color-diagnostics -fno-caret-diagnostics] [-resource-dir DIR]
 *         [-iquoteDIR] [-IDIR...] USER... [DEFINES...] [EXTRA...]
 *         [-include-pch PCH] [-include HEADER] [DEPS...] [-c INPUT -o OUTPUT | INPUT]
 *
 * Every field may be left zero. clang NULL leaves out argv[0]: the arguments of a libclang
 * parse, or flags that another call extends (a PCH build reuses them). */
struct vms_bpf_cmd {
	const char *clang;		/* argv[0] of a driver run, or NULL */
	unsigned opts;			/* VMS_BPF_* */
	const char *resource_dir;	/* -resource-dir: libclang's own headers */
	const char *iquote;		/* -iquote: a program's own directory */
	struct vms_args inc_dirs;	/* -I each, ahead of the user's flags */
	struct vms_args user[2];	/* the user's flags as given (-I/-D/-U/-include/...),
					 * e.g. daemon-wide then per request */
	struct vms_args defines;	/* "-DNAME[=VALUE]" (or "NAME[=VALUE]") after them */
	struct vms_args source_defines;	/* defines the source makes itself before the
					 * header (a scanned preamble): they count for the
					 * architecture rule but are not put on the line */
	struct vms_args extra;		/* after the defines (-gmodules, -fdebug-...) */
	const char *pch;		/* -include-pch */
	const char *include;		/* -include */
	struct vms_args deps;		/* dependency-file flags (-MD, -MF FILE, -MQ T) */
	const char *input;		/* the source; with output: -c INPUT -o OUTPUT */
	const char *output;
};

/* Appends the command line to out (which may already hold arguments).
 *
 * The architecture rule: libbpf's PT_REGS_* macros need __TARGET_ARCH_<arch>, and every
 * libbpf Makefile passes the host's. vmslim adds the host's (vms_bpf_host_arch_define)
 * only when no __TARGET_ARCH_* is defined by the user's flags, the defines or the source
 * defines: a program built for arm64 on an x86 host must not see both. VMS_BPF_RAW adds
 * none. */
void vms_bpf_cmdline(const struct vms_bpf_cmd *c, struct vms_argv *out);

/* 1 when the list defines a __TARGET_ARCH_* macro: "-D__TARGET_ARCH_x", "-D" then
 * "__TARGET_ARCH_x", "--define-macro[=]..." or, in a defines list, "__TARGET_ARCH_x". */
int vms_args_define_arch(struct vms_args a);

size_t vms_args_count(struct vms_args a);

/* 1 when the text itself #defines a __TARGET_ARCH_* macro (the program chose its
 * architecture; read as clang's preprocessor reads it: splices, comments). */
int vms_source_defines_arch(const char *text, size_t len);

/* The architecture rule for a checker whose macros are NAME or NAME=VALUE strings (the
 * TCC checker's): the host's __TARGET_ARCH_<arch> name when neither the lists nor the
 * text's first len bytes define one, else NULL. One rule with vms_bpf_cmdline, so that
 * check, the daemon and the language server see what build compiles. */
const char *vms_checker_arch_define(const char *const *defs1, const char *const *defs2,
				    const char *text, size_t len);

#endif
