/* From TCC's messages to vmslim diagnostics, and from diagnostics to a verdict.
 *
 * TCC reports through its error callback one string per message:
 *   "In file included from A:1:\n...\nFILE:LINE: error: MSG"
 * The last line carries the location. File names TCC saw for the program's own text
 * (a virtual file, the snapshot's template and body) are mapped back to the name the
 * caller gave; a vmlinux.h that was substituted is named by its real path.
 *
 * The verdict distinguishes errors in the program from things TCC cannot judge. TCC
 * assembles inline asm as x86 (BPF asm cannot be checked), does not parse C23's
 * `enum E : type`, and sizes a few types differently from the BPF target (__int128 is
 * 8 bytes in the prelude), so a failed static assertion that involves a size is not
 * evidence either; nor is any error in a program that asks __has_include, which the
 * prelude can only answer with 0. When the first error falls into one of those cases
 * the result is "unsupported" — ask clang — and never an error charged to the program.
 *
 * Also here: the small pieces every tccarena file shares (captured messages, names).
 */
#include "tccarena/internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- shared pieces ---- */

void vms_raw_msgs_add(struct vms_raw_msgs *m, char *text, int in_asm, int cap_hit)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 8;
		m->v = vms_xrealloc(m->v, m->cap * sizeof(*m->v));
	}
	m->v[m->n++] = (struct vms_raw_msg){ .text = text, .in_asm = in_asm, .cap_hit = cap_hit };
}

void vms_raw_msgs_free(struct vms_raw_msgs *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].text);
	free(m->v);
	m->v = NULL;
	m->n = m->cap = 0;
}

void vms_strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

const char *vms_tcc_status_name(enum vms_tcc_status s)
{
	switch (s) {
	case VMS_TCC_OK: return "ok";
	case VMS_TCC_ERRORS: return "errors";
	case VMS_TCC_UNSUPPORTED: return "unsupported";
	case VMS_TCC_CRASHED: return "crashed";
	case VMS_TCC_TIMEOUT: return "timeout";
	case VMS_TCC_MEMORY: return "memory";
	case VMS_TCC_FAILED: return "failed";
	}
	return "?";
}

void vms_tcc_result_free(struct vms_tcc_result *r)
{
	vms_diags_free(&r->diags);
}

/* ---- parsing one message ---- */

struct parsed {
	char *file;	/* owned or NULL */
	int line;
	int is_warning;
	const char *msg; /* points into the text */
};

static int parse_msg(const char *text, struct parsed *p)
{
	memset(p, 0, sizeof(*p));
	const char *last = text, *nl;
	while ((nl = strchr(last, '\n')) && nl[1])
		last = nl + 1;
	const char *e = strstr(last, ": error: ");
	const char *w = strstr(last, ": warning: ");
	const char *sep;
	if (e && (!w || e < w)) {
		sep = e;
		p->msg = e + strlen(": error: ");
	} else if (w) {
		sep = w;
		p->is_warning = 1;
		p->msg = w + strlen(": warning: ");
	} else {
		p->msg = last;
		return 0;
	}
	/* "FILE:LINE" or "FILE" or "tcc" */
	const char *colon = NULL;
	for (const char *q = sep - 1; q >= last; q--) {
		if (*q == ':') {
			colon = q;
			break;
		}
		if (!isdigit((unsigned char)*q))
			break;
	}
	if (colon && colon + 1 < sep) {
		p->line = atoi(colon + 1);
		p->file = vms_xstrndup(last, (size_t)(colon - last));
	} else if (strncmp(last, "tcc", (size_t)(sep - last)) != 0 || sep - last != 3) {
		p->file = vms_xstrndup(last, (size_t)(sep - last));
	}
	return 0;
}

/* Warnings that clang (16 and later) and the BPF backend treat as errors. */
static int promoted(const char *msg)
{
	return strncmp(msg, "implicit declaration of function", 32) == 0;
}

int vms_tcc_msg_is_error(const char *text)
{
	struct parsed p;
	parse_msg(text, &p);
	int err = !p.is_warning || promoted(p.msg);
	free(p.file);
	return err;
}

/* ---- looking at the offending line ---- */

static char *line_of(const char *src, size_t len, int line)
{
	if (line < 1)
		return NULL;
	const char *p = src, *end = src + len;
	for (int l = 1; l < line && p < end; l++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return NULL;
		p = nl + 1;
	}
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return vms_xstrndup(p, nl ? (size_t)(nl - p) : (size_t)(end - p));
}

/* A header the error points into, read to look at the line. Only regular files of a
 * sane size: a program may #include "/dev/zero" or a FIFO, which TCC's time limit
 * covers in the child but nothing would cover here, in the caller. */
#define MAX_LOOK_SIZE ((off_t)256 << 20)

static char *line_from_file(const char *path, int line)
{
	char *data;
	size_t len;
	struct stat st;
	if (!path || stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_LOOK_SIZE ||
	    vms_read_file(path, &data, &len) < 0)
		return NULL;
	char *l = line_of(data, len, line);
	free(data);
	return l;
}

static int is_ident(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Whole-word occurrence of w in s. */
static const char *find_word(const char *s, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = strstr(s, w); p; p = strstr(p + 1, w))
		if ((p == s || !is_ident(p[-1])) && !is_ident(p[n]))
			return p;
	return NULL;
}

/* C23 `enum [name] : type` */
static int has_enum_base(const char *s)
{
	for (const char *p = find_word(s, "enum"); p; p = find_word(p + 4, "enum")) {
		const char *q = p + 4;
		while (isspace((unsigned char)*q))
			q++;
		while (is_ident(*q))
			q++;
		while (isspace((unsigned char)*q))
			q++;
		if (*q == ':' && q[1] != ':')
			return 1;
	}
	return 0;
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);
	return n >= t && !strcmp(s + n - t, tail);
}

static int mentions_size(const char *s)
{
	return find_word(s, "sizeof") || find_word(s, "offsetof") ||
	       find_word(s, "__builtin_offsetof") || find_word(s, "_Alignof") ||
	       find_word(s, "__alignof__") || find_word(s, "alignof");
}

/* Constructs of newer C or GNU C that TCC 0.9.27 does not parse. */
static const char *unsupported_word(const char *s)
{
	static const char *const words[] = { "_BitInt", "__auto_type", "typeof_unqual",
					     "__typeof_unqual__", "_Float16", "__bf16", NULL };
	for (size_t i = 0; words[i]; i++)
		if (find_word(s, words[i]))
			return words[i];
	return NULL;
}

/* Why the fast checker cannot judge this error, or NULL if it is the program's. */
static const char *unsupported_reason(const struct vms_raw_msg *m, const char *line_text,
				      char *buf, size_t bufsz)
{
	if (m->in_asm)
		return "inline assembly (TCC assembles x86, not BPF)";
	if (!line_text)
		return NULL;
	if (has_enum_base(line_text))
		return "an enum with a fixed underlying type (C23 `enum E : type`)";
	/* compile-time assertions: _Static_assert, BUILD_BUG_ON, char x[cond ? 1 : -1] */
	int assertion = find_word(line_text, "_Static_assert") || find_word(line_text, "static_assert") ||
			find_word(line_text, "BUILD_BUG_ON") ||
			ends_with(m->text, "invalid array size");
	if (assertion && mentions_size(line_text))
		return "a compile-time assertion on a size (TCC lays out some types differently "
		       "from the BPF target)";
	const char *w = unsupported_word(line_text);
	if (w) {
		snprintf(buf, bufsz, "'%s'", w);
		return buf;
	}
	/* GNU C's cast to a union type, `(union u)x`, which TCC does not have */
	if (strstr(m->text, "' to 'union ") && strstr(line_text, "(union "))
		return "a cast to a union type (GNU C)";
	return NULL;
}

/* The last line with anything but blanks on it (1-based; 1 for an empty text). */
static int last_content_line(const char *src, size_t len)
{
	int line = 1, last = 1;
	for (size_t i = 0; i < len; i++) {
		if (src[i] == '\n')
			line++;
		else if (src[i] != ' ' && src[i] != '\t' && src[i] != '\r')
			last = line;
	}
	return last;
}

/* The nearest line before `line` with code on it (blank and comment-only lines skipped). */
static int previous_code_line(const char *src, size_t len, int line)
{
	for (int l = line - 1; l >= 1; l--) {
		char *t = line_of(src, len, l);
		if (!t)
			continue;
		const char *p = t;
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		int code = *p && strncmp(p, "//", 2) && strncmp(p, "/*", 2) && *p != '*';
		free(t);
		if (code)
			return l;
	}
	return line;
}

/* Where clang would put the error. TCC reports a missing token where it noticed, at the
 * next token; clang reports it just after the previous token ("expected ';' after
 * expression"), which is an earlier line when the next token starts a line. */
static int clang_line(const char *msg, int line, const char *src, size_t len)
{
	if (!strncmp(msg, "unexpected end of file", 22))
		return last_content_line(src, len);
	/* TCC charges an error to the previous line while the current one has no token yet
	 * (its guess for a missing ';'), so a stray byte at the start of a line is charged to
	 * the line before (line 0 at the start of a file). An unterminated string or
	 * character constant runs on to the end of the file in TCC; clang names the line it
	 * starts on: the last one, going back, with that quote on it. */
	unsigned byte = 0;
	if (sscanf(msg, "unrecognized character \\x%x", &byte) == 1 && byte && byte < 256) {
		char *here = line_of(src, len, line), *next = line_of(src, len, line + 1);
		int moved = next && strchr(next, (int)byte) && (!here || !strchr(here, (int)byte));
		free(here);
		free(next);
		return moved ? line + 1 : line;
	}
	if (!strncmp(msg, "missing terminating ", 20) && msg[20]) {
		for (int l = line; l >= 1; l--) {
			char *t = line_of(src, len, l);
			int found = t && strchr(t, msg[20]);
			free(t);
			if (found)
				return l;
		}
		return line;
	}
	const char *got = strstr(msg, " expected (got \"");
	if (!got || strncmp(msg, "';'", 3))
		return line;
	got += strlen(" expected (got \"");
	const char *end = strrchr(got, '"');
	char *text = line_of(src, len, line);
	if (!text || !end)
		return line;
	const char *p = text;
	while (*p == ' ' || *p == '\t')
		p++;
	int starts = end > got && !strncmp(p, got, (size_t)(end - got));
	free(text);
	return starts ? previous_code_line(src, len, line) : line;
}

static const char *mapped(const struct vms_name_map *map, const char *file, const char *vmlinux)
{
	if (!file)
		return NULL;
	for (size_t i = 0; i < 3; i++)
		if (map->from[i] && strcmp(map->from[i], file) == 0)
			return map->to;
	if (vmlinux) {
		const char *b = strrchr(file, '/');
		if (strcmp(b ? b + 1 : file, "vmlinux.h") == 0)
			return vmlinux;
	}
	return file;
}

enum vms_tcc_status vms_tcc_classify(const struct vms_raw_msgs *m, const struct vms_name_map *map,
				     const char *src, size_t src_len, const char *vmlinux,
				     int warnings, struct vms_diags *out)
{
	enum vms_tcc_status st = VMS_TCC_OK;
	for (size_t i = 0; i < m->n; i++) {
		struct parsed p;
		parse_msg(m->v[i].text, &p);
		const char *file = mapped(map, p.file, vmlinux);
		int own = file && map->to && strcmp(file, map->to) == 0;
		if (map->tmpl && p.file && !strcmp(p.file, map->tmpl) && p.line > map->preamble_lines)
			p.line = last_content_line(src, src_len); /* past the program's end */
		else if (own)
			p.line = clang_line(p.msg, p.line, src, src_len);
		int is_err = !p.is_warning || promoted(p.msg);
		if (!is_err) {
			if (warnings && own)
				vms_diag_add(out, VMS_WARNING, file, p.line, 0, "%s", p.msg);
			free(p.file);
			continue;
		}
		if (st != VMS_TCC_OK) {
			/* After the first error only errors in the same class are kept; an
			 * unsupported construct makes whatever follows it noise. */
			if (st == VMS_TCC_ERRORS)
				vms_diag_add(out, VMS_ERROR, file, p.line, 0, "%s", p.msg);
			free(p.file);
			continue;
		}
		if (m->v[i].cap_hit) {
			st = VMS_TCC_MEMORY;
			vms_diag_add(out, VMS_WARNING, file, p.line, 0,
				     "not checked: the fast checker's memory limit was reached; use "
				     "clang (TCC: %s)", p.msg);
			free(p.file);
			continue;
		}
		char *text = own ? line_of(src, src_len, p.line) : line_from_file(p.file, p.line);
		if (!text && file != p.file && !own)
			text = line_from_file(file, p.line);
		char buf[64];
		const char *why = unsupported_reason(&m->v[i], text, buf, sizeof(buf));
		free(text);
		/* the prelude answers __has_include with 0, whatever exists: any error may
		 * come from the branch clang would not have taken */
		if (!why && src && memmem(src, src_len, "__has_include", 13))
			why = "__has_include (TCC cannot answer it)";
		if (why) {
			st = VMS_TCC_UNSUPPORTED;
			vms_diag_add(out, VMS_NOTE, file, p.line, 0,
				     "not checked: %s is beyond the fast checker; use clang (TCC: %s)",
				     why, p.msg);
		} else {
			st = VMS_TCC_ERRORS;
			vms_diag_add(out, VMS_ERROR, file, p.line, 0, "%s", p.msg);
		}
		free(p.file);
	}
	return st;
}
