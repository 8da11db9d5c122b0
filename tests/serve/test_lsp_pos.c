/* serve/lsp_pos.c on its own: UTF-16 positions over UTF-8 text, both directions, the
 * clamps at line and text ends, and the ranges diagnostics underline.
 *
 * usage: test_lsp_pos */
#include <stdio.h>
#include <string.h>

#include "serve/internal.h"
#include "tests/testutil.h"


/* line 0: "ab"; line 1: e-acute (2 bytes), euro sign (3), grinning face (4: two UTF-16
 * units), "x = y;"; line 2: blanks then "foo_1 bar"; line 3 has no newline */
static const char text[] = "ab\n"
			   "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80x = y;\n"
			   "\t  foo_1 bar\n"
			   "end";

int main(void)
{
	size_t len = strlen(text);
	size_t l1 = 3, l2 = l1 + 2 + 3 + 4 + 6 + 1, l3 = l2 + 13;

	/* (line, character) -> byte */
	CHECK(lsp_offset(text, len, 0, 0) == 0, "start");
	CHECK(lsp_offset(text, len, 0, 2) == 2, "end of line 0");
	CHECK(lsp_offset(text, len, 0, 99) == 2, "past the end of line 0 clamps to it");
	CHECK(lsp_offset(text, len, 1, 1) == l1 + 2, "after e-acute");
	CHECK(lsp_offset(text, len, 1, 2) == l1 + 5, "after the euro sign");
	CHECK(lsp_offset(text, len, 1, 4) == l1 + 9, "after the emoji (two units)");
	CHECK(lsp_offset(text, len, 1, 5) == l1 + 10, "after x");
	CHECK(lsp_offset(text, len, 3, 2) == l3 + 2, "the last line, without a newline");
	CHECK(lsp_offset(text, len, 3, 9) == len, "past the last line's end");
	CHECK(lsp_offset(text, len, 7, 0) == len, "past the last line");
	CHECK(lsp_offset("", 0, 0, 5) == 0 && lsp_offset("", 0, 3, 0) == 0, "empty text");
	CHECK(lsp_offset("a\n", 2, 1, 0) == 2, "the empty line after a final newline");

	/* 1-based byte column -> character */
	CHECK(lsp_utf16_col(text, len, 1, 1) == 0, "column 1");
	CHECK(lsp_utf16_col(text, len, 1, 3) == 1, "after e-acute");
	CHECK(lsp_utf16_col(text, len, 1, 6) == 2, "after the euro sign");
	CHECK(lsp_utf16_col(text, len, 1, 10) == 4, "after the emoji");
	CHECK(lsp_utf16_col(text, len, 1, 11) == 5, "on ' ' after x");
	CHECK(lsp_utf16_col(text, len, 1, 99) == 10, "past the line: its length");
	CHECK(lsp_utf16_col(text, len, 1, 0) == 0, "no column");
	/* the two directions agree on every character boundary */
	for (int ch = 0; ch <= 10; ch++) {
		size_t off = lsp_offset(text, len, 1, ch);
		int back = lsp_utf16_col(text, len, 1, (int)(off - l1) + 1);
		CHECK(back == ch || (ch == 3 && back == 4), "round trip at %d: %d", ch, back);
	}
	/* a malformed byte is one unit of one byte */
	CHECK(lsp_offset("\xff" "a", 2, 0, 1) == 1, "a stray continuation byte");

	/* ranges */
	int s, e;
	lsp_range(text, len, 2, 4, &s, &e); /* "foo_1" starts at byte column 4 */
	CHECK(s == 3 && e == 8, "identifier range %d-%d", s, e);
	lsp_range(text, len, 2, 9, &s, &e); /* the blank after foo_1: one character */
	CHECK(s == 8 && e == 9, "one-character range %d-%d", s, e);
	lsp_range(text, len, 1, 10, &s, &e); /* "x" after the emoji */
	CHECK(s == 4 && e == 5, "range after the emoji %d-%d", s, e);
	lsp_range(text, len, 2, 0, &s, &e); /* no column: the line from its first non-blank */
	CHECK(s == 3 && e == 12, "line range %d-%d", s, e);
	lsp_range(text, len, 0, 99, &s, &e); /* past the line's end */
	CHECK(s == 2 && e == 3, "range past the end %d-%d", s, e);
	lsp_range("\n", 1, 0, 0, &s, &e); /* an empty line still gets one character */
	CHECK(s == 0 && e == 1, "empty line range %d-%d", s, e);

	if (!failures)
		printf("lsp_pos: ok\n");
	return test_exit();
}
