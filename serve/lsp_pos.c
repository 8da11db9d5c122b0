/* LSP text positions: (line, UTF-16 character) <-> byte offsets in a UTF-8 text.
 *
 * The protocol counts characters in UTF-16 code units (its default position encoding,
 * the one vmslim announces): a code point below U+10000 is one unit, one above (a 4-byte
 * UTF-8 sequence) is two. Documents are kept as UTF-8 bytes, and compilers report byte
 * columns, so both directions walk the line once, counting units per UTF-8 sequence.
 * A malformed lead byte counts as one unit of one byte, so any text maps somewhere.
 * Positions past a line's end clamp to it, and lines past the text's end to its end, as
 * the specification asks of servers. */
#include "serve/internal.h"

static size_t line_start(const char *t, size_t len, int line)
{
	size_t i = 0;
	for (int k = 0; k < line && i < len; i++)
		if (t[i] == '\n')
			k++;
	return line <= 0 ? 0 : i;
}

static size_t utf8_len(unsigned char c)
{
	return c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 1;
}

static int units_of(size_t seq_len)
{
	return seq_len == 4 ? 2 : 1;
}

size_t lsp_offset(const char *t, size_t len, int line, int ch)
{
	size_t i = line_start(t, len, line);
	if (line > 0 && i == len && (len == 0 || t[len - 1] != '\n'))
		return len; /* past the last line */
	int units = 0;
	while (i < len && t[i] != '\n' && units < ch) {
		size_t n = utf8_len((unsigned char)t[i]);
		units += units_of(n);
		i += n;
	}
	return i > len ? len : i;
}

int lsp_utf16_col(const char *t, size_t len, int line, int bytecol)
{
	size_t i = line_start(t, len, line), end = i + (size_t)(bytecol > 0 ? bytecol - 1 : 0);
	int units = 0;
	while (i < len && i < end && t[i] != '\n') {
		size_t n = utf8_len((unsigned char)t[i]);
		units += units_of(n);
		i += n;
	}
	return units;
}

/* The line's length in units, and where its first non-blank character is (0 if none). */
static int line_units(const char *t, size_t len, int line, int *first_nonblank)
{
	size_t i = line_start(t, len, line);
	int units = 0, first = -1;
	while (i < len && t[i] != '\n') {
		if (first < 0 && t[i] != ' ' && t[i] != '\t')
			first = units;
		size_t n = utf8_len((unsigned char)t[i]);
		units += units_of(n);
		i += n;
	}
	*first_nonblank = first < 0 ? 0 : first;
	return units;
}

static int ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

void lsp_range(const char *t, size_t len, int line, int bytecol, int *start, int *end)
{
	int first, units = line_units(t, len, line, &first);
	if (bytecol > 0) {
		/* the identifier that starts there, or one character */
		int sc = lsp_utf16_col(t, len, line, bytecol);
		size_t off = lsp_offset(t, len, line, sc), e = off;
		while (e < len && ident_char(t[e]))
			e++;
		int ec = sc + (int)(e > off ? e - off : 1);
		if (ec > units)
			ec = units > sc ? units : sc + 1;
		*start = sc;
		*end = ec;
	} else {
		/* the line, from its first non-blank character */
		*start = first;
		*end = units > first ? units : first + 1;
	}
}
