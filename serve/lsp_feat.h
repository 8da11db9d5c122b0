/* The language server's editor features (completion, hover, definition, signature help):
 * asked of the exact checker's thread (lsp_exact.c), which owns every document's
 * translation unit, and answered there as LSP JSON (lsp_feat.c); the loop only matches
 * each answer to its request id. */
#ifndef VMSLIM_SERVE_LSP_FEAT_H
#define VMSLIM_SERVE_LSP_FEAT_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

struct xworker;
struct vms_exact;
struct vms_exact_opts;
struct vms_core_btfs;

enum { XREQ_COMPLETE = 1, XREQ_HOVER, XREQ_DEFINITION, XREQ_SIGNATURE };

/* The most completion items one answer carries (clangd's default limit too): the list is
 * marked incomplete beyond it, so the editor asks again as the prefix grows. */
#define LSP_MAX_ITEMS 100

struct xreply {
	uint64_t seq;			/* the loop's name for the request */
	struct json_object *result;	/* the response's result (NULL: null) */
	struct xreply *next;
};

/* Queues a request about doc_id's text (its checker made from o and path if it has none
 * yet): kind at the LSP position (line0, ch16 in UTF-16 units). Never replaces anything. */
void xworker_request(struct xworker *w, uint64_t doc_id, const struct vms_exact_opts *o,
		     const char *path, const char *text, size_t len, int kind, uint64_t seq,
		     int line0, int ch16);
/* The target kernels' BTFs hover reports on (before the first request). */
void xworker_set_targets(struct xworker *w, const char *const *paths, size_t n);
/* The answers ready, oldest first (free with xreply_free); the same pipe as results. */
struct xreply *xworker_take_replies(struct xworker *w);
void xreply_free(struct xreply *r);

/* On the thread: the result of one request. */
struct json_object *lsp_feature(struct vms_exact *x, struct vms_core_btfs *targets, int kind,
				const char *text, size_t len, int line0, int ch16);

#endif
