/* serve/ internal: what an untrusted source could make through macros (confine_made.c),
 * for confine.c. */
#ifndef VMSLIM_SERVE_CONFINE_MADE_H
#define VMSLIM_SERVE_CONFINE_MADE_H

#include "common/ppscan.h"

/* Fed the token texts of a source's lines in order (vms_pp_dir/vms_pp_code text), then
 * finished: refusals go to refuse (fmt has one %s, for arg). Zero it, set s, refuse and
 * ctx; made_free after. */
struct made {
	const struct vms_pp_src *s;
	void (*refuse)(void *ctx, int line, const char *fmt, const char *arg);
	void *ctx;
	struct vms_buf str;	/* the literals' contents, decoded, lowercased, joined */
	int *str_line;		/* the line of each byte of str */
	size_t str_cap;
	char **ids;		/* identifiers that are pieces of a made name or word */
	size_t nids;
	struct chain {
		char **piece;	/* NULL: a parameter */
		size_t n;
		int line;
	} *chains;
	size_t nchains;
	int pragma_param_line, pragma_word_line;
	int asm_ident, pastes, pieces; /* confine_source's asm_suspect */
};

/* is_define: t is a #define's rest (its name and parameters come first). */
void made_text(struct made *m, const char *t, size_t n, const size_t *off, int is_define);
void made_finish(struct made *m);
void made_free(struct made *m);

#endif
