/* BPF builds through a PCH, and when the PCH path is safe to take.
 *
 * A build is `clang FLAGS -include-pch H.pch -c prog.c -o prog.o`, where H.pch was made
 * from the header with exactly FLAGS (pch.c). The program still says `#include
 * "vmlinux.h"`; that include must find a file (clang opens it even when it will skip it),
 * and finding *the header* keeps the result identical to a plain build: the PCH defined
 * the header's include guard, so the include is skipped — measured byte-identical objects
 * against a plain build with the same header on the -I path, with clang 14 and 19. Hence:
 *   - a header called vmlinux.h gets its own directory first on the -I path, exactly as
 *     a plain build would have it;
 *   - a header with another name (slim.h) is reached through a directory in the cache
 *     holding a symlink vmlinux.h -> the header, first on the -I path;
 *   - a header without an include guard (or #pragma once) would be included twice, so
 *     it takes the plain path.
 * The PCH acts as if it were included before the program's first line, so the program's
 * preamble must not be able to change the header's meaning; see source.c.
 *
 * -gmodules (type debug info left in the PCH instead of repeated in every object) is
 * taken only when all of these hold, because clang 14/19/22 crash in
 * BPFAbstractMemberAccess when CO-RE relocation meets -gmodules, and because the object's
 * BTF loses every header type to a forward declaration:
 *   1. BPF_NO_PRESERVE_ACCESS_INDEX is defined (by -D or the preamble), so vmlinux.h's
 *      `#pragma clang attribute push(preserve_access_index)` is off;
 *   2. the program text names no CO-RE builtin or macro (BPF_CORE_READ and friends use
 *      __builtin_preserve_access_index explicitly, pragma or not) and includes nothing
 *      but the header and libbpf's macro headers, whose CO-RE macros the scan knows;
 *   3. clang does not crash (a crash falls back to -g);
 *   4. the resulting object's BTF has no forward declaration where the plain build's
 *      has the type (btfcheck.c); otherwise the object is discarded and rebuilt with -g,
 *      and the verdict is remembered in the cache (keyed by the program's bytes, the
 *      header's bytes, the flags and the compiler) so the next build skips the trial.
 * Measured here: for the exec tracer -gmodules saves nothing (41 vs 42 ms); for a program
 * chasing task_struct with bpf_probe_read_kernel it takes 117 ms instead of 251 ms and
 * 6 KB instead of 615 KB. A slim header gets the same win without any of the caveats. */
#include "pch/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


static int file_exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Where `#include "vmlinux.h"` (or <vmlinux.h>) lands, searching like clang: the
 * source's directory (quoted form only), -iquote (quoted only), -I, -isystem,
 * -idirafter, then the usual system directories. */
static char *find_header(const char *source, int angled, const struct vms_argv *nflags)
{
	struct vms_argv dirs = { 0 };
	if (!angled) {
		char *sd = vms_dirname(source);
		char *abs = pch_abspath(sd);
		vms_argv_push(&dirs, abs);
		free(sd), free(abs);
		for (size_t i = 0; i + 1 < nflags->n; i++)
			if (!strcmp(nflags->v[i], "-iquote"))
				vms_argv_push(&dirs, nflags->v[i + 1]);
	}
	static const char *const kinds[] = { "-I", "-isystem", "-idirafter" };
	for (size_t k = 0; k < 3; k++)
		for (size_t i = 0; i < nflags->n; i++) {
			if (k == 0 && !strncmp(nflags->v[i], "-I", 2) && nflags->v[i][2])
				vms_argv_push(&dirs, nflags->v[i] + 2);
			else if (k > 0 && !strcmp(nflags->v[i], kinds[k]) && i + 1 < nflags->n)
				vms_argv_push(&dirs, nflags->v[i + 1]);
		}
	vms_argv_push(&dirs, "/usr/local/include");
	vms_argv_push(&dirs, "/usr/include");
	char *found = NULL;
	for (size_t i = 0; i < dirs.n && !found; i++) {
		char *cand = vms_xasprintf("%s/vmlinux.h", dirs.v[i]);
		if (file_exists(cand))
			found = cand;
		else
			free(cand);
	}
	vms_argv_free(&dirs);
	return found;
}

/* A directory whose vmlinux.h is a symlink to header (for headers named otherwise). */
static char *shim_dir(const char *cache, const char *header, struct vms_diags *d)
{
	char key[33];
	vms_hash128_hex(vms_hash128(header, strlen(header)), key);
	char *dir = vms_xasprintf("%s/inc/%s", cache, key);
	char *link = vms_xasprintf("%s/vmlinux.h", dir);
	char target[4096];
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = 0;
		if (!strcmp(target, header)) {
			free(link);
			return dir;
		}
	}
	int rc = vms_mkdir_p(dir, 0755);
	char *tmp = vms_xasprintf("%s.tmp.%d", link, (int)getpid());
	unlink(tmp);
	if (rc < 0 || symlink(header, tmp) < 0 || rename(tmp, link) < 0) {
		vms_diag_add(d, VMS_ERROR, dir, 0, 0, "cannot create the include shim: %s",
			     strerror(rc < 0 ? -rc : errno));
		unlink(tmp);
		free(tmp), free(link), free(dir);
		return NULL;
	}
	free(tmp), free(link);
	return dir;
}

/* Is BPF_NO_PRESERVE_ACCESS_INDEX defined at the end of these flags? */
static int flags_define_no_pai(const struct vms_argv *f)
{
	static const char name[] = "BPF_NO_PRESERVE_ACCESS_INDEX";
	size_t n = sizeof(name) - 1;
	int on = 0;
	for (size_t i = 0; i < f->n; i++) {
		const char *a = f->v[i];
		if ((!strncmp(a, "-D", 2) || !strncmp(a, "-U", 2)) && !strncmp(a + 2, name, n) &&
		    (!a[2 + n] || a[2 + n] == '='))
			on = a[1] == 'D';
	}
	return on;
}

static int looks_like_crash(const struct vms_proc_result *r)
{
	return r->signaled || r->exit_code >= 128 || strstr(r->err, "PLEASE submit a bug report") ||
	       strstr(r->err, "Stack dump:");
}

/* The dependency file of a PCH build differs from a plain build's in two ways: it
 * starts with the header's absolute path (clang lists the PCH's input file first), and
 * a header named otherwise is listed through the shim. Both name the real header, so
 * make would work either way; rewriting them, with clang's own line wrapping, makes the
 * file what a plain build writes. */
static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Splits make syntax into raw tokens (escapes kept), continuation lines joined. */
static void dep_tokens(const char *s, const char *end, struct vms_argv *out)
{
	struct vms_buf t = { 0 };
	for (const char *p = s; p <= end; p++) {
		int sep = p == end || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';
		if (p < end && *p == '\\' && p + 1 < end && p[1] == '\n') {
			p++;
			sep = 1;
		} else if (p < end && *p == '\\' && p + 1 < end) {
			vms_buf_append(&t, p, 2);
			p++;
			continue;
		}
		if (!sep) {
			vms_buf_append(&t, p, 1);
			continue;
		}
		if (t.len)
			vms_argv_push(out, t.data);
		vms_buf_free(&t);
	}
	vms_buf_free(&t);
}

static char *dep_unquote(const char *tok)
{
	struct vms_buf b = { 0 };
	for (const char *p = tok; *p; p++) {
		if (*p == '\\' && (p[1] == ' ' || p[1] == '#' || p[1] == '\\'))
			p++;
		else if (*p == '$' && p[1] == '$')
			p++;
		vms_buf_append(&b, p, 1);
	}
	return vms_buf_steal(&b);
}

static char *dep_quote(const char *path)
{
	struct vms_buf b = { 0 };
	for (const char *h = path; *h; h++) {
		if (*h == ' ' || *h == '#')
			vms_buf_append(&b, "\\", 1);
		else if (*h == '$')
			vms_buf_append(&b, "$", 1);
		vms_buf_append(&b, h, 1);
	}
	return vms_buf_steal(&b);
}

static void fix_depfile(const char *dep, const char *shim_path, const char *header,
			const char *source)
{
	char *text;
	size_t len;
	if (!dep || !header || vms_read_file(dep, &text, &len) < 0)
		return;
	/* the rule, then (with -MP) a blank line and one phony target per dependency */
	char *rule_end = strstr(text, "\n\n");
	const char *end = rule_end ? rule_end : text + len;
	struct vms_argv toks = { 0 }, targets = { 0 }, deps = { 0 };
	dep_tokens(text, end, &toks);
	size_t i = 0;
	for (; i < toks.n; i++) {
		size_t n = strlen(toks.v[i]);
		if (toks.v[i][n - 1] == ':' && (n < 2 || toks.v[i][n - 2] != '\\')) {
			if (n > 1) {
				char *t = vms_xstrndup(toks.v[i], n - 1);
				vms_argv_push(&targets, t);
				free(t);
			}
			i++;
			break;
		}
		vms_argv_push(&targets, toks.v[i]);
	}
	char *qheader = dep_quote(header);
	int changed = rule_end != NULL;
	const char *move_header = NULL;
	for (size_t k = i; k < toks.n; k++) {
		char *u = dep_unquote(toks.v[k]);
		if (shim_path && !strcmp(u, shim_path)) {
			vms_argv_push(&deps, qheader);
			changed = 1;
		} else if (k == i && !strcmp(u, header)) {
			/* The PCH's input file. If the program's include named the header under
			 * another spelling it is listed again later: drop this one. Otherwise clang
			 * merged the two, and the entry belongs where a plain build lists it,
			 * right after the source (the header is the program's first include). */
			int elsewhere = 0;
			for (size_t m = k + 1; m < toks.n && !elsewhere; m++) {
				char *um = dep_unquote(toks.v[m]);
				elsewhere = same_file(um, header) || (shim_path && !strcmp(um, shim_path));
				free(um);
			}
			changed = 1;
			if (!elsewhere)
				move_header = toks.v[k];
		} else if (move_header && !strcmp(u, source)) {
			vms_argv_push(&deps, toks.v[k]);
			vms_argv_push(&deps, move_header);
			move_header = NULL;
		} else {
			vms_argv_push(&deps, toks.v[k]);
		}
		free(u);
	}
	if (move_header) /* the source was not found: keep clang's order */
		vms_argv_push(&deps, move_header), changed = 0;
	if (changed && targets.n) {
		/* clang's layout (DependencyFileGenerator::outputDependencyFile) */
		struct vms_buf b = { 0 };
		unsigned cols = 0;
		for (size_t k = 0; k < targets.n; k++) {
			unsigned n = (unsigned)strlen(targets.v[k]);
			if (!cols) {
				cols = n;
			} else if (cols + n + 2 > 75) {
				cols = n + 2;
				vms_buf_puts(&b, " \\\n  ");
			} else {
				cols += n + 1;
				vms_buf_puts(&b, " ");
			}
			vms_buf_puts(&b, targets.v[k]);
		}
		vms_buf_puts(&b, ":");
		cols += 1;
		for (size_t k = 0; k < deps.n; k++) {
			char *u = dep_unquote(deps.v[k]);
			unsigned n = (unsigned)strlen(u);
			free(u);
			if (cols + (n + 1) + 2 > 75) {
				vms_buf_puts(&b, " \\\n ");
				cols = 2;
			}
			vms_buf_puts(&b, " ");
			vms_buf_puts(&b, deps.v[k]);
			cols += n + 1;
		}
		vms_buf_puts(&b, "\n");
		if (rule_end) {
			/* -MP: a phony target per dependency but the main file. Clang's own list
			 * is off by one under -include-pch (it skips the PCH's input instead of
			 * the source), so it is rebuilt from the dependencies. */
			int skipped = 0;
			for (size_t k = 0; k < deps.n; k++) {
				char *u = dep_unquote(deps.v[k]);
				if (!skipped && !strcmp(u, source))
					skipped = 1;
				else
					vms_buf_printf(&b, "\n%s:\n", deps.v[k]);
				free(u);
			}
		}
		vms_write_file_atomic(dep, b.data, b.len, 0644);
		vms_buf_free(&b);
	}
	free(qheader);
	vms_argv_free(&toks);
	vms_argv_free(&targets);
	vms_argv_free(&deps);
	free(text);
}

/* What the dependency options say, from dep_flags and from the flags themselves
 * (`vmslim build -- -MD -MF x.d` passes them as ordinary flags). */
struct depinfo {
	char *path;		/* the file clang writes, or NULL */
	int has_md, has_target, has_mf;
};

static void dep_scan(const char *const *v, struct depinfo *di)
{
	for (size_t i = 0; v && v[i]; i++) {
		const char *a = v[i];
		if (!strcmp(a, "-MD") || !strcmp(a, "-MMD"))
			di->has_md = 1;
		else if (!strncmp(a, "-MT", 3) || !strncmp(a, "-MQ", 3))
			di->has_target = 1;
		else if (!strcmp(a, "-MF") && v[i + 1]) {
			free(di->path);
			di->path = vms_xstrdup(v[++i]);
			di->has_mf = 1;
		} else if (!strncmp(a, "-MF", 3) && a[3]) {
			free(di->path);
			di->path = vms_xstrdup(a + 3);
			di->has_mf = 1;
		} else if (pch_opt_takes_arg(a) && v[i + 1]) {
			i++;
		}
	}
}

static void dep_info(const struct vms_build_opts *o, struct depinfo *di)
{
	memset(di, 0, sizeof(*di));
	dep_scan(o->flags, di);
	dep_scan(o->dep_flags, di);
	if (o->dep_file) {
		free(di->path);
		di->path = vms_xstrdup(o->dep_file);
		di->has_mf = 1;
	}
	if (!di->path && di->has_md) {
		/* clang's default: the output with its extension replaced by .d */
		const char *base = o->output;
		const char *dot = strrchr(vms_basename(base), '.');
		di->path = vms_xasprintf("%.*s.d", (int)(dot ? (size_t)(dot - base) : strlen(base)), base);
	}
	if (!di->has_md)
		di->path = (free(di->path), NULL); /* -MF alone writes nothing */
}

static int build_flags(const char *header, const char *const *user, int raw,
		       const struct vms_argv *more_defines, const char *cache, struct vms_argv *out,
		       char **shim_path, struct vms_diags *d)
{
	if (!raw) {
		vms_argv_push(out, "--target=bpf");
		vms_argv_push(out, "-g");
		vms_argv_push(out, "-O2");
		int has_arch = 0;
		for (size_t i = 0; user && user[i]; i++)
			has_arch |= strstr(user[i], "__TARGET_ARCH_") != NULL;
		for (size_t i = 0; more_defines && i < more_defines->n; i++)
			has_arch |= strstr(more_defines->v[i], "__TARGET_ARCH_") != NULL;
		if (!has_arch && vms_bpf_host_arch_define())
			vms_argv_push(out, vms_bpf_host_arch_define());
	}
	if (header) {
		if (!strcmp(vms_basename(header), "vmlinux.h")) {
			char *dir = vms_dirname(header);
			vms_argv_pushf(out, "-I%s", dir);
			free(dir);
		} else {
			char *shim = shim_dir(cache, header, d);
			if (!shim)
				return -EIO;
			if (shim_path)
				*shim_path = vms_xasprintf("%s/vmlinux.h", shim);
			vms_argv_pushf(out, "-I%s", shim);
			free(shim);
		}
	}
	for (size_t i = 0; user && user[i]; i++)
		vms_argv_push(out, user[i]);
	return 0;
}

int vms_build_flags(const char *header, const char *const *user_flags, int raw,
		    const char *cache_dir, struct vms_argv *out, struct vms_diags *d)
{
	memset(out, 0, sizeof(*out));
	char *cache = cache_dir ? vms_xstrdup(cache_dir) : vms_cache_dir_default();
	char *abs = header ? pch_abspath(header) : NULL;
	int rc = build_flags(abs, user_flags, raw, NULL, cache, out, NULL, d);
	free(abs);
	free(cache);
	return rc;
}

/* Where the verdict "-gmodules is not safe for this program" is remembered. */
static char *verdict_path(const char *cache, const struct vms_compiler *cc, const char *src,
			  size_t src_len, struct vms_hash128 header_hash, const struct vms_argv *flags)
{
	struct vms_hasher *h = vms_hasher_new();
	vms_hasher_update_str(h, "vmslim-gmodules-verdict 1");
	vms_hasher_update_str(h, cc->id_hex);
	vms_hasher_update(h, &header_hash, sizeof(header_hash));
	vms_hasher_update(h, &src_len, sizeof(src_len));
	vms_hasher_update(h, src, src_len);
	for (size_t i = 0; i < flags->n; i++)
		vms_hasher_update_str(h, flags->v[i]);
	char key[33];
	vms_hash128_hex(vms_hasher_digest(h), key);
	vms_hasher_free(h);
	return vms_xasprintf("%s/gmodules/%s", cache, key);
}

struct compile {
	const struct vms_compiler *cc;
	const struct vms_argv *flags;
	const char *pch;
	const char *include;		/* -include this header (a small one, instead of a PCH) */
	int gmodules;
	const struct vms_build_opts *o;
	const char *output;		/* where clang writes (a temporary during a trial) */
	int explicit_deps;		/* to a temporary: name dep file and target explicitly */
	const struct depinfo *deps;
};

static int run_compile(const struct compile *c, struct vms_proc_result *r, struct vms_diags *d)
{
	struct vms_argv av = { 0 };
	vms_argv_push(&av, c->cc->path);
	for (size_t i = 0; i < c->flags->n; i++)
		vms_argv_push(&av, c->flags->v[i]);
	if (c->gmodules) {
		vms_argv_push(&av, "-gmodules");
		/* a -gmodules trial may crash clang by design: no reproducer files in /tmp */
		vms_argv_push(&av, "-fno-crash-diagnostics");
	}
	if (c->pch) {
		vms_argv_push(&av, "-include-pch");
		vms_argv_push(&av, c->pch);
	}
	if (c->include) {
		vms_argv_push(&av, "-include");
		vms_argv_push(&av, c->include);
	}
	for (size_t i = 0; c->o->dep_flags && c->o->dep_flags[i]; i++)
		vms_argv_push(&av, c->o->dep_flags[i]);
	if (c->o->dep_file) {
		vms_argv_push(&av, "-MF");
		vms_argv_push(&av, c->o->dep_file);
	}
	/* writing to a temporary output, clang would name the dependency file and its
	 * target after the temporary: name both after the real output */
	if (c->explicit_deps && c->deps->path && !c->deps->has_mf) {
		vms_argv_push(&av, "-MF");
		vms_argv_push(&av, c->deps->path);
	}
	if (c->explicit_deps && c->deps->path && !c->deps->has_target) {
		vms_argv_push(&av, "-MQ");
		vms_argv_push(&av, c->o->output);
	}
	vms_argv_push(&av, "-c");
	vms_argv_push(&av, c->o->source);
	vms_argv_push(&av, "-o");
	vms_argv_push(&av, c->output);
	int rc = vms_run(av.v, NULL, 0, VMS_PCH_CLANG_TIMEOUT_MS, r);
	if (rc < 0)
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "cannot run %s: %s", c->cc->path, strerror(-rc));
	vms_argv_free(&av);
	return rc;
}

static void set_mode(struct vms_build_result *r, char *mode)
{
	free(r->mode);
	r->mode = mode;
}

static int finish(struct vms_build_result *r, struct vms_proc_result *pr, struct vms_diags *d)
{
	free(r->clang_stderr);
	r->clang_stderr = pr->err;
	pr->err = NULL;
	r->clang_exit = pr->exit_code;
	if (pr->timed_out)
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "clang timed out");
	vms_proc_result_free(pr);
	return r->clang_exit == 0 ? 0 : 1;
}

int vms_build(const struct vms_build_opts *o, struct vms_build_result *r, struct vms_diags *d)
{
	memset(r, 0, sizeof(*r));
	r->clang_stderr = vms_xstrdup("");
	double t0 = vms_now_ms();
	char *cache = o->cache_dir ? vms_xstrdup(o->cache_dir) : vms_cache_dir_default();
	struct vms_compiler cc = { 0 };
	struct pch_preamble pre = { 0 };
	struct vms_argv flags = { 0 }, nflags = { 0 };
	char *header = NULL, *shim_path = NULL, *src = NULL, *why = NULL, *tmp_out = NULL;
	size_t small = 0; /* the header's size when it is too small to be worth a PCH */
	int rc, lock = -1, lock_gm = -1, installed = 0;
	struct vms_hash128 header_hash = { 0 };
	char *verdict = NULL;
	struct vms_pch_info info = { 0 }, info_gm = { 0 };

	struct depinfo deps;
	dep_info(o, &deps);
	const char *depf = deps.path;
	rc = vms_compiler_identify(o->clang, cache, &cc, d);
	if (rc < 0)
		goto out;

	size_t src_len = 0;
	rc = vms_read_file(o->source, &src, &src_len);
	if (rc < 0) {
		if (o->require_pch) {
			set_mode(r, vms_xasprintf("plain: cannot read %s", o->source));
			rc = 2;
		} else {
			vms_diag_add(d, VMS_ERROR, o->source, 0, 0, "cannot read: %s", strerror(-rc));
		}
		goto out;
	}
	pch_scan_preamble(src, src_len, &pre);

	/* clang writes beside the output and the object is renamed into place on success,
	 * so a failed build leaves the previous object as it was (clang alone deletes it).
	 * Standard output and devices are written directly. */
	struct stat ost;
	if (strcmp(o->output, "-") && (stat(o->output, &ost) < 0 || S_ISREG(ost.st_mode))) {
		char *dir = vms_dirname(o->output);
		int e = access(dir, W_OK | X_OK) < 0 ? errno : 0;
		free(dir);
		if (e && !o->require_pch) {
			vms_diag_add(d, VMS_ERROR, o->output, 0, 0, "cannot write: %s", strerror(e));
			rc = -e;
			goto out;
		}
		tmp_out = vms_xasprintf("%s.tmp.%d", o->output, (int)getpid());
		vms_cleanup_add_path(tmp_out);
	}

	/* The flags, in the order clang will see them. */
	if (o->header) {
		header = pch_abspath(o->header);
		if (!file_exists(header)) {
			vms_diag_add(d, VMS_ERROR, o->header, 0, 0, "header not found");
			rc = -ENOENT;
			goto out;
		}
	}
	rc = build_flags(header, o->flags, o->raw_flags, &pre.defines, cache, &flags, &shim_path, d);
	if (rc < 0)
		goto out;
	vms_flags_normalize((const char *const *)flags.v, &nflags);
	if (!header && pre.found)
		header = find_header(o->source, pre.angled, &nflags);

	/* Which path: plain, PCH with -g, or PCH with -gmodules. */
	if (o->no_pch)
		why = vms_xstrdup("plain: PCH disabled");
	else if (!pre.found || !pre.simple)
		why = vms_xasprintf("plain: %s", pre.why);
	else if (!header)
		why = vms_xstrdup("plain: \"vmlinux.h\" not found on the include path");
	if (!why) {
		char *htext;
		size_t hlen;
		if (vms_read_file(header, &htext, &hlen) < 0) {
			why = vms_xasprintf("plain: cannot read %s", header);
		} else {
			size_t min = o->pch_min_bytes ? o->pch_min_bytes : VMS_PCH_MIN_HEADER_BYTES;
			if (!pch_header_guarded(htext, hlen))
				why = vms_xasprintf("plain: %s has no include guard", header);
			else if (hlen < min)
				small = hlen;
			header_hash = vms_hash128(htext, hlen);
			free(htext);
		}
	}
	if (why) {
		set_mode(r, why);
		why = NULL;
		if (o->require_pch) {
			rc = 2;
			goto out;
		}
	}
	/* A small header is cheaper to parse than a PCH is to load. It is still put in front
	 * with -include, as a PCH would be, so that --header wins over a vmlinux.h lying
	 * next to the program (its include guard then skips the program's own include). */
	if (small && !r->mode) {
		set_mode(r, vms_xasprintf("plain: the header is small (%zu KB), parsing it costs "
					  "less than loading a PCH", small / 1024));
		if (o->require_pch) {
			rc = 2;
			goto out;
		}
	} else {
		small = 0;
	}
	/* the preamble's #defines shape the header: both PCH and compile get them */
	for (size_t i = 0; i < pre.defines.n && (!r->mode || small); i++)
		vms_argv_push(&flags, pre.defines.v[i]);

	struct vms_proc_result pr;
	struct compile c = { .cc = &cc, .flags = &flags, .o = o, .deps = &deps,
			     .output = tmp_out ? tmp_out : o->output, .explicit_deps = !!tmp_out };
	if (r->mode) { /* plain */
		c.include = small ? header : NULL;
		double t1 = vms_now_ms();
		rc = run_compile(&c, &pr, d);
		r->compile_ms = vms_now_ms() - t1;
		if (rc == 0)
			rc = finish(r, &pr, d);
		fix_depfile(depf, shim_path, header, o->source);
		goto out;
	}
	r->header_path = vms_xstrdup(header);

	int try_gm = o->gmodules == VMS_GMODULES_ALWAYS;
	const char *gm_why = NULL;
	if (o->gmodules == VMS_GMODULES_AUTO) {
		if (!flags_define_no_pai(&flags) && !pre.defines_no_pai)
			gm_why = "CO-RE in play (BPF_NO_PRESERVE_ACCESS_INDEX not defined)";
		else if (pre.uses_core)
			gm_why = "CO-RE in play (the program uses CO-RE builtins or macros)";
		else if (pre.other_includes)
			gm_why = "the program includes headers that might use CO-RE";
		else
			try_gm = 1;
		if (try_gm) {
			verdict = verdict_path(cache, &cc, src, src_len, header_hash, &flags);
			char *old;
			if (vms_read_file(verdict, &old, NULL) == 0) {
				set_mode(r, vms_xasprintf("PCH (-g): -gmodules object rejected: %s", old));
				free(old);
				try_gm = 0;
			}
		}
	} else if (o->gmodules == VMS_GMODULES_NEVER) {
		gm_why = "-gmodules disabled";
	}

	struct vms_pch_opts po = {
		.header = header, .flags = (const char *const *)flags.v, .clang = o->clang,
		.cache_dir = cache, .trust_pch_bytes = o->trust_pch_bytes,
	};
	double tp = vms_now_ms();
	if (try_gm) {
		po.gmodules = 1;
		lock_gm = pch_ensure_locked(&po, &cc, &info_gm, d);
		r->pch_ms += vms_now_ms() - tp;
		if (lock_gm >= 0) {
			r->pch_rebuilt |= info_gm.rebuilt;
			char *tmp = vms_xasprintf("%s.gm.tmp.%d.o", o->output, (int)getpid());
			vms_cleanup_add_path(tmp);
			c.pch = info_gm.pch_path;
			c.gmodules = 1;
			c.output = tmp;
			c.explicit_deps = 1;
			double t1 = vms_now_ms();
			rc = run_compile(&c, &pr, d);
			r->compile_ms += vms_now_ms() - t1;
			close(lock_gm);
			lock_gm = -1;
			if (rc < 0) {
				vms_cleanup_remove_path(tmp), free(tmp);
				goto out;
			}
			if (pr.exit_code == 0) {
				char *bad = NULL;
				int ok = pch_gmodules_object_ok(tmp, &bad);
				if (ok == 1 && rename(tmp, o->output) == 0) {
					vms_cleanup_remove_path(tmp), free(tmp);
					installed = 1;
					r->used_pch = r->used_gmodules = 1;
					r->pch_path = vms_xstrdup(info_gm.pch_path);
					set_mode(r, vms_xstrdup("PCH (-gmodules): no CO-RE in play"));
					rc = finish(r, &pr, d);
					fix_depfile(depf, shim_path, header, o->source);
					goto out;
				}
				set_mode(r, vms_xasprintf("PCH (-g): -gmodules object rejected: %s",
							  bad ? bad : strerror(errno)));
				if (ok == 0 && verdict) {
					char *dir = vms_dirname(verdict);
					if (vms_mkdir_p(dir, 0755) == 0)
						vms_write_file_atomic(verdict, bad, strlen(bad), 0644);
					free(dir);
				}
				free(bad);
			} else if (looks_like_crash(&pr)) {
				set_mode(r, vms_xstrdup("PCH (-g): clang crashed with -gmodules"));
			} else {
				/* an ordinary compile error: it would be the same with -g */
				unlink(tmp);
				vms_cleanup_remove_path(tmp), free(tmp);
				r->used_pch = r->used_gmodules = 1;
				r->pch_path = vms_xstrdup(info_gm.pch_path);
				set_mode(r, vms_xstrdup("PCH (-gmodules): no CO-RE in play"));
				rc = finish(r, &pr, d);
				goto out;
			}
			unlink(tmp);
			vms_cleanup_remove_path(tmp), free(tmp);
			vms_proc_result_free(&pr);
		} else {
			free(r->clang_stderr);
			r->clang_stderr = vms_xstrdup(info_gm.clang_stderr);
			set_mode(r, vms_xstrdup("plain: building the PCH failed"));
			rc = o->require_pch ? 2 : lock_gm;
			goto out;
		}
	} else if (gm_why) {
		set_mode(r, vms_xasprintf("PCH (-g): %s", gm_why));
	}

	tp = vms_now_ms();
	po.gmodules = 0;
	lock = pch_ensure_locked(&po, &cc, &info, d);
	r->pch_ms += vms_now_ms() - tp;
	if (lock < 0) {
		free(r->clang_stderr);
		r->clang_stderr = vms_xstrdup(info.clang_stderr);
		set_mode(r, vms_xstrdup("plain: building the PCH failed"));
		rc = o->require_pch ? 2 : lock;
		goto out;
	}
	r->pch_rebuilt |= info.rebuilt;
	r->used_pch = 1;
	r->pch_path = vms_xstrdup(info.pch_path);
	c.pch = info.pch_path;
	c.gmodules = 0;
	c.output = tmp_out ? tmp_out : o->output;
	c.explicit_deps = !!tmp_out;
	double t1 = vms_now_ms();
	rc = run_compile(&c, &pr, d);
	r->compile_ms += vms_now_ms() - t1;
	if (rc == 0 && pr.exit_code != 0 && strstr(pr.err, "has been modified since the precompiled header")) {
		/* the header moved between our check and clang's: clang refused, as it should;
		 * one more round rebuilds the PCH */
		vms_proc_result_free(&pr);
		close(lock);
		struct vms_pch_info again;
		lock = pch_ensure_locked(&po, &cc, &again, d);
		if (lock < 0) {
			vms_pch_info_free(&again);
			rc = lock;
			goto out;
		}
		r->pch_rebuilt |= again.rebuilt;
		free(r->pch_path);
		r->pch_path = vms_xstrdup(again.pch_path);
		c.pch = r->pch_path;
		rc = run_compile(&c, &pr, d);
		vms_pch_info_free(&again);
	}
	if (rc == 0) {
		rc = finish(r, &pr, d);
		fix_depfile(depf, shim_path, header, o->source);
	}
out:
	if (tmp_out) {
		if (rc == 0 && !installed && rename(tmp_out, o->output) < 0) {
			rc = -errno;
			vms_diag_add(d, VMS_ERROR, o->output, 0, 0, "cannot write: %s", strerror(-rc));
		}
		unlink(tmp_out);
		vms_cleanup_remove_path(tmp_out);
		free(tmp_out);
	}
	if (lock >= 0)
		close(lock);
	if (lock_gm >= 0)
		close(lock_gm);
	if (!r->mode)
		r->mode = vms_xstrdup("not built");
	vms_pch_info_free(&info);
	vms_pch_info_free(&info_gm);
	vms_compiler_free(&cc);
	pch_preamble_free(&pre);
	vms_argv_free(&flags);
	vms_argv_free(&nflags);
	free(header), free(shim_path), free(src), free(why), free(cache), free(verdict), free(deps.path);
	r->total_ms = vms_now_ms() - t0;
	return rc;
}

void vms_build_result_free(struct vms_build_result *r)
{
	free(r->mode);
	free(r->pch_path);
	free(r->header_path);
	free(r->clang_stderr);
	memset(r, 0, sizeof(*r));
}
