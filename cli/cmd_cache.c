/* vmslim cache: the cache directory as ccache -s, -C and -M show and set theirs. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/report.h"
#include "common/cachedir.h"
#include "common/common.h"

static const char help[] =
	"usage: vmslim cache [--stats] [--clear] [--trim] [--max-size SIZE] [--cache-dir DIR]\n"
	"\n"
	"The cache holds PCHs (pch/), the daemon's answers (serve/) and a little more\n"
	"(compiler identities, header shims), under one size bound: when a new PCH\n"
	"takes it past the bound, the least recently used entries go (never one in use).\n"
	"\n"
	"options:\n"
	"  -s, --stats          entries and sizes per kind, hits and misses, the bound\n"
	"                       (the default)\n"
	"  -C, --clear          remove every entry not in use, reset the counters\n"
	"      --trim           evict down to the bound now\n"
	"  -M, --max-size SIZE  set the bound (e.g. 5G, 500M; 0: the default, 2G), then\n"
	"                       evict down to it\n"
	"      --cache-dir DIR  " HELP_SPEC_CACHE_DIR "\n"
	"  -h, --help           " HELP_SPEC_HELP "\n"
	"\n"
	"exit status: 0 done, 1 the cache could not be changed, 2 usage\n";

enum { O_TRIM = 256, O_DIR };
static const struct option opts[] = {
	{ "stats", no_argument, NULL, 's' },
	{ "clear", no_argument, NULL, 'C' },
	{ "trim", no_argument, NULL, O_TRIM },
	{ "max-size", required_argument, NULL, 'M' },
	{ "cache-dir", required_argument, NULL, O_DIR },
	CLI_OPT_HELP,
	{ 0 },
};

static const struct cli_spec spec = { "cache", help, "sCM:h", opts, NULL };

static void human(uint64_t b, char *out, size_t n)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int i = 0;
	while (v >= 1024 && i < 4)
		v /= 1024, i++;
	snprintf(out, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void show_stats(const char *dir)
{
	struct vms_cache_usage u;
	vms_cache_usage(dir, &u);
	uint64_t hit = vms_cache_counter(dir, "pch", "hit"), miss = vms_cache_counter(dir, "pch", "miss");
	uint64_t evicted = vms_cache_counter(dir, "cache", "evicted");
	uint64_t cc_hit = vms_cache_counter(dir, "cc", "hit"), cc_miss = vms_cache_counter(dir, "cc", "miss");
	uint64_t cc_remote = vms_cache_counter(dir, "cc", "remote_hit");
	if (cli_json()) {
		cli_doc_str("cache_dir", dir);
		struct json_object *kinds = json_object_new_object();
		for (int k = 0; k < VMS_KIND_N; k++) {
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "entries", json_object_new_int64((int64_t)u.entries[k]));
			json_object_object_add(o, "bytes", json_object_new_int64((int64_t)u.bytes[k]));
			json_object_object_add(kinds, vms_cache_kind_name((enum vms_cache_kind)k), o);
		}
		json_object_object_add(cli_doc(), "kinds", kinds);
		cli_doc_int("total_bytes", (long long)u.total_bytes);
		cli_doc_int("max_bytes", (long long)u.max_bytes);
		cli_doc_int("pch_hits", (long long)hit);
		cli_doc_int("pch_misses", (long long)miss);
		cli_doc_int("evictions", (long long)evicted);
		cli_doc_int("cc_hits", (long long)cc_hit);
		cli_doc_int("cc_misses", (long long)cc_miss);
		cli_doc_int("cc_remote_hits", (long long)cc_remote);
		return;
	}
	char a[32], b[32];
	printf("cache directory      %s\n", dir);
	for (int k = 0; k < VMS_KIND_N; k++) {
		human(u.bytes[k], a, sizeof(a));
		printf("%-20s %llu entries, %s\n", vms_cache_kind_name((enum vms_cache_kind)k),
		       (unsigned long long)u.entries[k], a);
	}
	human(u.total_bytes, a, sizeof(a));
	human(u.max_bytes, b, sizeof(b));
	printf("size                 %s of %s (%.1f%%)\n", a, b,
	       u.max_bytes ? 100.0 * (double)u.total_bytes / (double)u.max_bytes : 0.0);
	printf("pch hits             %llu\npch misses (builds)  %llu\n", (unsigned long long)hit,
	       (unsigned long long)miss);
	if (hit + miss)
		printf("pch hit rate         %.1f%%\n", 100.0 * (double)hit / (double)(hit + miss));
	printf("evictions            %llu\n", (unsigned long long)evicted);
	printf("cc hits (daemon)     %llu\ncc remote hits       %llu\ncc misses (compiles) %llu\n",
	       (unsigned long long)cc_hit, (unsigned long long)cc_remote, (unsigned long long)cc_miss);
}

int cmd_cache(int argc, char **argv)
{
	struct cli_args a;
	int c, clear = 0, trim = 0, stats = 0;
	const char *dir_opt = NULL;
	int64_t max = -1;
	cli_args_init(&a, &spec, argc, argv);
	while ((c = cli_next(&a)) > 0) {
		switch (c) {
		case 's': stats = 1; break;
		case 'C': clear = 1; break;
		case O_TRIM: trim = 1; break;
		case O_DIR: dir_opt = a.arg; break;
		case 'M':
			max = vms_parse_size(a.arg);
			if (max < 0) {
				cli_error("cache", "--max-size wants a size such as 5G or 500M, not '%s'",
					  a.arg);
				return VMS_EXIT_USAGE;
			}
			break;
		}
	}
	if (c == CLI_EXIT)
		return a.exit;
	if (cli_positionals(&a, NULL, 0) < 0)
		return VMS_EXIT_USAGE;
	char *dir = dir_opt ? vms_xstrdup(dir_opt) : vms_cache_dir_default();
	int rc = VMS_EXIT_OK;
	if (clear) {
		int n = vms_cache_clear(dir);
		cli_doc_int("removed", n);
		if (!cli_json())
			printf("removed %d entr%s\n", n, n == 1 ? "y" : "ies");
	}
	if (max >= 0) {
		int e = vms_cache_set_max_size(dir, max ? (uint64_t)max : VMS_CACHE_DEFAULT_MAX);
		if (e < 0) {
			cli_error("cache", "%s: cannot write the setting: %s", dir, strerror(-e));
			rc = VMS_EXIT_FAIL;
		}
		trim = 1;
	}
	if (trim && rc == VMS_EXIT_OK) {
		int n = vms_cache_trim(dir, 0);
		cli_doc_int("evicted", n);
		if (!cli_json())
			printf("evicted %d entr%s\n", n, n == 1 ? "y" : "ies");
	}
	if (stats || (!clear && !trim))
		show_stats(dir);
	free(dir);
	return rc;
}
