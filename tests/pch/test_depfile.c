/* test_depfile: the dependency-file functions of pch/depfile.c, each on its own — make
 * tokens and their escapes, clang's line layout, and the rewrite of a PCH build's file
 * into a plain build's (the -MT and -MP shapes, a header reached through the shim). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pch/internal.h"
#include "tests/testutil.h"

static int argv_is(const struct vms_argv *a, const char *const *want)
{
	size_t n = 0;
	while (want[n])
		n++;
	if (a->n != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(a->v[i], want[i]))
			return 0;
	return 1;
}

static void test_tokens(void)
{
	const char *text = "a.o: src.c /x/a\\ b.h \\\n  c$$d.h\td\\#e.h\n";
	struct vms_argv t = { 0 };
	pch_dep_tokenize(text, strlen(text), &t);
	static const char *const want[] = { "a.o:", "src.c", "/x/a\\ b.h", "c$$d.h", "d\\#e.h",
					    NULL };
	CHECK(argv_is(&t, want), "tokens of a rule with a continuation and escapes (%zu)", t.n);

	/* unescape then escape gives the token back */
	static const char *const paths[] = { "src.c", "/x/a b.h", "c$d.h", "d#e.h" };
	for (size_t i = 1; i < t.n && i <= 4; i++) {
		char *u = pch_dep_unescape(t.v[i]);
		char *e = pch_dep_escape(u);
		CHECK(!strcmp(u, paths[i - 1]), "unescape '%s' -> '%s'", t.v[i], u);
		CHECK(!strcmp(e, t.v[i]), "escape '%s' -> '%s', expected '%s'", u, e, t.v[i]);
		free(u), free(e);
	}
	char *bs = pch_dep_unescape("a\\\\b");
	CHECK(!strcmp(bs, "a\\b"), "an escaped backslash: '%s'", bs);
	free(bs);
	vms_argv_free(&t);

	struct vms_argv none = { 0 };
	pch_dep_tokenize(" \\\n \n", 5, &none);
	CHECK(none.n == 0, "blank text has no tokens (%zu)", none.n);
	vms_argv_free(&none);
}

static void test_format(void)
{
	struct vms_argv targets = { 0 }, deps = { 0 }, back = { 0 };
	vms_argv_push(&targets, "prog.o");
	vms_argv_push(&deps, "prog.c");
	for (int i = 0; i < 12; i++)
		vms_argv_pushf(&deps, "/usr/include/some/rather/long/dir\\ %d/header%d.h", i, i);
	char *text = pch_dep_format(&targets, &deps, 0, "prog.c");
	CHECK(!strncmp(text, "prog.o: prog.c", 14), "layout starts with the rule: %s", text);
	CHECK(strstr(text, " \\\n ") != NULL, "long rules wrap with a continuation: %s", text);
	for (const char *l = text, *nl; (nl = strchr(l, '\n')); l = nl + 1)
		CHECK(nl - l <= 76, "line of %d columns", (int)(nl - l));
	pch_dep_tokenize(text, strlen(text), &back);
	CHECK(back.n == deps.n + 1 && !strcmp(back.v[0], "prog.o:"), "re-tokenized: %zu", back.n);
	for (size_t i = 0; i + 1 < back.n && i < deps.n; i++)
		CHECK(!strcmp(back.v[i + 1], deps.v[i]), "token %zu: '%s' vs '%s'", i,
		      back.v[i + 1], deps.v[i]);
	free(text);

	/* -MP: a phony rule for every dependency but the source */
	struct vms_argv few = { 0 };
	vms_argv_push(&few, "prog.c");
	vms_argv_push(&few, "a\\ b.h");
	text = pch_dep_format(&targets, &few, 1, "prog.c");
	CHECK(!strcmp(text, "prog.o: prog.c a\\ b.h\n\na\\ b.h:\n"), "-MP layout: '%s'", text);
	free(text);
	text = pch_dep_format(&targets, &few, VMS_DEP_PHONY_TIGHT, "prog.c");
	CHECK(!strcmp(text, "prog.o: prog.c a\\ b.h\na\\ b.h:\n"), "clang 19's -MP layout: '%s'",
	      text);
	free(text);
	vms_argv_free(&few);
	vms_argv_free(&targets);
	vms_argv_free(&deps);
	vms_argv_free(&back);
}

static void check_rewrite(const char *tag, const char *in, const char *shim, const char *header,
			  const char *want)
{
	char *out = pch_dep_rewrite(in, strlen(in), shim, header, "prog.c", NULL);
	if (!want)
		CHECK(!out, "%s: unchanged expected, got '%s'", tag, out);
	else
		CHECK(out && !strcmp(out, want), "%s: got '%s', expected '%s'", tag,
		      out ? out : "(unchanged)", want);
	free(out);
}

static void test_rewrite(void)
{
	/* the PCH's input, listed first, moves to where a plain build lists it */
	check_rewrite("plain shape", "prog.o: /h/vmlinux.h prog.c /usr/include/bpf/bpf_helpers.h\n",
		      NULL, "/h/vmlinux.h",
		      "prog.o: prog.c /h/vmlinux.h /usr/include/bpf/bpf_helpers.h\n");
	/* -MT out.o -MT extra: both targets kept, in order */
	check_rewrite("-MT shape", "out.o extra: /h/vmlinux.h prog.c x.h\n", NULL, "/h/vmlinux.h",
		      "out.o extra: prog.c /h/vmlinux.h x.h\n");
	/* a target list ending in a lone ':' */
	check_rewrite("lone colon", "out.o : /h/vmlinux.h prog.c\n", NULL, "/h/vmlinux.h",
		      "out.o: prog.c /h/vmlinux.h\n");
	/* -MP: clang's phony list is rebuilt from the dependencies */
	check_rewrite("-MP shape", "prog.o: /h/vmlinux.h prog.c x.h\n\n/h/vmlinux.h:\n\nprog.c:\n",
		      NULL, "/h/vmlinux.h", "prog.o: prog.c /h/vmlinux.h x.h\n\n/h/vmlinux.h:\n\nx.h:\n");
	/* clang 19 writes -MP's rules without blank lines: the rule ends at its first newline
	 * that no backslash continues, and the layout is kept */
	check_rewrite("-MP shape, clang 19",
		      "prog.o: /h/vmlinux.h prog.c \\\n x.h\n/h/vmlinux.h:\nprog.c:\n", NULL,
		      "/h/vmlinux.h", "prog.o: prog.c /h/vmlinux.h x.h\n/h/vmlinux.h:\nx.h:\n");
	/* a header named otherwise: the PCH's input goes, the shim becomes the header */
	check_rewrite("shim", "prog.o: /h/slim.h prog.c /c/inc/k/vmlinux.h x.h\n",
		      "/c/inc/k/vmlinux.h", "/h/slim.h", "prog.o: prog.c /h/slim.h x.h\n");
	/* a header path with a space is written escaped */
	check_rewrite("escaped header", "prog.o: /h\\ d/s.h prog.c /c/inc/k/vmlinux.h\n",
		      "/c/inc/k/vmlinux.h", "/h d/s.h", "prog.o: prog.c /h\\ d/s.h\n");
	/* nothing of the PCH in it: left alone */
	check_rewrite("plain build", "prog.o: prog.c /h/vmlinux.h\n", NULL, "/h/vmlinux.h", NULL);
	/* the source is not listed: clang's order is kept */
	check_rewrite("no source", "prog.o: /h/vmlinux.h other.c\n", NULL, "/h/vmlinux.h", NULL);
}

int main(void)
{
	test_tokens();
	test_format();
	test_rewrite();
	if (!failures)
		printf("depfile: all checks passed\n");
	return test_exit();
}
