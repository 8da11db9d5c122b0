/* Clang command lines: normalizing them for cache keys, splitting a `cc` invocation into
 * what a PCH build needs, and reading clang's diagnostics back as values.
 *
 * A PCH must be built with the build's flags, but not all of a build's arguments are
 * flags in that sense: the output, the dependency-file options and the input file change
 * per program and must neither enter the key nor reach the PCH build. Everything else is
 * kept in order (order matters for -D/-U and include paths), and spellings that mean the
 * same thing are unified so that `-D X` and `-DX` share a PCH. Relative paths are made
 * absolute because the same -I from two directories names two different things. */
#include "pch/internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* clang options whose value is the next argument (when not joined). */
static const char *const sep_opts[] = {
	"-o", "-MF", "-MT", "-MQ", "-MJ", "-D", "-U", "-I", "-iquote", "-isystem", "-idirafter",
	"-include", "-imacros", "-include-pch", "-target", "-Xclang", "-x", "-isysroot",
	"-mllvm", "-Xlinker", "-Xassembler", "-Xpreprocessor", "-arch", "-F", "-L", "-u",
	"-z", "-T", "-ivfsoverlay", "-iprefix", "-iwithprefix", "-iwithprefixbefore",
	"-resource-dir", "-working-directory", "--sysroot", "-dependency-file",
	"-serialize-diagnostics", "-Xarch_device", "-Xarch_host", "-Xopenmp-target",
	"-cxx-isystem", "-isystem-after", NULL,
};

int pch_opt_takes_arg(const char *a)
{
	for (size_t i = 0; sep_opts[i]; i++)
		if (!strcmp(a, sep_opts[i]))
			return 1;
	return 0;
}

char *pch_abspath(const char *p)
{
	if (p[0] == '/')
		return vms_xstrdup(p);
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return vms_xstrdup(p);
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	if (!strcmp(p, "."))
		return vms_xstrdup(cwd);
	return vms_xasprintf("%s/%s", cwd, p);
}

void pch_escape(struct vms_buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= ' ' || *p == '%' || *p >= 0x7f)
			vms_buf_printf(b, "%%%02x", *p);
		else
			vms_buf_append(b, p, 1);
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *pch_unescape(const char *s)
{
	struct vms_buf b = { 0 };
	for (const char *p = s; *p; p++) {
		if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			char c = (char)(hexval(p[1]) * 16 + hexval(p[2]));
			vms_buf_append(&b, &c, 1);
			p += 2;
		} else {
			vms_buf_append(&b, p, 1);
		}
	}
	return vms_buf_steal(&b);
}

/* Arguments that only concern this one compile's outputs or how clang talks to us. */
static int is_dropped_flag(const char *a)
{
	static const char *const exact[] = {
		"-c", "-S", "-E", "-MD", "-MMD", "-MP", "-MG", "-M", "-MM", "-MV",
		"-fsyntax-only", "-emit-llvm", "-pipe", "-v", "-###",
		"-fcolor-diagnostics", "-fno-color-diagnostics", NULL,
	};
	for (size_t i = 0; exact[i]; i++)
		if (!strcmp(a, exact[i]))
			return 1;
	return !strncmp(a, "-fdiagnostics-color", 19) || !strncmp(a, "-save-temps", 11);
}

/* Options with a path value: which spelling to emit once the path is absolute. */
static const char *path_opt(const char *a, const char **joined)
{
	static const char *const opts[] = { "-I", "-iquote", "-isystem", "-idirafter", "-include",
					    "-imacros", "-isysroot", "-ivfsoverlay", NULL };
	*joined = NULL;
	for (size_t i = 0; opts[i]; i++) {
		size_t n = strlen(opts[i]);
		if (!strncmp(a, opts[i], n)) {
			if (!a[n])
				return opts[i];
			/* -I/-iquote/... accept a joined value; "-include-pch" is not "-include" */
			if (!strcmp(opts[i], "-include") && !strncmp(a, "-include-pch", 12))
				return NULL;
			if (!strcmp(opts[i], "-I") || !strcmp(opts[i], "-isystem") ||
			    !strcmp(opts[i], "-idirafter") || !strcmp(opts[i], "-iquote") ||
			    !strcmp(opts[i], "-include") || !strcmp(opts[i], "-imacros")) {
				*joined = a + n;
				return opts[i];
			}
		}
	}
	return NULL;
}

void pch_split_search_flags(const struct vms_argv *flags, struct vms_argv *search,
			    struct vms_argv *rest)
{
	static const char *const apart[] = { "-iquote", "-isystem", "-idirafter" };
	for (size_t i = 0; i < flags->n; i++) {
		const char *a = flags->v[i];
		int two = 0, is_search = !strncmp(a, "-I", 2);
		for (size_t k = 0; !is_search && k < sizeof(apart) / sizeof(apart[0]); k++)
			if (!strcmp(a, apart[k]) && i + 1 < flags->n)
				is_search = two = 1;
		struct vms_argv *to = is_search ? search : rest;
		if (to)
			vms_argv_push(to, a);
		if (two && to)
			vms_argv_push(to, flags->v[i + 1]);
		i += (size_t)two;
	}
}

void vms_flags_normalize(const char *const *flags, struct vms_argv *out)
{
	memset(out, 0, sizeof(*out));
	if (!flags)
		return;
	for (size_t i = 0; flags[i]; i++) {
		const char *a = flags[i];
		const char *next = flags[i + 1];
		if (a[0] != '-' || !a[1])
			continue; /* an input file (or "-", stdin) */
		if (is_dropped_flag(a))
			continue;
		if (!strcmp(a, "-o") || !strcmp(a, "-MF") || !strcmp(a, "-MT") ||
		    !strcmp(a, "-MQ") || !strcmp(a, "-MJ") || !strcmp(a, "-x") ||
		    !strcmp(a, "-dependency-file")) {
			if (next)
				i++;
			continue;
		}
		if ((!strncmp(a, "-o", 2) && strncmp(a, "-ob", 3)) || !strncmp(a, "-MF", 3) ||
		    !strncmp(a, "-MT", 3) || !strncmp(a, "-MQ", 3) || !strncmp(a, "-x", 2))
			continue; /* joined forms: -ofoo.o, -MFx.d, -xc */
		if ((!strcmp(a, "-D") || !strcmp(a, "-U")) && next) {
			vms_argv_pushf(out, "%s%s", a, next);
			i++;
			continue;
		}
		if (!strcmp(a, "-target") && next) {
			vms_argv_pushf(out, "--target=%s", next);
			i++;
			continue;
		}
		const char *joined;
		const char *po = path_opt(a, &joined);
		if (po) {
			const char *val = joined ? joined : next;
			if (!val)
				continue;
			if (!joined)
				i++;
			char *abs = pch_abspath(val);
			if (!strcmp(po, "-I"))
				vms_argv_pushf(out, "-I%s", abs);
			else
				vms_argv_push(out, po), vms_argv_push(out, abs);
			free(abs);
			continue;
		}
		vms_argv_push(out, a);
		if (pch_opt_takes_arg(a) && next) {
			vms_argv_push(out, next);
			i++;
		}
	}
}

/* ---- the cc wrapper's view of a command line ---- */

static int is_bpf_target(const char *t)
{
	return !strcmp(t, "bpf") || !strcmp(t, "bpfel") || !strcmp(t, "bpfeb");
}

static void not_eligible(struct vms_cc_plan *p, const char *fmt, const char *arg)
{
	if (!p->why_not)
		p->why_not = vms_xasprintf(fmt, arg);
}

void vms_cc_plan(int argc, char *const *argv, struct vms_cc_plan *p)
{
	memset(p, 0, sizeof(*p));
	int compile = 0, bpf = 0, inputs = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (a[0] == '@') {
			not_eligible(p, "response file %s", a);
			continue;
		}
		if (a[0] != '-' || !a[1]) {
			inputs++;
			size_t n = strlen(a);
			if (!strcmp(a, "-") || n < 3 || strcmp(a + n - 2, ".c"))
				not_eligible(p, "input '%s' is not a C source", a);
			else if (!p->source)
				p->source = vms_xstrdup(a);
			continue;
		}
		if (!strcmp(a, "-c")) {
			compile = 1;
			continue;
		}
		if (!strcmp(a, "-o") || (!strncmp(a, "-o", 2) && a[2])) {
			const char *v = a[2] ? a + 2 : next;
			if (!a[2])
				i++;
			if (!v || !strcmp(v, "-"))
				not_eligible(p, "%s", "output to stdout");
			else {
				free(p->output);
				p->output = vms_xstrdup(v);
			}
			continue;
		}
		if (!strcmp(a, "-MD") || !strcmp(a, "-MMD") || !strcmp(a, "-MP") ||
		    !strcmp(a, "-MG")) {
			vms_argv_push(&p->dep_flags, a);
			continue;
		}
		if (!strcmp(a, "-MT") || !strcmp(a, "-MQ")) {
			if (!next) {
				not_eligible(p, "%s without a value", a);
				continue;
			}
			vms_argv_push(&p->dep_flags, a);
			vms_argv_push(&p->dep_flags, next);
			i++;
			continue;
		}
		if (!strncmp(a, "-MT", 3) || !strncmp(a, "-MQ", 3)) {
			vms_argv_push(&p->dep_flags, a);
			continue;
		}
		if (!strcmp(a, "-MF") || !strncmp(a, "-MF", 3)) {
			const char *v = a[3] ? a + 3 : next;
			if (!a[3])
				i++;
			if (!v) {
				not_eligible(p, "%s without a value", a);
				continue;
			}
			free(p->dep_file);
			p->dep_file = vms_xstrdup(v);
			continue;
		}
		if (!strcmp(a, "-target") && next) {
			bpf = is_bpf_target(next);
			vms_argv_push(&p->flags, a);
			vms_argv_push(&p->flags, next);
			i++;
			continue;
		}
		if (!strncmp(a, "--target=", 9)) {
			bpf = is_bpf_target(a + 9);
			vms_argv_push(&p->flags, a);
			continue;
		}
		static const char *const refuse[] = {
			"-E", "-S", "-M", "-MM", "-MJ", "-emit-llvm", "-fsyntax-only", "-x",
			"-include-pch", "-###", "-v", "--version", "-gmodules", "-fmodules",
			"--analyze", "-save-temps", "-emit-ast", "-MV", NULL,
		};
		for (size_t k = 0; refuse[k]; k++)
			if (!strcmp(a, refuse[k]) ||
			    (!strcmp(refuse[k], "-x") && !strncmp(a, "-x", 2)) ||
			    (!strcmp(refuse[k], "-save-temps") && !strncmp(a, "-save-temps", 11)))
				not_eligible(p, "option %s", a);
		if (!strncmp(a, "-print", 6) || !strncmp(a, "--print", 7) ||
		    !strncmp(a, "-fmodules", 9))
			not_eligible(p, "option %s", a);
		vms_argv_push(&p->flags, a);
		if (pch_opt_takes_arg(a) && next) {
			vms_argv_push(&p->flags, next);
			i++;
		}
	}
	if (!compile)
		not_eligible(p, "%s", "not a compile (-c)");
	if (!bpf)
		not_eligible(p, "%s", "not a BPF target");
	if (inputs != 1)
		not_eligible(p, "%s", "not exactly one input");
	if (!p->why_not && !p->output) {
		/* clang's default: the source's base name with .o, in the current directory */
		const char *base = vms_basename(p->source);
		p->output = vms_xasprintf("%.*s.o", (int)(strlen(base) - 2), base);
	}
	p->is_bpf_compile = !p->why_not;
}

void vms_cc_plan_free(struct vms_cc_plan *p)
{
	free(p->why_not);
	free(p->source);
	free(p->output);
	free(p->dep_file);
	vms_argv_free(&p->flags);
	vms_argv_free(&p->dep_flags);
	memset(p, 0, sizeof(*p));
}

/* ---- clang's diagnostics ---- */

void vms_clang_parse_diags(const char *text, struct vms_diags *d)
{
	static const struct {
		const char *tag;
		enum vms_severity sev;
	} tags[] = {
		{ ": fatal error: ", VMS_ERROR },
		{ ": error: ", VMS_ERROR },
		{ ": warning: ", VMS_WARNING },
		{ ": note: ", VMS_NOTE },
	};
	if (!text)
		return;
	const char *line = text;
	while (*line) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		char *l = vms_xstrndup(line, len);
		for (size_t t = 0; t < sizeof(tags) / sizeof(tags[0]); t++) {
			char *hit = strstr(l, tags[t].tag);
			const char *bare = tags[t].tag + 2; /* "error: " at the line start */
			if (!hit && !strncmp(l, bare, strlen(bare))) {
				vms_diag_add(d, tags[t].sev, NULL, 0, 0, "%s", l + strlen(bare));
				break;
			}
			if (!hit)
				continue;
			*hit = 0;
			const char *msg = hit + strlen(tags[t].tag);
			/* "file:line:col" — the file may itself contain ':' so parse from the right */
			int ln = 0, col = 0;
			char *c2 = strrchr(l, ':');
			if (c2) {
				char *end;
				long v2 = strtol(c2 + 1, &end, 10);
				if (!*end && end != c2 + 1) {
					*c2 = 0;
					char *c1 = strrchr(l, ':');
					long v1 = c1 ? strtol(c1 + 1, &end, 10) : 0;
					if (c1 && !*end && end != c1 + 1) {
						*c1 = 0;
						ln = (int)v1, col = (int)v2;
					} else {
						ln = (int)v2;
					}
				}
			}
			vms_diag_add(d, tags[t].sev, *l ? l : NULL, ln, col, "%s", msg);
			break;
		}
		free(l);
		line += len;
		if (*line == '\n')
			line++;
	}
}
