/* Where a program's preamble ends: the part the snapshot parses once (tccarena.h).
 *
 * The preamble is the program's leading run of preprocessor directives, comments and
 * blank lines — in a BPF program its #include lines (vmlinux.h, libbpf's headers) and
 * the #defines that steer them. The snapshot helper compiles exactly these bytes once;
 * each request then reads only the rest (the body) with the preamble blanked out, so
 * the cut must leave two texts that are each well-formed on their own:
 *
 *	#include "vmlinux.h"		preamble
 *	#ifdef DEBUG			preamble: the #if closes before the code
 *	#define LOG 1
 *	#endif
 *	// the maps			preamble (a comment)
 *	char LICENSE[] SEC("license")	body: the first line with code
 *
 * A block comment that ends on a line with code belongs to the body (the cut falls
 * before the comment), and so does everything from an #if that is still open where the
 * first code appears.
 *
 * The rule in one sentence: the preamble ends at the last line boundary, before the
 * first line with code outside a directive, where no comment is open and every #if has
 * its #endif.
 *
 * The lines are read by the shared preprocessor scanner (common/ppscan.h), which reads
 * them as clang does; where TCC 0.9.27 reads a spelling otherwise, the program gets no
 * preamble at all (0 is always a correct cut: the whole program is then the body, and
 * the check is only slower):
 *
 *   - a lone CR is a newline for clang and a blank for TCC (`#define X 1<CR>int y;`
 *     defines X as `1 int y;`), and a backslash with blanks before its newline splices
 *     for clang only: the scanner's strict mode refuses both (and NUL bytes);
 *   - a UTF-8 BOM is skipped by clang, read as identifier bytes by TCC (an error before
 *     the first directive): the body keeps it, so TCC reports it where the compiler does;
 *   - the digraph %: starts a directive for clang only: such a line counts as code.
 *
 * The cut falls at a physical line boundary: right after a newline (before any splice
 * that begins the next line), so that the template's marker line, appended after the
 * preamble, starts a line of its own.
 */
#include "tccarena/internal.h"

#include <string.h>

#include "common/ppscan.h"

struct cut {
	int depth;		/* #if nesting */
	size_t safe;		/* physical offset of the last safe cut */
};

/* The physical offset just past the logical newline that ends before off (off > 0 is a
 * line start): before the splices that may start the next line. */
static size_t line_boundary(const struct vms_pp_src *s, size_t off)
{
	return off ? vms_pp_phys(s, off - 1) + 1 : 0;
}

static int is_word(const struct vms_pp_dir *d, const char *w)
{
	return d->name_len == strlen(w) && !memcmp(d->name, w, d->name_len);
}

static int on_code(void *ctx, const struct vms_pp_src *s, const struct vms_pp_code *code)
{
	struct cut *c = ctx;
	if (c->depth == 0)
		c->safe = line_boundary(s, code->start);
	return 1;
}

static int on_directive(void *ctx, const struct vms_pp_src *s, const struct vms_pp_dir *d)
{
	struct cut *c = ctx;
	if (s->t[d->hash] == '%') /* TCC has no digraphs: code to it */
		return on_code(ctx, s, &(struct vms_pp_code){ .start = d->start });
	/* the lines before this one are blank or comments: a cut before it is as good */
	if (c->depth == 0)
		c->safe = line_boundary(s, d->start);
	if (is_word(d, "if") || is_word(d, "ifdef") || is_word(d, "ifndef"))
		c->depth++;
	else if (is_word(d, "endif"))
		c->depth--;
	if (c->depth < 0)
		return 1;
	/* the last line: the end of the text decides (it may end inside a comment) */
	if (c->depth == 0 && d->end < s->n)
		c->safe = line_boundary(s, d->end);
	return 0;
}

/* Returns the preamble's length in bytes: 0 when the program starts with code, len
 * when it is all preamble, and the last safe point when an #endif has no #if. */
size_t vms_tcc_preamble_len(const char *src, size_t len)
{
	if (len >= 3 && !memcmp(src, "\xef\xbb\xbf", 3))
		return 0;
	struct vms_pp_src s;
	struct vms_diags refused = { 0 }; /* not shown: a refusal only means no preamble */
	struct cut c = { 0 };
	if (vms_pp_open(&s, src, len, VMS_PP_STRICT, NULL, &refused) == 0) {
		struct vms_pp_ops ops = { on_directive, on_code, &c };
		if (vms_pp_scan(&s, 0, &ops) == 0 && c.depth == 0 && !vms_pp_ends_in_comment(&s, 0))
			c.safe = len;
	}
	vms_pp_close(&s);
	vms_diags_free(&refused);
	return c.safe;
}

/* Lines the preamble covers: the template's lines past them are the program's end (a
 * last line without its newline counts). */
int vms_tcc_count_lines(const char *s, size_t len)
{
	int lines = 0;
	for (size_t k = 0; k < len; k++)
		lines += s[k] == '\n';
	if (len && s[len - 1] != '\n')
		lines++;
	return lines;
}
