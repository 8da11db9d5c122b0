/* common/compdb.c: compile_commands.json and compile_flags.txt found and read as clangd
 * does (issue 15): the search upward and in build/, "arguments" and "command" (shell
 * quoting), the entry for the file or its directory's, relative paths made absolute
 * against the entry's directory, only the flags a checker needs, and bad databases named.
 * usage: test_compdb WORK_DIR */
#include "common/compdb.h"
#include "tests/testutil.h"

#include <sys/stat.h>

static char *work;

static void put(const char *rel, const char *text)
{
	char *p = vms_xasprintf("%s/%s", work, rel);
	char *dir = vms_dirname(p);
	vms_mkdir_p(dir, 0755);
	CHECK(vms_write_file_atomic(p, text, strlen(text), 0644) == 0, "write %s", p);
	free(dir), free(p);
}

static char *joined(const struct vms_argv *a)
{
	struct vms_buf b = { 0 };
	for (size_t i = 0; i < a->n; i++)
		vms_buf_printf(&b, "%s%s", i ? " " : "", a->v[i]);
	return b.data ? vms_buf_steal(&b) : vms_xstrdup("");
}

/* flags for rel (under work), looked up from dir (NULL: upward): "found|flags|from" */
static char *lookup(const char *rel, const char *dir)
{
	char *file = vms_xasprintf("%s/%s", work, rel);
	char *d = dir ? vms_xasprintf("%s/%s", work, dir) : NULL;
	struct vms_argv out = { 0 };
	struct vms_diags dg = { 0 };
	char *from = NULL;
	int r = vms_compdb_flags(file, d, &out, &from, &dg);
	char *flags = joined(&out);
	const char *fr = from ? from + strlen(work) + 1 : "-";
	char *res = vms_xasprintf("%d|%s|%s%s%s", r, flags, fr, dg.n ? "|" : "",
				  dg.n ? dg.v[0].msg : "");
	free(flags), free(from), free(file), free(d);
	vms_argv_free(&out);
	vms_diags_free(&dg);
	return res;
}

#define EXPECT_STR(got, want)                                                                    \
	do {                                                                                 \
		char *g_ = (got);                                                            \
		CHECK(!strcmp(g_, (want)), "got '%s', want '%s'", g_, (want));             \
		free(g_);                                                                    \
	} while (0)

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_compdb WORK_DIR\n");
		return 2;
	}
	test_fresh_dir(argv[1]);
	work = vms_realpath(argv[1]);

	/* splitting a "command" */
	struct vms_argv w = { 0 };
	vms_compdb_split("clang  -DA='x y' -D\"B=\\\"q\\\"\" C\\ D -I'' end", &w);
	char *j = joined(&w);
	CHECK(w.n == 6 && !strcmp(w.v[1], "-DA=x y") && !strcmp(w.v[2], "-DB=\"q\"") &&
		      !strcmp(w.v[3], "C D") && !strcmp(w.v[4], "-I") && !strcmp(w.v[5], "end"),
	      "split: %zu words: %s", w.n, j);
	free(j);
	vms_argv_free(&w);

	/* what is kept */
	const char *args[] = { "clang", "-g", "-O2", "-target", "bpf", "-Wall", "-D__TARGET_ARCH_x86",
			       "-I", "x86", "-I.output", "-isystem", "/usr/include", "-c",
			       "prog.bpf.c", "-o", "prog.o", "-include", "cfg.h", "-UX", "-std=gnu11",
			       "-MD", "-MF", "prog.d" };
	struct vms_argv k = { 0 };
	vms_compdb_keep(args, sizeof(args) / sizeof(args[0]), "/src/tools", &k);
	EXPECT_STR(joined(&k), "--target=bpf -D__TARGET_ARCH_x86 -I /src/tools/x86 -I /src/tools/.output "
			   "-isystem /usr/include -include /src/tools/cfg.h -UX -std=gnu11");
	vms_argv_free(&k);

	/* a libbpf-tools-like tree: the database at the top, the program two levels down */
	char *db = vms_xasprintf(
		"[ { \"directory\": \"%s/tools\", \"file\": \"a/prog.bpf.c\",\n"
		"    \"arguments\": [\"clang\", \"-target\", \"bpf\", \"-I\", \"../x86\", \"-c\", \"a/prog.bpf.c\"] },\n"
		"  { \"directory\": \"%s/tools\", \"file\": \"%s/tools/b/other.bpf.c\",\n"
		"    \"command\": \"clang --target=bpf -DOTHER -I'inc dir' -c b/other.bpf.c\" } ]\n",
		work, work, work);
	put("compile_commands.json", db);
	free(db);
	put("tools/a/prog.bpf.c", "int x;\n");
	put("tools/b/other.bpf.c", "int y;\n");
	put("tools/b/new.bpf.c", "int z;\n");
	put("elsewhere/x.bpf.c", "int w;\n");
	char *want = vms_xasprintf("1|--target=bpf -I %s/tools/../x86|compile_commands.json", work);
	EXPECT_STR(lookup("tools/a/prog.bpf.c", NULL), want);
	free(want);
	want = vms_xasprintf("1|--target=bpf -DOTHER -I %s/tools/inc dir|compile_commands.json", work);
	EXPECT_STR(lookup("tools/b/other.bpf.c", NULL), want);
	/* not listed: its directory's entry */
	EXPECT_STR(lookup("tools/b/new.bpf.c", NULL), want);
	free(want);
	/* not listed, no entry of its directory: the first entry */
	want = vms_xasprintf("1|--target=bpf -I %s/tools/../x86|compile_commands.json", work);
	EXPECT_STR(lookup("elsewhere/x.bpf.c", NULL), want);
	free(want);

	/* build/compile_commands.json and compile_flags.txt nearer the file win */
	put("tools/c/build/compile_commands.json",
	    "[{\"directory\": \"/b\", \"file\": \"/b/q.c\", \"arguments\": [\"cc\", \"-DNEAR\"]}]");
	put("tools/c/q.bpf.c", "int q;\n");
	EXPECT_STR(lookup("tools/c/q.bpf.c", NULL), "1|-DNEAR|tools/c/build/compile_commands.json");
	put("tools/d/compile_flags.txt", "--target=bpf\n-D__TARGET_ARCH_arm64\r\n-I\ninc\n\n-Wall\n");
	put("tools/d/p.bpf.c", "int p;\n");
	want = vms_xasprintf("1|--target=bpf -D__TARGET_ARCH_arm64 -I %s/tools/d/inc|tools/d/compile_flags.txt", work);
	EXPECT_STR(lookup("tools/d/p.bpf.c", NULL), want);
	free(want);
	/* -p DIR: that directory only */
	EXPECT_STR(lookup("elsewhere/x.bpf.c", "tools/c"), "1|-DNEAR|tools/c/build/compile_commands.json");
	EXPECT_STR(lookup("elsewhere/x.bpf.c", "elsewhere"),
	       "0||-|no compile_commands.json or compile_flags.txt here");

	/* broken databases: named, never a crash */
	put("bad1/compile_commands.json", "[ { \"file\": ");
	put("bad1/p.bpf.c", "");
	char *got = lookup("bad1/p.bpf.c", NULL);
	EXPECT_STR(got, "-1||bad1/compile_commands.json|not a compilation database: the JSON ends early");
	got = NULL;
	free(got);
	put("bad2/compile_commands.json", "{\"file\": \"x\"}");
	put("bad2/p.bpf.c", "");
	EXPECT_STR(lookup("bad2/p.bpf.c", NULL),
	       "-1||bad2/compile_commands.json|not a compilation database: not a JSON array");
	put("bad3/compile_commands.json", "[1, \"x\", {\"file\": 3}, {\"directory\": \"/\"}]");
	put("bad3/p.bpf.c", "");
	EXPECT_STR(lookup("bad3/p.bpf.c", NULL), "0||bad3/compile_commands.json");
	char *fifo = vms_xasprintf("%s/bad4/compile_commands.json", work);
	put("bad4/p.bpf.c", "");
	CHECK(mkfifo(fifo, 0644) == 0, "mkfifo");
	got = lookup("bad4/p.bpf.c", NULL); /* must not block on the FIFO */
	const char *want4 = "-1||bad4/compile_commands.json|cannot read";
	CHECK(!strncmp(got, want4, strlen(want4)), "%s", got);
	free(got), free(fifo);

	free(work);
	return test_exit();
}
