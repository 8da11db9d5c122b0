/* The editor features' answers as LSP JSON, made on the exact checker's thread from
 * exact/'s answers (lsp_feat.h). Positions go from UTF-16 units to the byte columns
 * libclang counts and back (lsp_pos.c). */
#include "serve/internal.h"
#include "serve/lsp_feat.h"
#include "core/core.h"
#include "exact/exact.h"

#include <stdlib.h>
#include <string.h>

static struct json_object *pos(int line, int ch)
{
	struct json_object *p = json_object_new_object();
	json_object_object_add(p, "line", json_object_new_int(line));
	json_object_object_add(p, "character", json_object_new_int(ch));
	return p;
}

static struct json_object *range(int l0, int c0, int l1, int c1)
{
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "start", pos(l0, c0));
	json_object_object_add(r, "end", pos(l1, c1));
	return r;
}

/* The LSP's CompletionItemKind for exact/'s. */
static int lsp_kind(enum vms_exact_item_kind k)
{
	switch (k) {
	case VMS_ITEM_FIELD: return 5;
	case VMS_ITEM_STRUCT: case VMS_ITEM_UNION: return 22;
	case VMS_ITEM_ENUM: return 13;
	case VMS_ITEM_ENUM_CONST: return 20;
	case VMS_ITEM_FUNCTION: return 3;
	case VMS_ITEM_VARIABLE: return 6;
	case VMS_ITEM_TYPEDEF: return 7;
	case VMS_ITEM_MACRO: return 21;
	case VMS_ITEM_KEYWORD: return 14;
	default: return 1;
	}
}

static char *file_uri(const char *path)
{
	struct vms_buf b = { 0 };
	vms_buf_puts(&b, "file://");
	for (const char *p = path; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c == '%' || c == '#' || c == '?' || c >= 0x7f)
			vms_buf_printf(&b, "%%%02X", c);
		else
			vms_buf_append(&b, p, 1);
	}
	return vms_buf_steal(&b);
}

static struct json_object *complete(struct vms_exact *x, const char *t, size_t len, int line0,
				    unsigned col)
{
	struct vms_exact_items it;
	struct vms_diags d = { 0 };
	if (vms_exact_complete(x, t, len, (unsigned)line0 + 1, col, LSP_MAX_ITEMS, &it, &d) < 0) {
		vms_diags_free(&d);
		return NULL;
	}
	vms_diags_free(&d);
	struct json_object *res = json_object_new_object(), *items = json_object_new_array();
	for (size_t i = 0; i < it.n; i++) {
		struct json_object *o = json_object_new_object();
		char sort[24];
		snprintf(sort, sizeof(sort), "%05zu", i);
		json_object_object_add(o, "label", json_object_new_string(it.v[i].label));
		json_object_object_add(o, "kind", json_object_new_int(lsp_kind(it.v[i].kind)));
		if (it.v[i].detail)
			json_object_object_add(o, "detail", json_object_new_string(it.v[i].detail));
		json_object_object_add(o, "sortText", json_object_new_string(sort));
		json_object_array_add(items, o);
	}
	json_object_object_add(res, "isIncomplete", json_object_new_boolean(it.incomplete));
	json_object_object_add(res, "items", items);
	vms_exact_items_free(&it);
	return res;
}

/* The member's place in each target kernel, as markdown lines. */
static void per_kernel(struct vms_core_btfs *tb, const struct vms_exact_hover *h,
		       struct vms_buf *b)
{
	if (!tb || !vms_core_btfs_count(tb) || !h->record || !h->member)
		return;
	vms_buf_puts(b, "\n\n| kernel | offset | size |\n|---|---|---|");
	for (size_t i = 0; i < vms_core_btfs_count(tb); i++) {
		struct vms_core_member m;
		struct vms_diags d = { 0 };
		int r = vms_core_member(tb, i, h->record, h->record_is_union, h->member, &m, &d);
		const char *k = vms_basename(vms_core_btfs_path(tb, i));
		if (r < 0)
			vms_buf_printf(b, "\n| %s | unreadable BTF | |", k);
		else if (r == 0 && !m.record_found)
			vms_buf_printf(b, "\n| %s | absent (no %s %s) | |", k,
				       h->record_is_union ? "union" : "struct", h->record);
		else if (r == 0)
			vms_buf_printf(b, "\n| %s | absent | |", k);
		else if (m.bitfield_size)
			vms_buf_printf(b, "\n| %s | bit %llu | %u bits |", k,
				       (unsigned long long)m.bit_offset, m.bitfield_size);
		else
			vms_buf_printf(b, "\n| %s | %llu | %llu |", k,
				       (unsigned long long)(m.bit_offset / 8),
				       (unsigned long long)m.size);
		vms_diags_free(&d);
	}
}

static struct json_object *hover(struct vms_exact *x, struct vms_core_btfs *tb, const char *t,
				 size_t len, int line0, unsigned col)
{
	struct vms_exact_hover h;
	struct vms_diags d = { 0 };
	int r = vms_exact_hover(x, t, len, (unsigned)line0 + 1, col, &h, &d);
	vms_diags_free(&d);
	if (r <= 0)
		return NULL;
	struct vms_buf b = { 0 };
	vms_buf_puts(&b, h.markdown);
	per_kernel(tb, &h, &b);
	struct json_object *res = json_object_new_object(), *c = json_object_new_object();
	json_object_object_add(c, "kind", json_object_new_string("markdown"));
	char *md = vms_buf_steal(&b);
	json_object_object_add(c, "value", json_object_new_string(md));
	free(md);
	json_object_object_add(res, "contents", c);
	json_object_object_add(res, "range",
			       range(line0, lsp_utf16_col(t, len, line0, (int)h.col), line0,
				     lsp_utf16_col(t, len, line0, (int)h.end_col)));
	vms_exact_hover_free(&h);
	return res;
}

static struct json_object *definition(struct vms_exact *x, const char *t, size_t len, int line0,
				      unsigned col)
{
	struct vms_exact_loc loc;
	struct vms_diags d = { 0 };
	int r = vms_exact_definition(x, t, len, (unsigned)line0 + 1, col, &loc, &d);
	vms_diags_free(&d);
	if (r <= 0)
		return NULL;
	struct json_object *o = json_object_new_object();
	char *uri = file_uri(loc.file);
	json_object_object_add(o, "uri", json_object_new_string(uri));
	/* headers are ASCII: their byte columns are UTF-16 ones */
	int l = (int)loc.line - 1, c = (int)loc.col - 1;
	json_object_object_add(o, "range", range(l, c, l, c));
	free(uri);
	free(loc.file);
	return o;
}

static struct json_object *signature(struct vms_exact *x, const char *t, size_t len, int line0,
				     unsigned col)
{
	struct vms_exact_signature s;
	struct vms_diags d = { 0 };
	int r = vms_exact_signature(x, t, len, (unsigned)line0 + 1, col, &s, &d);
	vms_diags_free(&d);
	if (r <= 0)
		return NULL;
	struct json_object *res = json_object_new_object(), *sigs = json_object_new_array(),
			   *sig = json_object_new_object(), *params = json_object_new_array();
	json_object_object_add(sig, "label", json_object_new_string(s.label));
	for (size_t i = 0; i < s.n_params; i++) {
		struct json_object *p = json_object_new_object(), *lab = json_object_new_array();
		json_object_array_add(lab, json_object_new_int((int)s.params[i][0]));
		json_object_array_add(lab, json_object_new_int((int)s.params[i][1]));
		json_object_object_add(p, "label", lab);
		json_object_array_add(params, p);
	}
	json_object_object_add(sig, "parameters", params);
	json_object_array_add(sigs, sig);
	json_object_object_add(res, "signatures", sigs);
	json_object_object_add(res, "activeSignature", json_object_new_int(0));
	json_object_object_add(res, "activeParameter", json_object_new_int(s.active));
	vms_exact_signature_free(&s);
	return res;
}

struct json_object *lsp_feature(struct vms_exact *x, struct vms_core_btfs *targets, int kind,
				const char *text, size_t len, int line0, int ch16)
{
	/* the byte column libclang counts, 1-based */
	size_t off = lsp_offset(text, len, line0, ch16), ls = off;
	while (ls > 0 && text[ls - 1] != '\n')
		ls--;
	unsigned col = (unsigned)(off - ls) + 1;
	switch (kind) {
	case XREQ_COMPLETE: return complete(x, text, len, line0, col);
	case XREQ_HOVER: return hover(x, targets, text, len, line0, col);
	case XREQ_DEFINITION: return definition(x, text, len, line0, col);
	case XREQ_SIGNATURE: return signature(x, text, len, line0, col);
	}
	return NULL;
}
