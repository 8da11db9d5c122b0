/* vms_extract: parse, build the graph, seed the roots, close over the edges, emit. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "extract/internal.h"

static int has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* "struct foo" and "foo" both name struct foo; a bare name may also be a typedef or enum */
static int seed_type_roots(const struct graph *g, const char *const *types, uint8_t *roots,
			   struct vms_diags *d)
{
	int rc = 0;
	for (size_t t = 0; types && types[t]; t++) {
		size_t hits = 0;
		for (uint32_t i = 0; i < g->n; i++) {
			const struct chunk *ch = &g->chunks[i];
			if (ch->kind == CHUNK_RECORD_FWD && !has_glob(types[t])) {
				/* a name whose only declaration is a forward one is opaque by nature */
				if (name_matches_glob(ch, types[t]) && !hits) {
					roots[i] = NEED_NAME;
					hits++;
				}
				continue;
			}
			if (ch->kind == CHUNK_RECORD_FWD || !name_matches_glob(ch, types[t]))
				continue;
			roots[i] = NEED_FULL;
			hits++;
		}
		if (!hits) {
			vms_diag_add(d, VMS_ERROR, NULL, 0, 0,
				     has_glob(types[t]) ? "type pattern '%s' matches no type in the header"
							: "unknown type '%s': no struct, union, enum or typedef of that name in the header",
				     types[t]);
			rc = -1;
		}
	}
	return rc;
}

static char *make_banner(const struct vms_extract_opts *o, const char *source_name,
			 const char *text, size_t len)
{
	struct vms_buf b = { 0 };
	vms_buf_printf(&b, "/* Trimmed by vmslim extract from %s (xxh3-64 %016llx, %zu bytes).\n",
		       source_name, (unsigned long long)vms_hash64(text, len), len);
	vms_buf_puts(&b, " * roots:");
	for (size_t i = 0; o->type_roots && o->type_roots[i]; i++)
		vms_buf_printf(&b, " --type %s", o->type_roots[i]);
	for (size_t i = 0; o->programs && o->programs[i]; i++)
		vms_buf_printf(&b, " --from %s", vms_basename(o->programs[i]));
	for (size_t i = 0; o->blacklist && o->blacklist[i]; i++)
		vms_buf_printf(&b, " --blacklist %s", o->blacklist[i]);
	if (o->full_pointers)
		vms_buf_puts(&b, " --full-pointers");
	vms_buf_puts(&b, "\n */\n");
	return vms_buf_steal(&b);
}

char *extract_banner(const struct vms_extract_opts *o, const char *source_name,
		     const char *text, size_t len)
{
	return make_banner(o, source_name, text, len);
}

int vms_extract(const struct vms_extract_opts *o, char **out, size_t *out_len,
		struct vms_extract_stats *stats, struct vms_diags *d)
{
	double t0 = vms_now_ms();
	struct vms_extract_stats st = { 0 };
	char *text = NULL, *tmpdir = NULL, *header = NULL;
	size_t len = 0;
	int rc = -1;
	int n_types = 0, n_progs = 0;
	while (o->type_roots && o->type_roots[n_types])
		n_types++;
	while (o->programs && o->programs[n_progs])
		n_progs++;
	if (!o->header_path == !o->btf_path) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "give exactly one of a header or a BTF file");
		return -1;
	}
	if (!n_types && !n_progs) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "no roots: name types or programs");
		return -1;
	}
	if (vms_libclang_load(d))
		return -1;
	if (o->btf_path) {
		if (vms_btf_to_c(o->btf_path, &text, &len, d))
			return -1;
		tmpdir = vms_make_tempdir("vmslim-btf");
		if (!tmpdir) {
			vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "cannot create a temporary directory: %s",
				     strerror(errno));
			free(text);
			return -1;
		}
		header = vms_xasprintf("%s/vmlinux.h", tmpdir);
		int w = vms_write_file_atomic(header, text, len, 0644);
		if (w) {
			vms_diag_add(d, VMS_ERROR, header, 0, 0, "cannot write: %s", strerror(-w));
			goto out;
		}
	} else {
		header = vms_xstrdup(o->header_path);
		int r = vms_read_file(header, &text, &len);
		if (r) {
			vms_diag_add(d, VMS_ERROR, header, 0, 0, "cannot read header: %s", strerror(-r));
			goto out;
		}
	}

	CXIndex idx = clang_createIndex(0, 0);
	struct parsed first = { 0 };
	struct graph g = { 0 };
	uint8_t *roots = NULL;
	double tp = vms_now_ms();
	int prc = n_progs ? parse_program(idx, o->programs[0], header, o->clang_args, &first, d)
			  : parse_header_alone(idx, header, &first, d);
	if (prc || graph_build(&g, &first, text, len, d))
		goto dispose;
	roots = vms_xcalloc(g.n ? g.n : 1, 1);
	if (seed_type_roots(&g, o->type_roots, roots, d))
		goto dispose;
	if (n_progs)
		collect_program_uses(&g, &first, roots);
	for (int i = 1; i < n_progs; i++) {
		struct parsed p;
		int r = parse_program(idx, o->programs[i], header, o->clang_args, &p, d);
		if (!r)
			collect_program_uses(&g, &p, roots);
		parsed_dispose(&p);
		if (r)
			goto dispose;
	}
	st.parse_ms = vms_now_ms() - tp;

	struct closure c = { 0 };
	closure_run(&g, roots, o->blacklist, o->full_pointers, &c, d);
	char *banner = make_banner(o, vms_basename(o->btf_path ? o->btf_path : o->header_path),
				   text, len);
	*out = emit_header(&g, &c, banner, out_len, &st);
	free(banner);
	closure_free(&c);
	rc = 0;
dispose:
	free(roots);
	graph_free(&g);
	parsed_dispose(&first);
	clang_disposeIndex(idx);
out:
	if (tmpdir) {
		vms_remove_tree(tmpdir);
		free(tmpdir);
	}
	free(header);
	free(text);
	st.total_ms = vms_now_ms() - t0;
	if (stats)
		*stats = st;
	return rc;
}
