/* PCH + manifest: build once, check on every use, rebuild atomically.
 *
 * Clang itself validates a PCH only partly: it notices a header whose size or mtime moved
 * (we turn the mtime check off, see below) and a different clang major version, but it
 * silently accepts a PCH built with a -D the current compile lacks, and it cannot notice
 * a same-sized edit or a corrupted byte in the PCH. The manifest closes those holes. It
 * records, one item per line:
 *   - the compiler identity (resolved path + `--version` hash, see compiler.c),
 *   - the normalized flags the PCH was built with (flags.c) and whether -gmodules was on,
 *   - the header's path and the xxh3-128 of its bytes, and of every file it includes (the
 *     dependency list comes from clang's own -MD output during the PCH build),
 *   - the PCH's size, mtime and xxh3-128,
 * and ends with a checksum of all preceding bytes, so a truncated or damaged manifest is
 * recognized as such instead of parsed. A PCH is used only when every recorded item
 * matches the world as it is now, compared by content (sizes and mtimes can be put back);
 * anything else rebuilds it. The one shortcut: a caller that has seen the PCH hashed may
 * hand back the seal it got (struct vms_pch_seal: dev, ino, size, mtime, ctime, hash),
 * and the bytes are not hashed again while fstat still shows exactly that file. Any write
 * moves ctime, which user space cannot set back, so a PCH corrupted in place or swapped
 * for another of the same size is always hashed again, and rebuilt.
 *
 * Concurrency: each PCH has a lock file beside it. Checkers hold it shared (and vms_build
 * keeps holding it while clang reads the PCH); a rebuild takes it exclusively, re-checks
 * (another process may just have rebuilt it), builds into a temporary file, renames it
 * into place and then writes the manifest. The old manifest is removed before the new
 * PCH is renamed in, so a crash at any point leaves either a consistent pair or no
 * manifest (which means "rebuild"). Eight builders on an empty cache therefore run clang
 * once for the PCH and then all compile against it.
 *
 * The PCH is built with -fno-pch-timestamp: clang then no longer rejects a PCH because
 * the header was merely touched (`make` does that), which the content hashes cover. */
#include "pch/internal.h"
#include "common/cachedir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- hashing files ---- */

static int hash_fd(int fd, const struct stat *st, struct vms_hash128 *h)
{
	if (st->st_size == 0) {
		*h = vms_hash128("", 0);
		return 0;
	}
	void *m = mmap(NULL, (size_t)st->st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	*h = vms_hash128(m, (size_t)st->st_size);
	munmap(m, (size_t)st->st_size);
	return 0;
}

static int hash_file(const char *path, struct vms_hash128 *h, struct stat *st_out)
{
	struct stat st;
	int fd = vms_open_file(path, &st);
	if (fd < 0)
		return fd;
	int rc = hash_fd(fd, &st, h);
	close(fd);
	if (rc == 0 && st_out)
		*st_out = st;
	return rc;
}

static void hex(struct vms_hash128 h, char out[33])
{
	vms_hash128_hex(h, out);
}

/* ---- the manifest ---- */

struct manifest {
	char *clang_path;
	char clang_id[33];
	int gmodules;
	struct vms_argv flags;
	struct vms_argv files;		/* [0] is the header, then its dependencies */
	char (*file_hash)[33];
	long long pch_size;
	long long pch_mtime_sec, pch_mtime_nsec;
	char pch_hash[33];
};

static void manifest_free(struct manifest *m)
{
	free(m->clang_path);
	vms_argv_free(&m->flags);
	vms_argv_free(&m->files);
	free(m->file_hash);
	memset(m, 0, sizeof(*m));
}

static void manifest_add_file(struct manifest *m, const char *path, const char *h)
{
	vms_argv_push(&m->files, path);
	m->file_hash = vms_xrealloc(m->file_hash, m->files.n * sizeof(*m->file_hash));
	snprintf(m->file_hash[m->files.n - 1], 33, "%s", h);
}

static char *manifest_format(const struct manifest *m, const struct vms_compiler *c)
{
	struct vms_buf b = { 0 };
	vms_buf_printf(&b, "vmslim-pch-manifest %d\n", VMS_PCH_FORMAT);
	vms_buf_puts(&b, "clang ");
	pch_escape(&b, m->clang_path);
	vms_buf_printf(&b, "\nclang-id %s\n", m->clang_id);
	if (c) {
		/* for people reading the manifest; the id above is what is compared */
		const char *nl = strchr(c->version, '\n');
		char *first = vms_xstrndup(c->version, nl ? (size_t)(nl - c->version) : strlen(c->version));
		vms_buf_puts(&b, "clang-version ");
		pch_escape(&b, first);
		vms_buf_puts(&b, "\n");
		free(first);
	}
	vms_buf_printf(&b, "gmodules %d\n", m->gmodules);
	for (size_t i = 0; i < m->flags.n; i++) {
		vms_buf_puts(&b, "flag ");
		pch_escape(&b, m->flags.v[i]);
		vms_buf_puts(&b, "\n");
	}
	for (size_t i = 0; i < m->files.n; i++) {
		vms_buf_puts(&b, i ? "dep " : "header ");
		pch_escape(&b, m->files.v[i]);
		vms_buf_printf(&b, " %s\n", m->file_hash[i]);
	}
	vms_buf_printf(&b, "pch-size %lld\npch-mtime %lld.%09lld\npch-hash %s\n", m->pch_size,
		       m->pch_mtime_sec, m->pch_mtime_nsec, m->pch_hash);
	char sum[33];
	hex(vms_hash128(b.data, b.len), sum);
	vms_buf_printf(&b, "end %s\n", sum);
	return vms_buf_steal(&b);
}

/* 0 ok, -1 with *why (owned) when the text is not a complete, intact manifest. */
static int manifest_parse(const char *text, size_t len, struct manifest *m, char **why)
{
	memset(m, 0, sizeof(*m));
	const char *end = NULL;
	/* the checksum line is the last one; find it from the back */
	if (len < 38 || text[len - 1] != '\n') {
		*why = vms_xstrdup("manifest truncated");
		return -1;
	}
	for (const char *p = text + len - 2; p >= text; p--)
		if (p == text || p[-1] == '\n') {
			end = p;
			break;
		}
	char want[33];
	hex(vms_hash128(text, (size_t)(end - text)), want);
	if (strncmp(end, "end ", 4) || strncmp(end + 4, want, 32) || end[36] != '\n') {
		*why = vms_xstrdup(strncmp(end, "end ", 4) ? "manifest truncated"
							: "manifest checksum mismatch (corrupted)");
		return -1;
	}
	int version = -1, have_pch = 0;
	const char *line = text;
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		char *l = vms_xstrndup(line, (size_t)(nl - line));
		line = nl + 1;
		char *sp = strchr(l, ' ');
		char *val = sp ? sp + 1 : (char *)"";
		if (sp)
			*sp = 0;
		if (!strcmp(l, "vmslim-pch-manifest")) {
			version = atoi(val);
		} else if (!strcmp(l, "clang")) {
			free(m->clang_path);
			m->clang_path = pch_unescape(val);
		} else if (!strcmp(l, "clang-id")) {
			snprintf(m->clang_id, sizeof(m->clang_id), "%s", val);
		} else if (!strcmp(l, "gmodules")) {
			m->gmodules = atoi(val);
		} else if (!strcmp(l, "flag")) {
			char *f = pch_unescape(val);
			vms_argv_push(&m->flags, f);
			free(f);
		} else if (!strcmp(l, "header") || !strcmp(l, "dep")) {
			char *h = strrchr(val, ' ');
			if (h) {
				*h = 0;
				char *p = pch_unescape(val);
				manifest_add_file(m, p, h + 1);
				free(p);
			}
		} else if (!strcmp(l, "pch-size")) {
			m->pch_size = atoll(val);
		} else if (!strcmp(l, "pch-mtime")) {
			char *dot = strchr(val, '.');
			m->pch_mtime_sec = atoll(val);
			m->pch_mtime_nsec = dot ? atoll(dot + 1) : 0;
		} else if (!strcmp(l, "pch-hash")) {
			snprintf(m->pch_hash, sizeof(m->pch_hash), "%s", val);
			have_pch = 1;
		}
		free(l);
	}
	if (version != VMS_PCH_FORMAT || !m->clang_path || !m->files.n || !have_pch) {
		*why = vms_xasprintf(version != VMS_PCH_FORMAT ? "manifest format %d, expected %d"
							       : "manifest incomplete",
				     version, VMS_PCH_FORMAT);
		manifest_free(m);
		return -1;
	}
	return 0;
}

/* ---- seals: when the PCH's bytes need not be hashed again ---- */

static int64_t ts_ns(struct timespec t)
{
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int seal_matches_stat(const struct vms_pch_seal *s, const struct stat *st)
{
	return s->dev == (uint64_t)st->st_dev && s->ino == (uint64_t)st->st_ino &&
	       s->size == (int64_t)st->st_size && s->mtime_ns == ts_ns(st->st_mtim) &&
	       s->ctime_ns == ts_ns(st->st_ctim);
}

/* Does seal vouch for the file fstat describes as st, whose manifest records hash hx? */
static int seal_holds(const struct vms_pch_seal *s, const struct stat *st, const char *hx)
{
	char sh[33];
	if (!s || !s->valid || !seal_matches_stat(s, st))
		return 0;
	hex(s->hash, sh);
	return !strcmp(sh, hx);
}

/* Hashes the open PCH fd (st: its fstat) into a new seal. The clock is read before the
 * bytes: a write after that instant sets ctime to at least that instant, so when the
 * ctime read lies VMS_PCH_SEAL_SETTLE_NS before it, no write can hide behind equal
 * timestamps (far more than a coarse timestamp tick). A file that moved while it was
 * being hashed (fstat before and after differ) gives no valid seal. */
static int seal_take(int fd, const struct stat *st, struct vms_pch_seal *seal)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	memset(seal, 0, sizeof(*seal));
	int rc = hash_fd(fd, st, &seal->hash);
	if (rc < 0)
		return rc;
	struct stat after;
	seal->dev = (uint64_t)st->st_dev;
	seal->ino = (uint64_t)st->st_ino;
	seal->size = (int64_t)st->st_size;
	seal->mtime_ns = ts_ns(st->st_mtim);
	seal->ctime_ns = ts_ns(st->st_ctim);
	seal->valid = fstat(fd, &after) == 0 && seal_matches_stat(seal, &after) &&
		      ts_ns(now) - seal->ctime_ns >= VMS_PCH_SEAL_SETTLE_NS;
	return 0;
}

/* ---- what the caller wants ---- */

struct want {
	const struct vms_compiler *cc;
	char *header;			/* absolute */
	struct vms_argv flags;		/* normalized */
	struct vms_argv search;		/* of those, the include search directories */
	struct vms_argv rest;		/* and the others */
	int gmodules;
	char *pch, *manifest, *lock;
	const struct vms_pch_seal *seal_in;
	int no_crash_diagnostics;
};


/* The PCH itself: the file the manifest describes, its bytes those it hashed, unless
 * the caller's seal still vouches for them. 1 it is, 0 not (*why owned); info->seal and
 * info->hashed say how it was found. */
static int check_pch_bytes(const struct want *w, const struct manifest *m,
			   struct vms_pch_info *info, char **why)
{
	struct stat st;
	int fd = open(w->pch, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		*why = vms_xstrdup(fd < 0 && errno == ENOENT ? "PCH missing" : "PCH unreadable");
		if (fd >= 0)
			close(fd);
		return 0;
	}
	int ok = 0;
	if ((long long)st.st_size != m->pch_size) {
		*why = vms_xasprintf("PCH size %lld, manifest says %lld (truncated or replaced)",
				     (long long)st.st_size, m->pch_size);
	} else if (seal_holds(w->seal_in, &st, m->pch_hash)) {
		info->seal = *w->seal_in;
		ok = 1;
	} else {
		struct vms_pch_seal seal;
		char hx[33] = "";
		info->hashed = 1;
		int rc = seal_take(fd, &st, &seal);
		if (rc == 0)
			hex(seal.hash, hx);
		if (rc < 0) {
			*why = vms_xstrdup("PCH unreadable");
		} else if (strcmp(hx, m->pch_hash)) {
			*why = vms_xstrdup("PCH checksum mismatch (corrupted)");
		} else {
			info->seal = seal;
			ok = 1;
		}
	}
	close(fd);
	return ok;
}

/* The PCH's flags serve this compile. Include directories matter only to a header that
 * includes something: one that includes nothing (vmlinux.h; the manifest's dependency
 * list holds the header alone) reads the same bytes whatever the search path, and clang
 * validates no search path of a PCH outside modules. So projects that build the same
 * header from many folders, each with its own -I, share one PCH. */
static int flags_match(const struct manifest *m, const struct want *w)
{
	if (m->files.n > 1)
		return vms_argv_equal(&m->flags, &w->flags);
	struct vms_argv rest = { 0 };
	pch_split_search_flags(&m->flags, NULL, &rest);
	int same = vms_argv_equal(&rest, &w->rest);
	vms_argv_free(&rest);
	return same;
}

/* 1 fresh, 0 stale (*why owned). Fresh: info->seal, ->hashed and ->inputs describe it. */
static int check_fresh(const struct want *w, struct vms_pch_info *info, char **why)
{
	memset(&info->seal, 0, sizeof(info->seal));
	char *text;
	size_t len;
	int rc = vms_read_file(w->manifest, &text, &len);
	if (rc < 0) {
		*why = vms_xstrdup(rc == -ENOENT ? "no PCH yet" : "manifest unreadable");
		return 0;
	}
	struct manifest m;
	rc = manifest_parse(text, len, &m, why);
	free(text);
	if (rc < 0)
		return 0;
	int fresh = 0;
	if (strcmp(m.clang_id, w->cc->id_hex) || strcmp(m.clang_path, w->cc->path)) {
		*why = vms_xasprintf("compiler changed (%s -> %s)", m.clang_path, w->cc->path);
		goto out;
	}
	if (m.gmodules != w->gmodules) {
		*why = vms_xstrdup("-gmodules setting changed");
		goto out;
	}
	if (!flags_match(&m, w)) {
		*why = vms_xstrdup("flags changed");
		goto out;
	}
	if (strcmp(m.files.v[0], w->header)) {
		*why = vms_xasprintf("header path changed (%s -> %s)", m.files.v[0], w->header);
		goto out;
	}
	/* by content, never by size or mtime: a header rewritten at the same size with its
	 * mtime put back is a changed header */
	for (size_t i = 0; i < m.files.n; i++) {
		struct vms_hash128 h;
		char hx[33];
		if (hash_file(m.files.v[i], &h, NULL) < 0) {
			*why = vms_xasprintf("%s %s is gone", i ? "dependency" : "header", m.files.v[i]);
			goto out;
		}
		hex(h, hx);
		if (strcmp(hx, m.file_hash[i])) {
			*why = vms_xasprintf("%s %s changed", i ? "dependency" : "header", m.files.v[i]);
			goto out;
		}
	}
	fresh = check_pch_bytes(w, &m, info, why);
	if (fresh) {
		vms_argv_free(&info->inputs);
		for (size_t i = 0; i < m.files.n; i++)
			vms_argv_push(&info->inputs, m.files.v[i]);
	}
out:
	manifest_free(&m);
	return fresh;
}

/* Reads a Make dependency file (clang -MD) into paths, skipping the target. */
static void parse_depfile(const char *text, struct vms_argv *out)
{
	struct vms_buf tok = { 0 };
	int seen_target = 0;
	for (const char *p = text;; p++) {
		int sep = !*p || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';
		if (*p == '\\' && (p[1] == '\n' || (p[1] == '\r' && p[2] == '\n'))) {
			p += p[1] == '\r' ? 2 : 1;
			sep = 1;
		} else if (*p == '\\' && (p[1] == ' ' || p[1] == '#' || p[1] == '\\')) {
			vms_buf_append(&tok, p + 1, 1);
			p++;
			continue;
		} else if (*p == '$' && p[1] == '$') {
			vms_buf_append(&tok, "$", 1);
			p++;
			continue;
		}
		if (!sep) {
			vms_buf_append(&tok, p, 1);
			continue;
		}
		if (tok.len) {
			if (!seen_target && tok.data[tok.len - 1] == ':') {
				seen_target = 1;
			} else if (seen_target && strcmp(tok.data, ":")) {
				char *abs = pch_abspath(tok.data);
				vms_argv_push(out, abs);
				free(abs);
			} else if (!strcmp(tok.data, ":")) {
				seen_target = 1;
			}
			vms_buf_free(&tok);
		}
		if (!*p)
			break;
	}
	vms_buf_free(&tok);
}

/* Runs clang to build the PCH into a temporary file, then installs PCH and manifest. */
/* A builder killed outright (SIGKILL, a daemon's time limit) leaves its temporaries
 * behind. Temporaries are only ever written under the PCH's exclusive lock, so whoever
 * holds that lock knows every temporary beside the PCH is an orphan. */
static void remove_orphan_temps(const char *pch)
{
	char *dir = vms_dirname(pch);
	const char *base = vms_basename(pch);
	size_t bl = strlen(base);
	DIR *dh = opendir(dir);
	struct dirent *e;
	while (dh && (e = readdir(dh))) {
		if (strncmp(e->d_name, base, bl) ||
		    (strncmp(e->d_name + bl, ".tmp.", 5) && strncmp(e->d_name + bl, ".d.tmp.", 7)))
			continue;
		char *path = vms_xasprintf("%s/%s", dir, e->d_name);
		unlink(path);
		free(path);
	}
	if (dh)
		closedir(dh);
	free(dir);
}

int vms_pch_sweep(const char *cache_dir)
{
	char *root = vms_xasprintf("%s/pch", cache_dir);
	DIR *top = opendir(root);
	int removed_from = 0;
	struct dirent *k;
	while (top && (k = readdir(top))) {
		if (k->d_name[0] == '.')
			continue;
		char *dir = vms_xasprintf("%s/%s", root, k->d_name);
		DIR *dh = opendir(dir);
		struct dirent *e;
		while (dh && (e = readdir(dh))) {
			size_t n = strlen(e->d_name);
			if (n < 9 || strcmp(e->d_name + n - 9, ".pch.lock"))
				continue;
			char *lock = vms_xasprintf("%s/%s", dir, e->d_name);
			int fd = open(lock, O_RDWR | O_CLOEXEC);
			if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
				char *pch = vms_xstrndup(lock, strlen(lock) - 5);
				remove_orphan_temps(pch);
				free(pch);
				removed_from++;
			}
			if (fd >= 0)
				close(fd);
			free(lock);
		}
		if (dh)
			closedir(dh);
		free(dir);
	}
	if (top)
		closedir(top);
	free(root);
	return removed_from;
}

static int build_pch(const struct want *w, struct vms_pch_info *info, struct vms_diags *d)
{
	double t0 = vms_now_ms();
	remove_orphan_temps(w->pch);
	char *tmp = vms_xasprintf("%s.tmp.XXXXXX", w->pch);
	char *tmpd = vms_xasprintf("%s.d.tmp.XXXXXX", w->pch);
	vms_cleanup_hold();
	int fd1 = mkostemp(tmp, O_CLOEXEC), fd2 = fd1 >= 0 ? mkostemp(tmpd, O_CLOEXEC) : -1;
	int e = errno;
	if (fd1 >= 0 && fd2 >= 0) {
		vms_cleanup_add_path(tmp);
		vms_cleanup_add_path(tmpd);
	}
	vms_cleanup_release();
	if (fd1 < 0 || fd2 < 0) {
		vms_diag_add(d, VMS_ERROR, w->pch, 0, 0, "cannot create a temporary file: %s", strerror(e));
		if (fd1 >= 0)
			close(fd1), unlink(tmp);
		free(tmp), free(tmpd);
		return -e;
	}
	close(fd1), close(fd2);

	struct vms_hash128 before;
	int rc = hash_file(w->header, &before, NULL);
	if (rc < 0) {
		vms_diag_add(d, VMS_ERROR, w->header, 0, 0, "cannot read the header: %s", strerror(-rc));
		goto fail;
	}

	struct vms_argv av = { 0 };
	vms_argv_push(&av, w->cc->path);
	for (size_t i = 0; i < w->flags.n; i++)
		vms_argv_push(&av, w->flags.v[i]);
	if (w->gmodules)
		vms_argv_push(&av, "-gmodules");
	vms_argv_push(&av, "-Xclang");
	vms_argv_push(&av, "-fno-pch-timestamp");
	if (w->no_crash_diagnostics)
		vms_argv_push(&av, "-fno-crash-diagnostics");
	vms_argv_push(&av, "-MD");
	vms_argv_push(&av, "-MF");
	vms_argv_push(&av, tmpd);
	vms_argv_push(&av, "-x");
	vms_argv_push(&av, "c-header");
	vms_argv_push(&av, w->header);
	vms_argv_push(&av, "-o");
	vms_argv_push(&av, tmp);
	struct vms_proc_result r;
	rc = vms_run(av.v, NULL, 0, VMS_PCH_CLANG_TIMEOUT_MS, &r);
	vms_argv_free(&av);
	if (rc < 0) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "cannot run %s: %s", w->cc->path, strerror(-rc));
		goto fail;
	}
	free(info->clang_stderr);
	info->clang_stderr = vms_xstrdup(r.err);
	if (r.exit_code != 0) {
		vms_diag_add(d, VMS_ERROR, w->header, 0, 0,
			     "building the PCH failed (%s exited with %d%s)", w->cc->path, r.exit_code,
			     r.timed_out ? ", timed out" : "");
		vms_proc_result_free(&r);
		rc = -1;
		goto fail;
	}
	vms_proc_result_free(&r);

	struct manifest m = { 0 };
	m.clang_path = vms_xstrdup(w->cc->path);
	snprintf(m.clang_id, sizeof(m.clang_id), "%s", w->cc->id_hex);
	m.gmodules = w->gmodules;
	for (size_t i = 0; i < w->flags.n; i++)
		vms_argv_push(&m.flags, w->flags.v[i]);
	char hx[33];
	hex(before, hx);
	manifest_add_file(&m, w->header, hx);

	char *deptext = NULL;
	struct vms_argv deps = { 0 };
	if (vms_read_file(tmpd, &deptext, NULL) == 0)
		parse_depfile(deptext, &deps);
	free(deptext);
	for (size_t i = 0; i < deps.n; i++) {
		struct vms_hash128 h;
		if (!strcmp(deps.v[i], w->header))
			continue;
		if (hash_file(deps.v[i], &h, NULL) < 0)
			continue; /* clang lists files it merely probed */
		hex(h, hx);
		manifest_add_file(&m, deps.v[i], hx);
	}
	vms_argv_free(&deps);

	/* The header may have been edited while clang read it; then the PCH matches neither
	 * version for sure, and recording `before` would vouch for bytes clang never saw. */
	struct vms_hash128 after;
	if (hash_file(w->header, &after, NULL) < 0 || after.hi != before.hi || after.lo != before.lo) {
		manifest_free(&m); /* the caller retries */
		rc = -EAGAIN;
		goto fail;
	}

	struct vms_hash128 ph;
	struct stat st;
	rc = hash_file(tmp, &ph, &st);
	if (rc < 0) {
		vms_diag_add(d, VMS_ERROR, tmp, 0, 0, "cannot read the new PCH: %s", strerror(-rc));
		manifest_free(&m);
		goto fail;
	}
	hex(ph, m.pch_hash);
	m.pch_size = (long long)st.st_size;
	m.pch_mtime_sec = (long long)st.st_mtim.tv_sec;
	m.pch_mtime_nsec = st.st_mtim.tv_nsec;
	char *text = manifest_format(&m, w->cc);
	manifest_free(&m);

	/* manifest out, PCH in, manifest in: at no point does a manifest vouch for the wrong PCH */
	if ((unlink(w->manifest) < 0 && errno != ENOENT) || rename(tmp, w->pch) < 0) {
		rc = -errno;
		vms_diag_add(d, VMS_ERROR, w->pch, 0, 0, "cannot install the PCH: %s", strerror(errno));
		free(text);
		goto fail;
	}
	rc = vms_write_file_atomic(w->manifest, text, strlen(text), 0644);
	free(text);
	if (rc < 0) {
		vms_diag_add(d, VMS_ERROR, w->manifest, 0, 0, "cannot write the manifest: %s", strerror(-rc));
		goto fail;
	}
	unlink(tmpd);
	vms_cleanup_remove_path(tmp), vms_cleanup_remove_path(tmpd);
	free(tmp), free(tmpd);
	info->rebuilt = 1;
	info->build_ms += vms_now_ms() - t0;
	return 0;
fail:
	unlink(tmp), unlink(tmpd);
	vms_cleanup_remove_path(tmp), vms_cleanup_remove_path(tmpd);
	free(tmp), free(tmpd);
	return rc < 0 ? rc : -1;
}

static int lock_fd(int fd, int op)
{
	while (flock(fd, op) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* The cache directory of a PCH: a hash of what makes it (format, compiler, header path,
 * -gmodules, flags). Without the include search directories first (with_search 0): see
 * flags_match(). */
static char *pch_key_dir(const char *cache, const struct want *w, int with_search)
{
	struct vms_hasher *h = vms_hasher_new();
	char fmt[16];
	snprintf(fmt, sizeof(fmt), "%d", VMS_PCH_FORMAT);
	vms_hasher_update_str(h, "vmslim-pch");
	vms_hasher_update_str(h, fmt);
	vms_hasher_update_str(h, w->cc->id_hex);
	vms_hasher_update_str(h, w->header);
	vms_hasher_update_str(h, w->gmodules ? "gmodules" : "g");
	const struct vms_argv *f = with_search ? &w->flags : &w->rest;
	vms_hasher_update_str(h, with_search ? "search" : "no-search");
	for (size_t i = 0; i < f->n; i++)
		vms_hasher_update_str(h, f->v[i]);
	char key[33];
	hex(vms_hasher_digest(h), key);
	vms_hasher_free(h);
	return vms_xasprintf("%s/pch/%s", cache, key);
}

/* Does the PCH at the search-free key belong to a header that includes other files, built
 * with other include directories than these? Then this compile takes the key that holds
 * its directories too, and the two never rebuild each other's PCH by turns. */
static int search_matters(const char *manifest, const struct want *w)
{
	char *text, *why = NULL;
	size_t len;
	if (vms_read_file(manifest, &text, &len) < 0)
		return 0;
	struct manifest m;
	int rc = manifest_parse(text, len, &m, &why);
	free(text);
	free(why);
	if (rc < 0)
		return 0;
	int matters = 0;
	if (m.files.n > 1) {
		struct vms_argv search = { 0 };
		pch_split_search_flags(&m.flags, &search, NULL);
		matters = !vms_argv_equal(&search, &w->search);
		vms_argv_free(&search);
	}
	manifest_free(&m);
	return matters;
}

int pch_ensure_locked(const struct vms_pch_opts *o, const struct vms_compiler *cc,
		      struct vms_pch_info *info, struct vms_diags *d)
{
	memset(info, 0, sizeof(*info));
	info->clang_stderr = vms_xstrdup("");
	struct want w = { .cc = cc, .gmodules = o->gmodules, .seal_in = o->seal_in,
			  .no_crash_diagnostics = o->no_crash_diagnostics };
	w.header = pch_abspath(o->header);
	vms_flags_normalize(o->flags, &w.flags);
	pch_split_search_flags(&w.flags, &w.search, &w.rest);
	int rc = 0, fd = -1, built = 0;
	char *cache_dir = NULL; /* the shared cache's, for its counters and bound; NULL with -o */

	if (access(w.header, R_OK) < 0) {
		rc = -errno;
		vms_diag_add(d, VMS_ERROR, o->header, 0, 0, "cannot read the header: %s", strerror(errno));
		goto out;
	}
	if (o->out) {
		w.pch = pch_abspath(o->out);
	} else {
		char *cache = o->cache_dir ? vms_xstrdup(o->cache_dir) : vms_cache_dir_default();
		char *dir = pch_key_dir(cache, &w, 0);
		char *peek = vms_xasprintf("%s/%s.pch.manifest", dir, vms_basename(w.header));
		if (search_matters(peek, &w)) {
			free(dir);
			dir = pch_key_dir(cache, &w, 1);
		}
		free(peek);
		cache_dir = cache;
		rc = vms_mkdir_p(dir, 0755);
		if (rc < 0) {
			vms_diag_add(d, VMS_ERROR, dir, 0, 0, "cannot create the cache directory: %s",
				     strerror(-rc));
			free(dir);
			goto out;
		}
		w.pch = vms_xasprintf("%s/%s.pch", dir, vms_basename(w.header));
		free(dir);
	}
	w.manifest = vms_xasprintf("%s.manifest", w.pch);
	w.lock = vms_xasprintf("%s.lock", w.pch);
	info->pch_path = vms_xstrdup(w.pch);
	info->manifest_path = vms_xstrdup(w.manifest);
	info->header_path = vms_xstrdup(w.header);

	fd = open(w.lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		vms_diag_add(d, VMS_ERROR, w.lock, 0, 0, "cannot open the lock file: %s", strerror(errno));
		goto out;
	}
	if ((rc = lock_fd(fd, LOCK_SH)) < 0)
		goto out;
	int force = o->force;
	for (int attempt = 0;; attempt++) {
		char *why = NULL;
		double t0 = vms_now_ms();
		int fresh = check_fresh(&w, info, &why);
		info->check_ms += vms_now_ms() - t0;
		if (fresh && !force) {
			free(why);
			break;
		}
		if (attempt >= 3) {
			vms_diag_add(d, VMS_ERROR, w.header, 0, 0,
				     "the PCH does not stay fresh (%s); is the header being rewritten?",
				     why ? why : "?");
			free(why);
			rc = -EAGAIN;
			goto out;
		}
		if ((rc = lock_fd(fd, LOCK_EX)) < 0) {
			free(why);
			goto out;
		}
		/* someone may have rebuilt it while we waited for the exclusive lock */
		char *why2 = NULL;
		if (force || !check_fresh(&w, info, &why2)) {
			if (!info->reason)
				info->reason = why ? why : vms_xstrdup("forced");
			else
				free(why);
			why = NULL;
			rc = build_pch(&w, info, d);
			built |= rc == 0;
			force = 0;
			if (rc < 0 && rc != -EAGAIN) {
				free(why2);
				goto out;
			}
		}
		free(why);
		free(why2);
		if ((rc = lock_fd(fd, LOCK_SH)) < 0)
			goto out;
	}
	rc = 0;
	if (cache_dir) {
		/* the lock's mtime is the entry's last use (the PCH's own is in its seal) */
		futimens(fd, NULL);
		vms_cache_count(cache_dir, "pch", built ? "miss" : "hit");
		/* a new PCH may take the cache past its bound: out go the least recently used,
		 * never this one (we hold its lock) */
		if (built)
			vms_cache_trim(cache_dir, 0);
	}
out:
	free(cache_dir);
	if (rc < 0 && fd >= 0) {
		close(fd);
		fd = -1;
	}
	free(w.header);
	vms_argv_free(&w.flags);
	vms_argv_free(&w.search);
	vms_argv_free(&w.rest);
	free(w.pch), free(w.manifest), free(w.lock);
	return rc < 0 ? rc : fd;
}

int vms_pch_ensure(const struct vms_pch_opts *o, struct vms_pch_info *info, struct vms_diags *d)
{
	struct vms_compiler cc;
	char *cache = o->cache_dir ? vms_xstrdup(o->cache_dir) : vms_cache_dir_default();
	int rc = vms_compiler_identify(o->clang, cache, &cc, d);
	free(cache);
	if (rc < 0) {
		memset(info, 0, sizeof(*info));
		info->clang_stderr = vms_xstrdup("");
		return rc;
	}
	int fd = pch_ensure_locked(o, &cc, info, d);
	vms_compiler_free(&cc);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

void vms_pch_info_free(struct vms_pch_info *info)
{
	free(info->pch_path);
	free(info->manifest_path);
	free(info->header_path);
	free(info->reason);
	free(info->clang_stderr);
	vms_argv_free(&info->inputs);
	memset(info, 0, sizeof(*info));
}
