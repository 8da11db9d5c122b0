/* Tests of common/'s BPF command line and preprocessor scanner; `fuzz` checks the scanner
 * against clang on generated sources. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bpf_cmdline.h"
#include "common/common.h"
#include "common/ppscan.h"
#include "tests/testutil.h"

/* ---- the command line ----------------------------------------------------------- */

static char *joined(const struct vms_argv *a)
{
	struct vms_buf b = { 0 };
	for (size_t i = 0; i < a->n; i++)
		vms_buf_printf(&b, "%s%s", i ? " " : "", a->v[i]);
	return vms_buf_steal(&b);
}

static int line_is(const struct vms_bpf_cmd *c, const char *want)
{
	struct vms_argv a = { 0 };
	vms_bpf_cmdline(c, &a);
	char *got = joined(&a);
	int ok = !strcmp(got, want);
	if (!ok)
		fprintf(stderr, "command line\n  got:  %s\n  want: %s\n", got, want);
	EXPECT(a.v && a.v[a.n] == NULL);
	free(got);
	vms_argv_free(&a);
	return ok;
}

static void test_cmdline(void)
{
	const char *host = vms_bpf_host_arch_define();
	if (!host) {
		fprintf(stderr, "no host arch: the rule is untestable here\n");
		return;
	}
	char want[1024];

	/* libclang parse of a header alone: no argv[0] */
	snprintf(want, sizeof(want), "-x c --target=bpf %s", host);
	EXPECT(line_is(&(struct vms_bpf_cmd){ .opts = VMS_BPF_LANG_C }, want));

	/* extract's program parse with user flags */
	const char *user[] = { "-Ifoo", "-DX=1", NULL };
	snprintf(want, sizeof(want), "-x c --target=bpf %s -iquote/p -Ifoo -DX=1", host);
	EXPECT(line_is(&(struct vms_bpf_cmd){ .opts = VMS_BPF_LANG_C, .iquote = "/p",
					     .user = { VMS_ARGS(user) } }, want));

	/* verify's driver run */
	snprintf(want, sizeof(want), "clang --target=bpf -g -O2 %s -iquote/p -c s.c -o o.o", host);
	EXPECT(line_is(&(struct vms_bpf_cmd){ .clang = "clang", .opts = VMS_BPF_DEBUG | VMS_BPF_O2,
					     .iquote = "/p", .input = "s.c", .output = "o.o" },
		      want));

	/* the daemon's syntax check: the user's arch wins (it used to get both) */
	const char *daemon[] = { "-DA", NULL };
	const char *req[] = { "-D__TARGET_ARCH_arm64", NULL };
	const char *inc[] = { "/i1", "/i2" };
	EXPECT(line_is(&(struct vms_bpf_cmd){ .clang = "cl", .opts = VMS_BPF_O2 | VMS_BPF_SYNTAX_ONLY |
								      VMS_BPF_PLAIN_DIAGS,
					     .iquote = "/src", .inc_dirs = { inc, 2 },
					     .user = { VMS_ARGS(daemon), VMS_ARGS(req) }, .input = "x.c" },
		      "cl --target=bpf -O2 -fsyntax-only -fno-color-diagnostics "
		      "-fno-caret-diagnostics -iquote/src -I/i1 -I/i2 -DA -D__TARGET_ARCH_arm64 x.c"));

	/* every spelling of a define counts; -U does not; a defines list may hold names */
	const char *sep[] = { "-D", "__TARGET_ARCH_s390", NULL };
	const char *dm[] = { "--define-macro=__TARGET_ARCH_riscv", NULL };
	const char *dm2[] = { "--define-macro", "__TARGET_ARCH_riscv", NULL };
	const char *undef[] = { "-U", "__TARGET_ARCH_x86", "-U__TARGET_ARCH_arm", NULL };
	const char *path[] = { "-I/x/__TARGET_ARCH_dir", NULL };
	const char *bare[] = { "__TARGET_ARCH_mips", NULL };
	const char *other[] = { "-DTARGET_ARCH_x86", "-D__TARGET_ARCHX", NULL };
	EXPECT(vms_args_define_arch(VMS_ARGS(sep)));
	EXPECT(vms_args_define_arch(VMS_ARGS(dm)));
	EXPECT(vms_args_define_arch(VMS_ARGS(dm2)));
	EXPECT(!vms_args_define_arch(VMS_ARGS(undef)));
	EXPECT(!vms_args_define_arch(VMS_ARGS(path)));
	EXPECT(vms_args_define_arch(VMS_ARGS(bare)));
	EXPECT(!vms_args_define_arch(VMS_ARGS(other)));
	EXPECT(!vms_args_define_arch((struct vms_args){ 0 }));
	EXPECT(vms_args_count((struct vms_args){ sep, 1 }) == 1);

	/* the PCH build: defines from the preamble count whether or not they are pushed */
	const char *pre[] = { "-D__TARGET_ARCH_arm64=", NULL };
	const char *hdr[] = { "/h", NULL };
	EXPECT(line_is(&(struct vms_bpf_cmd){ .opts = VMS_BPF_DEBUG | VMS_BPF_O2,
					     .inc_dirs = VMS_ARGS(hdr), .source_defines = VMS_ARGS(pre) },
		      "--target=bpf -g -O2 -I/h"));
	const char *defs[] = { "Y=2", "-DZ", NULL };
	snprintf(want, sizeof(want), "--target=bpf %s -DY=2 -DZ", host);
	EXPECT(line_is(&(struct vms_bpf_cmd){ .defines = VMS_ARGS(defs) }, want));
	const char *defs_arch[] = { "__TARGET_ARCH_arm", NULL };
	EXPECT(line_is(&(struct vms_bpf_cmd){ .defines = VMS_ARGS(defs_arch) },
		      "--target=bpf -D__TARGET_ARCH_arm"));

	/* the PCH compile: raw flags then the PCH, the dependency flags and the files */
	const char *flags[] = { "--target=bpf", "-g", NULL };
	const char *gm[] = { "-gmodules", NULL };
	const char *deps[] = { "-MD", "-MF", "x.d", NULL };
	EXPECT(line_is(&(struct vms_bpf_cmd){ .clang = "c", .opts = VMS_BPF_RAW,
					     .user = { VMS_ARGS(flags) }, .extra = VMS_ARGS(gm),
					     .pch = "h.pch", .include = "s.h", .deps = VMS_ARGS(deps),
					     .input = "p.c", .output = "p.o", .resource_dir = "/r" },
		      "c -resource-dir /r --target=bpf -g -gmodules -include-pch h.pch -include s.h "
		      "-MD -MF x.d -c p.c -o p.o"));

	/* appends to what out already holds */
	struct vms_argv a = { 0 };
	vms_argv_push(&a, "first");
	vms_bpf_cmdline(&(struct vms_bpf_cmd){ .opts = VMS_BPF_RAW, .input = "f.c" }, &a);
	EXPECT(a.n == 2 && !strcmp(a.v[0], "first") && !strcmp(a.v[1], "f.c"));
	vms_argv_free(&a);
}

/* ---- the scanner: fixed cases ---------------------------------------------------- */

struct seen {
	struct vms_buf out; /* one line per event: "D line:col name|text" or "C line|text" */
};

static int on_dir(void *ctx, const struct vms_pp_src *s, const struct vms_pp_dir *d)
{
	struct seen *x = ctx;
	(void)s;
	vms_buf_printf(&x->out, "%s%d:%d %.*s|%s\n", d->in_comment ? "d " : "D ", d->line, d->col,
		       (int)d->name_len, d->name, d->text);
	for (size_t i = 0; i < d->text_len; i++)
		EXPECT(d->text_off[i] < s->n);
	return 0;
}

static int on_code(void *ctx, const struct vms_pp_src *s, const struct vms_pp_code *c)
{
	struct seen *x = ctx;
	(void)s;
	vms_buf_printf(&x->out, "C %d|%s\n", c->line, c->text);
	return 0;
}

static int scans_as(const char *src, unsigned flags, const char *want)
{
	struct vms_pp_src s;
	struct vms_diags d = { 0 };
	int rc = vms_pp_open(&s, src, strlen(src), flags, "t.c", &d);
	struct seen x = { 0 };
	vms_buf_puts(&x.out, "");
	if (rc == 0) {
		struct vms_pp_ops ops = { on_dir, on_code, &x };
		vms_pp_scan(&s, flags, &ops);
	} else {
		vms_buf_printf(&x.out, "refused %d: %s\n", d.v[0].line, d.v[0].msg);
	}
	int ok = !strcmp(x.out.data, want);
	if (!ok)
		fprintf(stderr, "scan of\n%s\n--- got:\n%s--- want:\n%s---\n", src, x.out.data, want);
	vms_buf_free(&x.out);
	vms_diags_free(&d);
	vms_pp_close(&s);
	return ok;
}

static void test_scan(void)
{
	EXPECT(scans_as("#define A 1\n  # include <a  b.h> // c\nint x;\n", 0,
		       "D 1:1 define|A 1\nD 2:3 include|<a  b.h>\nC 3|int x;\n"));
	/* splices, with a map back: the name is on line 3, the '#' on line 1 */
	EXPECT(scans_as("#def\\\nine \\\n  M(x) x \\\r\n + 1\nz\n", 0,
		       "D 1:1 define|M(x) x + 1\nC 5|z\n"));
	/* comments are blanks; a newline inside one does not start a line */
	EXPECT(scans_as("/*\n*/ #define A\nint a; /*\n*/ #define B\n", 0,
		       "D 2:4 define|A\nC 3|int a; #define B\n"));
	EXPECT(scans_as("#define A /* x\n y */ 2 // z\n#/**/if 1\n", 0,
		       "D 1:1 define|A 2\nD 3:1 if|1\n"));
	/* literals: to their quote or the end of the line; no raw strings in C */
	EXPECT(scans_as("s = \"a/*\"; c = '/*\n#define A\nR\"x(\n#define B\n)x\";\n", 0,
		       "C 1|s = \"a/*\"; c = '/*\nD 2:1 define|A\nC 3|R\"x(\nD 4:1 define|B\n"
		       "C 5|)x\";\n"));
	/* raw strings when asked: to their delimiter, across lines; a bad delimiter skips
	 * to the next quote */
	EXPECT(scans_as("s = u8R\"x(\n#define A\n)\"\n)x\";\n#define B\n", VMS_PP_RAW_STRINGS,
		       "C 1|s = u8R\"x(\n#define A\n)\"\n)x\";\nD 5:1 define|B\n"));
	EXPECT(scans_as("s = R\"a b(\n#define A\n\"\n#define B\n", VMS_PP_RAW_STRINGS,
		       "C 1|s = R\"a b(\n#define A\n\"\nD 4:1 define|B\n"));
	EXPECT(scans_as("#define S xR\"(\n#define A\n\n", VMS_PP_RAW_STRINGS,
		       "D 1:1 define|S xR\"(\nD 2:1 define|A\n"));
	/* header names are literal after #include and __has_include(, nowhere else */
	EXPECT(scans_as("#include <a/*b.h>\n#define X */\n#if __has_include( <c//d>)\n"
		       "#define Y <e/*f> */\n", 0,
		       "D 1:1 include|<a/*b.h>\nD 2:1 define|X */\nD 3:1 if|__has_include( <c//d>)\n"
		       "D 4:1 define|Y <e\n"));
	EXPECT(scans_as("#include <unterminated /* c */ x\n", 0, "D 1:1 include|<unterminated x\n"));
	/* whitespace: \f \v are blanks; a BOM only at the start; clang's Unicode blanks
	 * (U+00A0, U+3000...) are blanks anywhere a blank may be, for clang compiling */
	EXPECT(scans_as("\xef\xbb\xbf#define A\n\f\v#define B\n\xc2\xa0#define C\n"
		       "\xef\xbb\xbf#define D\n", 0,
		       "D 1:4 define|A\nD 2:3 define|B\nD 3:3 define|C\n"
		       "C 4|\xef\xbb\xbf#define D\n"));
	EXPECT(scans_as("\xe3\x80\x80#\xe2\x80\x83include\xc2\xa0\"a.h\"\n"
		       "\xe2\x80\xa8%:\xe1\x9a\x80" "embed\xe2\x81\x9f<b>\n"
		       "\xc2\x85#\xe2\x80\xafinclude_next\xe2\x80\x8a<c>\n"
		       "/**/\xe2\x80\xa9#import\xe1\xa0\x8e\"d\"\n", 0,
		       "D 1:4 include|\"a.h\"\nD 2:4 embed|<b>\nD 3:3 include_next|<c>\n"
		       "D 4:8 import|\"d\"\n"));
	/* one ends an identifier and is dropped from the text like any blank */
	EXPECT(scans_as("#define M\xc2\xa0" "1\nint\xe3\x80\x80x;\n", 0,
		       "D 1:1 define|M 1\nC 2|int x;\n"));
	/* zero-width spaces and a BOM after the start: text for clang, blanks when asked */
	EXPECT(scans_as("\xe2\x80\x8b#include <a>\n\xef\xbb\xbf#include <b>\n", 0,
		       "C 1|\xe2\x80\x8b#include <a>\nC 2|\xef\xbb\xbf#include <b>\n"));
	EXPECT(scans_as("\xe2\x80\x8b#include <a>\n\xef\xbb\xbf#include <b>\n",
		       VMS_PP_WIDE_BLANKS, "D 1:4 include|<a>\nD 2:4 include|<b>\n"));
	/* digraph, null directive, lone CR as newline, backslash-blank-newline splice */
	EXPECT(scans_as("%:define A\n#\n#pragma x\r#define B \\  \n 2\n", 0,
		       "D 1:1 define|A\nD 2:1 |\nD 3:1 pragma|x\nD 4:1 define|B 2\n"));
	/* a // comment continued by a splice swallows the next line */
	EXPECT(scans_as("// c \\\n#define A\n#define B\n", 0, "D 3:1 define|B\n"));
	/* strict: the spellings compilers disagree on */
	EXPECT(scans_as("int a;\n#define B \\  \n 2\n", VMS_PP_STRICT,
		       "refused 2: refused: backslash and newline separated by blanks (compilers "
		       "disagree on whether that continues the line)\n"));
	EXPECT(scans_as("a\rb", VMS_PP_STRICT, "refused 1: refused: a carriage return without a line feed\n"));
	EXPECT(scans_as("a\r\nb\r\n", VMS_PP_STRICT, "C 1|a\nC 2|b\n"));
	struct vms_pp_src s;
	struct vms_diags d = { 0 };
	EXPECT(vms_pp_open(&s, "a\0b", 3, VMS_PP_STRICT, "t.c", &d) == -1 && d.n == 1 &&
	      strstr(d.v[0].msg, "NUL"));
	vms_pp_close(&s);
	vms_diags_free(&d);
	/* comment lines: looked at only when asked, bounded by the comment */
	EXPECT(scans_as("/* x\n #include \"a.h\" */ y\n", 0, "C 2|y\n"));
	EXPECT(scans_as("/* x\n #include \"a.h\" */ y\nint z; /*\n#include <b> */\n",
		       VMS_PP_COMMENT_LINES,
		       "d 2:2 include|\"a.h\"\nC 2|y\nd 4:1 include|<b>\nC 3|int z;\n"));
	/* each comment line on its own: a nested comment opener hides no line after it */
	EXPECT(scans_as("/*\n#define X /* y\n#include <b>\n*/\n", VMS_PP_COMMENT_LINES,
		       "d 2:1 define|X\nd 3:1 include|<b>\n"));
	EXPECT(scans_as("#/*\n#include <b>\n*/define X\n", VMS_PP_COMMENT_LINES,
		       "d 2:1 include|<b>\nD 1:1 define|X\n"));
	/* comment BOL (confinement's caution): after a block comment that held a newline, a
	 * '#' starts a directive, in a code line or in a directive's rest */
	EXPECT(scans_as("int a; /*\n*/ #include <b>\n#define X /**/ /*\n*/ /**/ %:if 1\n",
		       VMS_PP_COMMENT_BOL,
		       "C 1|int a;\nD 2:4 include|<b>\nD 3:1 define|X\nD 4:9 if|1\n"));
	EXPECT(scans_as("int a; /* */ #include <b>\n", VMS_PP_COMMENT_BOL,
		       "C 1|int a; #include <b>\n"));
	/* a callback's nonzero return stops the scan */
	EXPECT(vms_pp_open(&s, "#a\n#b\n", 6, 0, NULL, NULL) == 0);
	EXPECT(s.n == 6);
	int line = 0, col = 0;
	vms_pp_locate(&s, 3, &line, &col);
	EXPECT(line == 2 && col == 1);
	vms_pp_close(&s);
	/* a comment left open at the end, in a directive or not; openers that are none */
	const struct {
		const char *src;
		unsigned flags;
		int open;
	} ends[] = {
		{ "#include \"a.h\"\n/* open\n", 0, 1 },
		{ "#define A 1 /* open\n#define B\n", 0, 1 },
		{ "#include \"a.h\"\n/* closed */\n", 0, 0 },
		{ "/*/", 0, 1 },
		{ "/**/", 0, 0 },
		{ "// /*\n#define S \"/*\"\n#include <a/*b.h>\n", 0, 0 },
		{ "s = R\"x(\")/*)x\";\n", 0, 1 },
		{ "s = R\"x(\")/*)x\";\n", VMS_PP_RAW_STRINGS, 0 },
		{ "/*\n#define X /* y\n", VMS_PP_COMMENT_LINES, 1 },
	};
	for (size_t k = 0; k < sizeof(ends) / sizeof(ends[0]); k++) {
		EXPECT(vms_pp_open(&s, ends[k].src, strlen(ends[k].src), 0, NULL, NULL) == 0);
		EXPECT(vms_pp_ends_in_comment(&s, ends[k].flags) == ends[k].open);
		vms_pp_close(&s);
	}
}

/* ---- the scanner against clang ---------------------------------------------------- *
 *
 * Generated sources mix directives with splices, comments, literals, odd blanks (Unicode
 * ones among them) and line endings. clang compiles each (-fsyntax-only) and says which macros it defined and where
 * (-Wunused-macros names every macro of the main file never used: the generator never
 * uses one, and names each once) and which headers it entered (-H). The scanner must
 * find the same #defines at the same line and column of the name, and the same
 * #includes in the same order. No conditionals are generated: clang skips a false
 * branch and the scanner (which evaluates nothing) does not. */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static const char *pick(const char *const *v, size_t n)
{
	return v[rnd((unsigned)n)];
}
#define PICK(arr) pick(arr, sizeof(arr) / sizeof(arr[0]))

static const char *const blanks[] = { "", "", "", " ", "\t", "\f", "\v", "  ", "/* c */",
				      "/*\n*/", "\xc2\xa0", "/**/", "\xe3\x80\x80", "\xe2\x80\x83",
				      "\xc2\x85", "\xe2\x80\xa8 ", "\xe2\x80\x8b" };
static const char *const eols[] = { "\n", "\n", "\n", "\n", "\n", "\r\n", "\r" };
static const char *const splices[] = { "\\\n", "\\\r\n", "\\ \n", "\\\t\n" };
static const char *const codes[] = {
	"int x;", "char *s = \"a/*b\";", "c = '\"';", "R\"x(", ")x\"", "c = '/*';",
	"L\"#define Q\"", "u8\"x\" U'y' u\"z\"", "/* #define Q */", "// #define Q",
	"x = \"unterminated /*", "y = 'u", "a /* open", "*/ b", "%:", "# not at start",
	"q = '\\'' /* c */;", "s = \"\\\" /*\";", "__has_include(<h1.h>)", "\"\\\\\" // x",
};
static const char *const others[] = { "pragma foo", "pragma once_not", "warning w",
				      "ident \"i\"", "", "undef Q", "error e 'x", "pragma x \"/*\"" };
static const char *const bodies[] = { "", " 1", " (a + b)", " \"s/*\"", " 'c'", " /* c */ 2",
				      " a // c", " <h1.h>", "(x) x", "(x,y) x##y", " #x" };

/* Puts s with, now and then, a splice inside it. */
static void put_spliced(struct vms_buf *b, const char *s)
{
	size_t n = strlen(s);
	size_t at = rnd(4) == 0 && n > 1 ? 1 + rnd((unsigned)n - 1) : n;
	vms_buf_append(b, s, at);
	if (at < n) {
		vms_buf_puts(b, PICK(splices));
		vms_buf_puts(b, s + at);
	}
}

static void gen_case(struct vms_buf *b, int *macro)
{
	int lines = 1 + (int)rnd(8);
	for (int l = 0; l < lines; l++) {
		unsigned k = rnd(10);
		if (k < 5) {
			vms_buf_puts(b, PICK(blanks));
			put_spliced(b, rnd(8) ? "#" : "%:");
			vms_buf_puts(b, PICK(blanks));
			if (k < 3) {
				char name[32];
				snprintf(name, sizeof(name), "M%d", (*macro)++);
				put_spliced(b, "define");
				vms_buf_puts(b, rnd(6) ? " " : PICK(blanks));
				if (rnd(20))
					put_spliced(b, name);
				put_spliced(b, PICK(bodies));
			} else if (k == 3) {
				char name[32];
				int ang = rnd(2);
				snprintf(name, sizeof(name), "%sh%u.h%s", ang ? "<" : "\"", rnd(10),
					 ang ? ">" : "\"");
				if (rnd(15) == 0)
					name[strlen(name) - 1] = 0; /* unterminated */
				put_spliced(b, rnd(4) ? "include" : "include_next");
				vms_buf_puts(b, rnd(3) ? " " : PICK(blanks));
				put_spliced(b, name);
				if (rnd(4) == 0)
					vms_buf_puts(b, rnd(2) ? " // x" : " /* y\n */");
			} else {
				put_spliced(b, PICK(others));
			}
		} else if (k < 9) {
			vms_buf_puts(b, PICK(blanks));
			put_spliced(b, PICK(codes));
			if (rnd(3) == 0)
				put_spliced(b, PICK(codes));
		}
		if (rnd(12) == 0)
			vms_buf_puts(b, PICK(splices));
		vms_buf_puts(b, PICK(eols));
	}
}

struct found {
	struct vms_buf defs, incs;
	struct vms_buf ignored; /* " NAME " each */
};

static int fuzz_dir(void *ctx, const struct vms_pp_src *s, const struct vms_pp_dir *d)
{
	struct found *f = ctx;
	if (d->name_len == 6 && !strncmp(d->name, "define", 6)) {
		size_t n = 0;
		while (n < d->text_len && (d->text[n] == '_' || (d->text[n] >= 'A' && d->text[n] <= 'Z') ||
					   (d->text[n] >= 'a' && d->text[n] <= 'z') ||
					   (n && d->text[n] >= '0' && d->text[n] <= '9')))
			n++;
		/* the generator's names only (a body may stand in for a missing name, and
		 * be used); a function-like body with a '#' clang may reject */
		if (n > 1 && d->text[0] == 'M' && d->text[1] >= '0' && d->text[1] <= '9') {
			int line, col;
			vms_pp_locate(s, d->text_off[0], &line, &col);
			if (n < d->text_len && d->text[n] == '(' && memchr(d->text, '#', d->text_len))
				vms_buf_printf(&f->ignored, " %.*s ", (int)n, d->text);
			else
				vms_buf_printf(&f->defs, "%d:%d %.*s\n", line, col, (int)n, d->text);
		}
	}
	int inc = (d->name_len == 7 && !strncmp(d->name, "include", 7)) ||
		  (d->name_len == 12 && !strncmp(d->name, "include_next", 12));
	if (inc && d->text_len && (d->text[0] == '"' || d->text[0] == '<')) {
		const char *close = memchr(d->text + 1, d->text[0] == '"' ? '"' : '>',
					   d->text_len - 1);
		if (close)
			vms_buf_printf(&f->incs, "%.*s\n", (int)(close - d->text - 1), d->text + 1);
	}
	return 0;
}

/* "FILE:L:C: warning: macro is not used" lines and ". DIR/NAME" lines of clang's stderr,
 * as "L:C NAME" (the name read from the source) and "NAME". */
static void clang_found(const char *err, const char *src, size_t len, const char *file,
			const char *ignored, struct found *f)
{
	struct vms_pp_src s; /* only for its line index */
	vms_pp_open(&s, src, len, 0, NULL, NULL);
	size_t fl = strlen(file);
	for (const char *p = err; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		int line, col;
		char *l = vms_xstrndup(p, n);
		if (!strncmp(l, file, fl) && l[fl] == ':' &&
		    sscanf(l + fl, ":%d:%d: warning: macro is not used", &line, &col) == 2 &&
		    strstr(l, "macro is not used") && (size_t)line <= s.nlines) {
			/* the name as clang read it: through splices */
			size_t i = s.line_start[line - 1] + (size_t)col - 1;
			struct vms_buf name = { 0 };
			vms_buf_puts(&name, "");
			while (i < len) {
				size_t j = i + 1;
				while (src[i] == '\\' && j < len && (src[j] == ' ' || src[j] == '\t'))
					j++;
				if (src[i] == '\\' && j < len && (src[j] == '\n' || src[j] == '\r')) {
					i = j + (j + 1 < len && (src[j + 1] == '\n' || src[j + 1] == '\r') &&
						 src[j + 1] != src[j] ? 2 : 1);
					continue;
				}
				char c = src[i];
				if (!(c == '_' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
				      (c >= 'a' && c <= 'z')))
					break;
				vms_buf_append(&name, &c, 1);
				i++;
			}
			char *key = vms_xasprintf(" %s ", name.data);
			if (name.data[0] == 'M' && name.data[1] >= '0' && name.data[1] <= '9' &&
			    !(ignored && strstr(ignored, key)))
				vms_buf_printf(&f->defs, "%d:%d %s\n", line, col, name.data);
			free(key);
			vms_buf_free(&name);
		} else if (p[0] == '.' && p[1] == ' ') {
			const char *b = p + n;
			while (b > p + 2 && b[-1] != '/')
				b--;
			vms_buf_printf(&f->incs, "%.*s\n", (int)(p + n - b), b);
		}
		free(l);
		p += n + (nl ? 1 : 0);
	}
	vms_pp_close(&s);
}

/* clang reports unused macros at the end, most recent first: compare as sorted sets. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *sorted_lines(const char *text)
{
	char *dup = vms_xstrdup(text ? text : "");
	size_t n = 0, cap = 16;
	char **v = vms_xmalloc(cap * sizeof(*v));
	for (char *save, *t = strtok_r(dup, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
		if (n == cap)
			v = vms_xrealloc(v, (cap *= 2) * sizeof(*v));
		v[n++] = t;
	}
	qsort(v, n, sizeof(*v), cmp_str);
	struct vms_buf b = { 0 };
	vms_buf_puts(&b, "");
	for (size_t i = 0; i < n; i++)
		vms_buf_printf(&b, "%s\n", v[i]);
	free(v);
	free(dup);
	return vms_buf_steal(&b);
}

static int first_diff(const char *what, const char *mine, const char *clang, const char *path)
{
	if (!strcmp(mine, clang))
		return 0;
	size_t i = 0;
	while (mine[i] && mine[i] == clang[i])
		i++;
	while (i && mine[i - 1] != '\n')
		i--;
	fprintf(stderr, "%s: %s differ from clang's; first difference:\n  scanner: %.60s\n"
			"  clang:   %.60s\n", path, what, mine + i, clang + i);
	return 1;
}

static int fuzz(const char *clang, const char *dir, int files, int cases, unsigned flags)
{
	char *inc = vms_xasprintf("%s/inc", dir);
	vms_mkdir_p(inc, 0755);
	for (int k = 0; k < 10; k++) {
		char *h = vms_xasprintf("%s/h%d.h", inc, k);
		vms_write_file_atomic(h, "", 0, 0644);
		free(h);
	}
	int bad = 0, ndefs = 0, nincs = 0;
	for (int fi = 0; fi < files && bad < 3; fi++) {
		struct vms_buf src = { 0 };
		int macro = 0;
		if (fi % 5 == 1)
			vms_buf_puts(&src, "\xef\xbb\xbf");
		for (int c = 0; c < cases; c++) {
			gen_case(&src, &macro);
			vms_buf_puts(&src, "\n*/\n"); /* an open comment ends with the case */
		}
		char *path = vms_xasprintf("%s/f%03d.c", dir, fi);
		vms_write_file_atomic(path, src.data, src.len, 0644);
		char *ipath = vms_xasprintf("-I%s", inc);
		/* compiling, not -E: clang -E keeps a Unicode blank as text (so a '#' after one
		 * starts no directive there), compiling reads it as a blank */
		char *argv[] = { (char *)clang, "-fsyntax-only", "-H", "-Wunused-macros",
				 "-ferror-limit=0",
				 "-x", "c", ipath, path, "-o", "/dev/null", NULL };
		struct vms_proc_result r;
		if (vms_run(argv, NULL, 0, 60000, &r)) {
			fprintf(stderr, "cannot run %s\n", clang);
			return 1;
		}
		struct found mine = { 0 }, theirs = { 0 };
		struct vms_pp_src s;
		vms_pp_open(&s, src.data, src.len, 0, NULL, NULL);
		struct vms_pp_ops ops = { fuzz_dir, NULL, &mine };
		vms_pp_scan(&s, flags, &ops);
		vms_pp_close(&s);
		clang_found(r.err, src.data, src.len, path, mine.ignored.data, &theirs);
		char *md = sorted_lines(mine.defs.data), *td = sorted_lines(theirs.defs.data);
		const char *mi = mine.incs.data ? mine.incs.data : "";
		const char *ti = theirs.incs.data ? theirs.incs.data : "";
		int diff = first_diff("#defines", md, td, path) | first_diff("#includes", mi, ti, path);
		bad += diff;
		for (const char *p = md; *p; p++)
			ndefs += *p == '\n';
		for (const char *p = mi; *p; p++)
			nincs += *p == '\n';
		if (!diff)
			unlink(path);
		free(md), free(td);
		vms_buf_free(&mine.defs), vms_buf_free(&mine.incs), vms_buf_free(&mine.ignored);
		vms_buf_free(&theirs.defs), vms_buf_free(&theirs.incs);
		vms_proc_result_free(&r);
		free(ipath);
		free(path);
		vms_buf_free(&src);
	}
	printf("fuzz: %d files x %d cases, %d #defines and %d #includes compared, %d files differ\n",
	       files, cases, ndefs, nincs, bad);
	free(inc);
	return bad;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "cmdline")) {
		test_cmdline();
	} else if (argc >= 2 && !strcmp(argv[1], "ppscan")) {
		test_scan();
	} else if (argc >= 3 && !strcmp(argv[1], "scan")) { /* for debugging a fuzz case */
		char *src;
		size_t len;
		struct vms_pp_src s;
		if (vms_read_file(argv[2], &src, &len) || vms_pp_open(&s, src, len, 0, NULL, NULL))
			return 2;
		struct seen x = { 0 };
		vms_buf_puts(&x.out, "");
		vms_pp_scan(&s, argc > 3 ? (unsigned)atoi(argv[3]) : 0,
			    &(struct vms_pp_ops){ on_dir, on_code, &x });
		fputs(x.out.data, stdout);
		vms_buf_free(&x.out);
		vms_pp_close(&s);
		free(src);
	} else if (argc >= 4 && !strcmp(argv[1], "fuzz")) {
		vms_mkdir_p(argv[3], 0755);
		/* clang 19 reads raw strings in C's gnu modes, clang 14 does not: ask */
		static const char probe[] = "R\"x(\n#define RAW_PROBE\n)x\"\n";
		char *pf = vms_xasprintf("%s/probe.c", argv[3]);
		vms_write_file_atomic(pf, probe, sizeof(probe) - 1, 0644);
		char *av[] = { argv[2], "-E", "-Wunused-macros", "-x", "c", pf, "-o", "/dev/null",
			       NULL };
		struct vms_proc_result r;
		if (vms_run(av, NULL, 0, 60000, &r))
			return 2;
		unsigned flags = strstr(r.err, "RAW_PROBE") || strstr(r.err, "macro is not used")
					 ? 0 : VMS_PP_RAW_STRINGS;
		printf("%s: raw strings %s\n", argv[2], flags ? "on" : "off");
		vms_proc_result_free(&r);
		free(pf);
		failures += fuzz(argv[2], argv[3], argc > 4 ? atoi(argv[4]) : 40,
				 argc > 5 ? atoi(argv[5]) : 75, flags);
	} else {
		fprintf(stderr, "usage: test_common cmdline | ppscan | fuzz CLANG DIR [FILES CASES]\n");
		return 2;
	}
	return test_exit();
}
