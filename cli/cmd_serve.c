/* vmslim serve: the compile-cache daemon on a Unix socket (protocol: docs/protocol.md). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "serve/serve.h"

static void usage(FILE *out)
{
	fprintf(out,
"usage: vmslim serve [--socket PATH] [-I DIR ...] [OPTIONS]\n"
"\n"
"Answers check and build requests (JSON, one object per line; see docs/protocol.md)\n"
"on a Unix socket created with mode 0600. Checks go to the TCC snapshot checker,\n"
"builds to clang through a cached PCH; every answer is cached in memory and on disk.\n"
"Sources may include only files under the -I directories. Stops on SIGTERM/SIGINT or\n"
"a `shutdown` request.\n"
"\n"
"options:\n"
"  -s, --socket PATH      socket (default $XDG_RUNTIME_DIR/vmslim.sock, else\n"
"                         /tmp/vmslim-UID.sock)\n"
"  -I DIR                 a header directory requests may include from (repeat);\n"
"                         e.g. the one holding vmlinux.h, and /usr/include for libbpf\n"
"  -D NAME[=VALUE]        define for every request\n"
"      --header H         what #include \"vmlinux.h\" opens (default: found under -I)\n"
"      --cache-dir DIR    cache directory (default $XDG_CACHE_HOME/vmslim)\n"
"      --no-disk-cache    keep answers in memory only\n"
"      --cache-size MB    disk cache bound (default 512)\n"
"      --mem-cache MB     memory cache bound (default 64)\n"
"  -j, --jobs N           concurrent compiles (default: number of CPUs)\n"
"      --cpu-limit S      CPU seconds per request (default 10)\n"
"      --mem-limit MB     address space per request (default 2048)\n"
"      --time-limit MS    wall time per request (default 20000)\n"
"      --max-request B    largest request line in bytes (default 1048576)\n"
"      --max-clients N    simultaneous connections (default 128)\n"
"      --allow-output     let build requests name a file for the daemon to write\n"
"      --no-sandbox       do not confine workers with Landlock\n"
"      --clang PATH       compiler (default $VMSLIM_CLANG, else clang)\n"
"      --headers-dir D    vmslim's shipped headers (TCC prelude)\n"
"  -q, --quiet            no log lines on stderr\n"
"  -h, --help             this text\n"
"\n"
"Exit: 0 after a clean shutdown, 1 when it cannot start, 2 usage.\n");
}

static void log_line(void *ctx, const char *line)
{
	(void)ctx;
	time_t t = time(NULL);
	struct tm tm;
	char ts[32];
	localtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	fprintf(stderr, "vmslim serve [%s]: %s\n", ts, line);
}

#define MAX_MIB (1L << 40)

int cmd_serve(int argc, char **argv)
{
	enum { O_HEADER = 256, O_CACHE, O_NODISK, O_CSIZE, O_MCACHE, O_CPU, O_MEM, O_TIME,
	       O_MAXREQ, O_MAXCL, O_ALLOWOUT, O_NOSANDBOX, O_CLANG, O_HDRDIR };
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "header", required_argument, NULL, O_HEADER },
		{ "cache-dir", required_argument, NULL, O_CACHE },
		{ "no-disk-cache", no_argument, NULL, O_NODISK },
		{ "cache-size", required_argument, NULL, O_CSIZE },
		{ "mem-cache", required_argument, NULL, O_MCACHE },
		{ "jobs", required_argument, NULL, 'j' },
		{ "cpu-limit", required_argument, NULL, O_CPU },
		{ "mem-limit", required_argument, NULL, O_MEM },
		{ "time-limit", required_argument, NULL, O_TIME },
		{ "max-request", required_argument, NULL, O_MAXREQ },
		{ "max-clients", required_argument, NULL, O_MAXCL },
		{ "allow-output", no_argument, NULL, O_ALLOWOUT },
		{ "no-sandbox", no_argument, NULL, O_NOSANDBOX },
		{ "clang", required_argument, NULL, O_CLANG },
		{ "headers-dir", required_argument, NULL, O_HDRDIR },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vms_serve_opts o = { .sandbox = 1, .log = log_line };
	struct vms_argv inc = { 0 }, defs = { 0 };
	char *sock = NULL;
	int rc = VMS_EXIT_USAGE, c;
	long v;
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:I:D:j:qh", opts, NULL)) != -1) {
		switch (c) {
		case 's': free(sock); sock = strdup(optarg); break;
		case 'I': vms_argv_push(&inc, optarg); break;
		case 'D': vms_argv_pushf(&defs, "-D%s", optarg); break;
		case O_HEADER: o.backend.header = optarg; break;
		case O_CACHE: o.cache_dir = optarg; break;
		case O_NODISK: o.no_disk_cache = 1; break;
		case O_ALLOWOUT: o.allow_output_paths = 1; break;
		case O_NOSANDBOX: o.sandbox = 0; break;
		case O_CLANG: o.backend.clang = optarg; break;
		case O_HDRDIR: o.backend.headers_dir = optarg; break;
		case 'q': o.log = NULL; break;
		case 'j':
			if (cli_number("serve", "--jobs", optarg, 1, 4096, &v) < 0)
				goto out;
			o.jobs = (int)v;
			break;
		case O_CSIZE:
			if (cli_number("serve", "--cache-size", optarg, 1, MAX_MIB, &v) < 0)
				goto out;
			o.cache_max_bytes = (uint64_t)v << 20;
			break;
		case O_MCACHE:
			if (cli_number("serve", "--mem-cache", optarg, 1, MAX_MIB, &v) < 0)
				goto out;
			o.mem_cache_bytes = (uint64_t)v << 20;
			break;
		case O_CPU:
			if (cli_number("serve", "--cpu-limit", optarg, 1, INT_MAX, &v) < 0)
				goto out;
			o.cpu_limit_s = (int)v;
			break;
		case O_MEM:
			if (cli_number("serve", "--mem-limit", optarg, 16, MAX_MIB, &v) < 0)
				goto out;
			o.mem_limit_bytes = (uint64_t)v << 20;
			break;
		case O_TIME:
			if (cli_number("serve", "--time-limit", optarg, 10, INT_MAX, &v) < 0)
				goto out;
			o.time_limit_ms = (int)v;
			break;
		case O_MAXREQ:
			if (cli_number("serve", "--max-request", optarg, 256, 1L << 30, &v) < 0)
				goto out;
			o.max_request_bytes = (size_t)v;
			break;
		case O_MAXCL:
			if (cli_number("serve", "--max-clients", optarg, 1, 1L << 20, &v) < 0)
				goto out;
			o.max_clients = (int)v;
			break;
		case 'h':
			usage(stdout);
			rc = VMS_EXIT_OK;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (optind != argc) {
		cli_error("serve", "unexpected argument '%s'", argv[optind]);
		usage(stderr);
		goto out;
	}
	if (!sock)
		sock = vms_serve_default_socket();
	o.socket_path = sock;
	o.backend.inc_dirs = (const char *const *)inc.v;
	o.backend.n_inc = inc.n;
	o.backend.flags = (const char *const *)defs.v;
	o.backend.n_flags = defs.n;
	if (!o.backend.headers_dir)
		o.backend.headers_dir = cli_headers_dir();
	if (!inc.n)
		cli_error("serve", "no -I directory: requests may include nothing");
	struct vms_diags d = { 0 };
	int e = vms_serve_run(&o, &d);
	vms_diags_print(stderr, &d);
	vms_diags_free(&d);
	rc = e < 0 ? VMS_EXIT_FAIL : VMS_EXIT_OK;
out:
	free(sock);
	vms_argv_free(&inc);
	vms_argv_free(&defs);
	return rc;
}
