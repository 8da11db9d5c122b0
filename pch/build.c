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
 *      has the type (bpfobj/btfcheck.c); otherwise the object is discarded and rebuilt with -g,
 *      and the verdict is remembered in the cache (keyed by the program's bytes, the
 *      header's bytes, the flags and the compiler) so the next build skips the trial.
 * Measured here: for the exec tracer -gmodules saves nothing (41 vs 42 ms); for a program
 * chasing task_struct with bpf_probe_read_kernel it takes 117 ms instead of 251 ms and
 * 6 KB instead of 615 KB. A slim header gets the same win without any of the caveats.
 *
 * vms_build() is a plan (inputs, flags, which path), the clang runs (compile.c), and a
 * verdict (what clang's answer and the -gmodules object mean for the result); the
 * dependency file is rewritten by depfile.c. A compile server (o->via: the daemon's clang
 * snapshots) is asked first for the plain and the -g PCH compile; what it answers is
 * clang's own answer, so the verdict is the same. */
#include "pch/internal.h"
#include "bpfobj/bpfobj.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the header and the flags ---- */

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

/* The flags up to the user's, as vms_bpf_cmdline() puts them (without argv[0]): the BPF
 * defaults unless raw (target, debug info, which BTF comes from, optimization, the host's
 * -D__TARGET_ARCH_ unless the user's flags or the program's preamble, more_defines, name
 * an arch), the -I that makes `#include "vmlinux.h"` find the header, the user's flags. */
static int build_flags(const char *header, const char *const *user, int raw,
		       const struct vms_argv *more_defines, const char *cache, struct vms_argv *out,
		       char **shim_path, struct vms_diags *d)
{
	char *inc = NULL;
	if (header) {
		if (!strcmp(vms_basename(header), "vmlinux.h")) {
			inc = vms_dirname(header);
		} else {
			inc = shim_dir(cache, header, d);
			if (!inc)
				return -EIO;
			if (shim_path)
				*shim_path = vms_xasprintf("%s/vmlinux.h", inc);
		}
	}
	const char *const incs[] = { inc };
	struct vms_bpf_cmd c = {
		.opts = raw ? VMS_BPF_RAW : VMS_BPF_DEBUG | VMS_BPF_O2,
		.inc_dirs = { incs, inc ? 1 : 0 },
		.user = { VMS_ARGS(user) },
	};
	if (more_defines)
		c.source_defines = (struct vms_args){ (const char *const *)more_defines->v,
						      more_defines->n };
	vms_bpf_cmdline(&c, out);
	free(inc);
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


static void set_mode(struct vms_build_result *r, char *mode)
{
	free(r->mode);
	r->mode = mode;
}

/* ---- plan: the inputs, the flags, and which path ---- */

/* The compiler, the program and its preamble, where clang writes, the header and the
 * flags, in the order clang will see them. 0, 2 (require_pch: the program is
 * unreadable), or -errno with a diagnostic. */
static int plan_inputs(struct pch_build *b)
{
	const struct vms_build_opts *o = b->o;
	int rc = vms_compiler_identify(o->clang, b->cache, &b->cc, b->d);
	if (rc < 0)
		return rc;
	rc = vms_read_file(o->source, &b->src, &b->src_len);
	if (rc < 0) {
		if (!o->require_pch) {
			vms_diag_add(b->d, VMS_ERROR, o->source, 0, 0, "cannot read: %s", strerror(-rc));
			return rc;
		}
		set_mode(b->r, vms_xasprintf("plain: cannot read %s", o->source));
		return 2;
	}
	pch_scan_preamble(b->src, b->src_len, &b->pre);

	/* clang writes beside the output and the object is renamed into place on success,
	 * so a failed build leaves the previous object as it was (clang alone deletes it).
	 * Standard output and devices are written directly. */
	struct stat ost;
	if (strcmp(o->output, "-") && (stat(o->output, &ost) < 0 || S_ISREG(ost.st_mode))) {
		char *dir = vms_dirname(o->output);
		int e = access(dir, W_OK | X_OK) < 0 ? errno : 0;
		free(dir);
		if (e && !o->require_pch) {
			vms_diag_add(b->d, VMS_ERROR, o->output, 0, 0, "cannot write: %s", strerror(e));
			return -e;
		}
		b->tmp_out = vms_xasprintf("%s.tmp.%d", o->output, (int)getpid());
		vms_cleanup_add_path(b->tmp_out);
	}

	if (o->header) {
		b->header = pch_abspath(o->header);
		if (!file_exists(b->header)) {
			vms_diag_add(b->d, VMS_ERROR, o->header, 0, 0, "header not found");
			return -ENOENT;
		}
	}
	rc = build_flags(b->header, o->flags, o->raw_flags, &b->pre.defines, b->cache, &b->flags,
			 &b->shim_path, b->d);
	if (rc < 0)
		return rc;
	if (!b->header && b->pre.found) {
		struct vms_argv nflags = { 0 };
		vms_flags_normalize((const char *const *)b->flags.v, &nflags);
		b->header = find_header(o->source, b->pre.angled, &nflags);
		vms_argv_free(&nflags);
	}
	return 0;
}

/* Why this build cannot take the PCH path (owned), or NULL; reads the header, noting
 * its hash and whether it is too small to be worth a PCH. */
static char *why_plain(struct pch_build *b)
{
	const struct vms_build_opts *o = b->o;
	if (o->no_pch)
		return vms_xstrdup("plain: PCH disabled");
	if (!b->pre.found || !b->pre.simple)
		return vms_xasprintf("plain: %s", b->pre.why);
	if (!b->header)
		return vms_xstrdup("plain: \"vmlinux.h\" not found on the include path");
	char *htext, *why = NULL;
	size_t hlen;
	if (vms_read_file(b->header, &htext, &hlen) < 0)
		return vms_xasprintf("plain: cannot read %s", b->header);
	size_t min = o->pch_min_bytes ? o->pch_min_bytes : VMS_PCH_MIN_HEADER_BYTES;
	if (!pch_header_guarded(htext, hlen))
		why = vms_xasprintf("plain: %s has no include guard", b->header);
	else if (hlen < min)
		b->small = hlen;
	b->header_hash = vms_hash128(htext, hlen);
	free(htext);
	return why;
}

/* Whether to try -gmodules first (b->try_gm), or why not (b->gm_why, or a remembered
 * verdict in r->mode). */
static void plan_gmodules(struct pch_build *b)
{
	const struct vms_build_opts *o = b->o;
	b->try_gm = o->gmodules == VMS_GMODULES_ALWAYS;
	if (o->gmodules == VMS_GMODULES_NEVER) {
		b->gm_why = "-gmodules disabled";
		return;
	}
	if (o->gmodules != VMS_GMODULES_AUTO)
		return;
	if (!flags_define_no_pai(&b->flags) && !b->pre.defines_no_pai)
		b->gm_why = "CO-RE in play (BPF_NO_PRESERVE_ACCESS_INDEX not defined)";
	else if (b->pre.uses_core)
		b->gm_why = "CO-RE in play (the program uses CO-RE builtins or macros)";
	else if (b->pre.other_includes)
		b->gm_why = "the program includes headers that might use CO-RE";
	else
		b->try_gm = 1;
	if (!b->try_gm)
		return;
	b->verdict = verdict_path(b->cache, &b->cc, b->src, b->src_len, b->header_hash, &b->flags);
	char *old;
	if (vms_read_file(b->verdict, &old, NULL) == 0) {
		set_mode(b->r, vms_xasprintf("PCH (-g): -gmodules object rejected: %s", old));
		free(old);
		b->try_gm = 0;
	}
}

/* Which path: plain (b->plain), PCH with -g, or PCH with -gmodules first. 0, or 2 when
 * require_pch and the PCH path does not apply. */
static int plan_path(struct pch_build *b)
{
	const struct vms_build_opts *o = b->o;
	struct vms_build_result *r = b->r;
	char *why = why_plain(b);
	if (why) {
		set_mode(r, why);
		if (o->require_pch)
			return 2;
	}
	/* A small header is cheaper to parse than a PCH is to load. It is still put in front
	 * with -include, as a PCH would be, so that --header wins over a vmlinux.h lying
	 * next to the program (its include guard then skips the program's own include). */
	if (b->small && !r->mode) {
		set_mode(r, vms_xasprintf("plain: the header is small (%zu KB), parsing it costs "
					  "less than loading a PCH", b->small / 1024));
		if (o->require_pch && !o->via)
			return 2;
		b->via_only = o->require_pch;
	} else {
		b->small = 0;
	}
	/* the preamble's #defines shape the header: both PCH and compile get them */
	for (size_t i = 0; i < b->pre.defines.n && (!r->mode || b->small); i++)
		vms_argv_push(&b->flags, b->pre.defines.v[i]);
	b->plain = r->mode != NULL;
	if (b->plain)
		return 0;
	r->header_path = vms_xstrdup(b->header);
	plan_gmodules(b);
	b->po = (struct vms_pch_opts){
		.header = b->header, .flags = (const char *const *)b->flags.v, .clang = o->clang,
		.cache_dir = b->cache, .seal_in = o->pch_seal_in,
		.no_crash_diagnostics = o->sandbox != NULL,
	};
	return 0;
}

/* ---- verdict: what clang's run means for the result ---- */

/* Clang ran: its answer becomes the result (0 compiled, 1 clang reported errors). */
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

/* The PCH could not be built: a plain build's answer, or 2 with require_pch. */
static int no_pch(struct pch_build *b, const struct vms_pch_info *info, int lock)
{
	free(b->r->clang_stderr);
	b->r->clang_stderr = vms_xstrdup(info->clang_stderr);
	set_mode(b->r, vms_xstrdup("plain: building the PCH failed"));
	return b->o->require_pch ? 2 : lock;
}

/* The -gmodules object compiled: it is kept when its BTF is complete (bpfobj/btfcheck.c),
 * otherwise the rejection is remembered for the next build. 1 kept (installed as the
 * output), 0 rejected. */
static int judge_gmodules_object(struct pch_build *b, const char *tmp)
{
	struct vms_diags why = { 0 };
	int ok = vms_btf_gmodules_complete(tmp, &why);
	const char *bad = why.n ? why.v[0].msg : NULL;
	if (ok == 1 && rename(tmp, b->o->output) == 0) {
		vms_diags_free(&why);
		b->installed = 1;
		return 1;
	}
	set_mode(b->r, vms_xasprintf("PCH (-g): -gmodules object rejected: %s",
				     bad ? bad : strerror(errno)));
	if (ok == 0 && b->verdict) {
		char *dir = vms_dirname(b->verdict);
		if (vms_mkdir_p(dir, 0755) == 0)
			vms_write_file_atomic(b->verdict, bad, strlen(bad), 0644);
		free(dir);
	}
	vms_diags_free(&why);
	return 0;
}

/* The -gmodules trial and its verdict. Returns 1 when the build is decided (*rc its
 * answer), 0 when it falls back to the -g PCH. */
static int try_gmodules(struct pch_build *b, int *rc)
{
	struct vms_build_result *r = b->r;
	struct vms_proc_result pr;
	char *tmp = vms_xasprintf("%s.gm.tmp.%d.o", b->o->output, (int)getpid());
	vms_cleanup_add_path(tmp);
	int decided = 1;
	*rc = pch_compile_gmodules(b, tmp, &pr);
	if (*rc == PCH_NO_PCH) {
		*rc = no_pch(b, &b->info_gm, b->lock_gm);
	} else if (*rc < 0 || *rc == PCH_REFUSED) {
		/* clang did not run, or the audit refused the program */
	} else if (pr.exit_code == 0 ? judge_gmodules_object(b, tmp)
				     : !pch_looks_like_crash(&pr)) {
		/* kept, or an ordinary compile error: it would be the same with -g */
		r->used_pch = r->used_gmodules = 1;
		r->pch_path = vms_xstrdup(b->info_gm.pch_path);
		set_mode(r, vms_xstrdup("PCH (-gmodules): no CO-RE in play"));
		*rc = finish(r, &pr, b->d);
		if (b->installed)
			pch_fix_depfile(b->deps.path, b->shim_path, b->header, b->o->source);
	} else {
		if (pr.exit_code != 0)
			set_mode(r, vms_xstrdup("PCH (-g): clang crashed with -gmodules"));
		vms_proc_result_free(&pr);
		decided = 0;
	}
	if (!b->installed)
		unlink(tmp);
	vms_cleanup_remove_path(tmp);
	free(tmp);
	return decided;
}

/* Puts clang's output in place when the build succeeded; the temporary goes either way. */
static int install_output(struct pch_build *b, int rc)
{
	if (!b->tmp_out)
		return rc;
	if (rc == 0 && !b->installed && rename(b->tmp_out, b->o->output) < 0) {
		rc = -errno;
		vms_diag_add(b->d, VMS_ERROR, b->o->output, 0, 0, "cannot write: %s", strerror(-rc));
	}
	unlink(b->tmp_out);
	vms_cleanup_remove_path(b->tmp_out);
	return rc;
}

/* ---- vms_build: plan, compile, verdict ---- */

static int build(struct pch_build *b)
{
	struct vms_proc_result pr;
	int rc = plan_inputs(b);
	if (rc == 0)
		rc = plan_path(b);
	if (rc != 0)
		return rc;
	if (b->plain) {
		if (pch_compile_via(b, &rc)) {
			pch_fix_depfile(b->deps.path, b->shim_path, b->header, b->o->source);
			return rc;
		}
		if (b->via_only)
			return 2;
		rc = pch_compile_plain(b, &pr);
		if (rc == PCH_REFUSED)
			return rc;
		if (rc == 0)
			rc = finish(b->r, &pr, b->d);
		pch_fix_depfile(b->deps.path, b->shim_path, b->header, b->o->source);
		return rc;
	}
	if (b->try_gm && try_gmodules(b, &rc))
		return rc;
	if (!b->try_gm && b->gm_why)
		set_mode(b->r, vms_xasprintf("PCH (-g): %s", b->gm_why));
	if (!b->try_gm && pch_compile_via(b, &rc)) {
		pch_fix_depfile(b->deps.path, b->shim_path, b->header, b->o->source);
		return rc;
	}
	rc = pch_compile_pch(b, &pr);
	if (rc == PCH_NO_PCH)
		return no_pch(b, &b->info, b->lock);
	if (rc == 0) {
		rc = finish(b->r, &pr, b->d);
		pch_fix_depfile(b->deps.path, b->shim_path, b->header, b->o->source);
	}
	return rc;
}

int vms_build(const struct vms_build_opts *o, struct vms_build_result *r, struct vms_diags *d)
{
	memset(r, 0, sizeof(*r));
	r->clang_stderr = vms_xstrdup("");
	double t0 = vms_now_ms();
	struct pch_build b = { .o = o, .r = r, .d = d, .lock = -1, .lock_gm = -1 };
	b.cache = o->cache_dir ? vms_xstrdup(o->cache_dir) : vms_cache_dir_default();
	pch_dep_info(o, &b.deps);

	int rc = install_output(&b, build(&b));

	if (b.lock >= 0)
		close(b.lock);
	if (b.lock_gm >= 0)
		close(b.lock_gm);
	if (!r->mode)
		r->mode = vms_xstrdup("not built");
	vms_pch_info_free(&b.info);
	vms_pch_info_free(&b.info_gm);
	vms_compiler_free(&b.cc);
	pch_preamble_free(&b.pre);
	vms_argv_free(&b.flags);
	free(b.header), free(b.shim_path), free(b.src), free(b.cache), free(b.verdict);
	free(b.tmp_out), free(b.deps.path);
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
