/* What a program does before it includes the header: may the header be parsed ahead of
 * the whole program (the warm path of warm.c, a slim build's derived header)?
 *
 * The warm unit parses the header first and the program after it, so the program's own
 * `#include "vmlinux.h"` is then skipped by the include guard. That equals a real compile
 * only when nothing ahead of the include could change how the header reads. Allowed ahead
 * of it: comments, blank lines, and #define/#undef of names the header never mentions
 * (`#define MAX_ENTRIES 10`). A #define or #undef of a name the header does mention
 * (`#define BPF_NO_PRESERVE_ACCESS_INDEX`, `#define u32 int`) changes the header; any
 * other directive or code ahead of the include (an #include of another header, an #if)
 * leaves the question open, so the caller takes the cold path, which parses the program
 * exactly as clang compiles it. The lines come from the one preprocessor scanner
 * (common/ppscan.h), so splices, comments and literals read as clang reads them. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/ppscan.h"
#include "extract/extract.h"

struct pre {
	const char *htext, *hname;
	size_t hlen;
	int result;
	int angled;	/* the include found was <vmlinux.h> */
	char *why;
};

static int is_ident(int c)
{
	return isalnum(c) || c == '_';
}

/* Does the identifier occur in the header as a whole word? */
static int header_mentions(const struct pre *p, const char *id, size_t n)
{
	const char *s = p->htext, *end = p->htext + p->hlen;
	while (s < end) {
		const char *hit = memmem(s, (size_t)(end - s), id, n);
		if (!hit)
			return 0;
		int before = hit > p->htext && is_ident((unsigned char)hit[-1]);
		int after = hit + n < end && is_ident((unsigned char)hit[n]);
		if (!before && !after)
			return 1;
		s = hit + 1;
	}
	return 0;
}

static int stop(struct pre *p, int result, char *why)
{
	p->result = result;
	p->why = why;
	return 1;
}

static int on_directive(void *ctx, const struct vms_pp_src *s, const struct vms_pp_dir *d)
{
	(void)s;
	struct pre *p = ctx;
	if (d->name_len == 0)
		return 0; /* the null directive */
	if (d->name_len == 7 && !memcmp(d->name, "include", 7)) {
		const char *t = d->text;
		size_t n = d->text_len;
		if (n >= 2 && (t[0] == '"' || t[0] == '<')) {
			const char *close = memchr(t + 1, t[0] == '"' ? '"' : '>', n - 1);
			if (close) {
				size_t l = (size_t)(close - t - 1);
				const char *name = t + 1;
				p->angled = t[0] == '<';
				if ((l == 9 && !memcmp(name, "vmlinux.h", 9)) ||
				    (l == strlen(p->hname) && !memcmp(name, p->hname, l)))
					return stop(p, VMS_PREINCLUDE_OK, NULL);
			}
		}
		return stop(p, VMS_PREINCLUDE_COLD,
			    vms_xasprintf("line %d: #include %.*s comes before vmlinux.h", d->line,
					  (int)d->text_len, d->text));
	}
	if ((d->name_len == 6 && !memcmp(d->name, "define", 6)) ||
	    (d->name_len == 5 && !memcmp(d->name, "undef", 5))) {
		size_t l = 0;
		while (l < d->text_len && is_ident((unsigned char)d->text[l]))
			l++;
		if (!l)
			return stop(p, VMS_PREINCLUDE_COLD,
				    vms_xasprintf("line %d: malformed #%.*s", d->line,
						  (int)d->name_len, d->name));
		if (header_mentions(p, d->text, l))
			return stop(p, VMS_PREINCLUDE_CHANGES,
				    vms_xasprintf("line %d: #%.*s %.*s before vmlinux.h is included "
						  "changes the header, which uses that name",
						  d->line, (int)d->name_len, d->name, (int)l, d->text));
		return 0;
	}
	return stop(p, VMS_PREINCLUDE_COLD,
		    vms_xasprintf("line %d: #%.*s before vmlinux.h is included", d->line,
				  (int)d->name_len, d->name));
}

static int on_code(void *ctx, const struct vms_pp_src *s, const struct vms_pp_code *c)
{
	(void)s;
	return stop(ctx, VMS_PREINCLUDE_COLD,
		    vms_xasprintf("line %d: code before vmlinux.h is included", c->line));
}

int vms_extract_preinclude(const char *text, size_t len, const char *header_text,
			   size_t header_len, const char *header_name, char **why)
{
	return vms_extract_preinclude_form(text, len, header_text, header_len, header_name, why,
					   NULL);
}

int vms_extract_preinclude_form(const char *text, size_t len, const char *header_text,
				size_t header_len, const char *header_name, char **why,
				int *angled)
{
	struct pre p = { .htext = header_text, .hlen = header_len,
			 .hname = vms_basename(header_name), .result = VMS_PREINCLUDE_NONE };
	struct vms_pp_src s;
	struct vms_diags d = { 0 };
	if (vms_pp_open(&s, text, len, 0, NULL, &d) == 0) {
		struct vms_pp_ops ops = { .directive = on_directive, .code = on_code, .ctx = &p };
		vms_pp_scan(&s, 0, &ops);
	} else {
		p.result = VMS_PREINCLUDE_COLD;
	}
	vms_pp_close(&s);
	vms_diags_free(&d);
	if (p.result == VMS_PREINCLUDE_NONE && !p.why)
		p.why = vms_xstrdup("the program does not include vmlinux.h itself");
	if (why)
		*why = p.why;
	else
		free(p.why);
	if (angled)
		*angled = p.result == VMS_PREINCLUDE_OK && p.angled;
	return p.result;
}
