/* vmslim serve: the compile-cache daemon on a Unix socket (protocol: docs/protocol.md). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/sandbox.h"
#include "remote/remote.h"
#include "serve/cc.h"
#include "serve/serve.h"
#include "cli/serve_http.h"

static const char help[] =
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
	"      --max-per-client N simultaneous connections of one client, i.e. one peer uid\n"
	"                         (default 32); a front-end serving many users as one uid\n"
	"                         raises it\n"
	"      --idle-timeout S   close a connection with nothing in flight and no complete\n"
	"                         request line for S seconds (default 30)\n"
	"      --allow-output DIR let build requests name a file in DIR for the daemon to write\n"
	"      --sandbox MECH     OS confinement of every compile of a request's source:\n"
	"                         auto (default: Landlock and a mount namespace, as far as\n"
	"                         the kernel allows; with neither, builds are refused),\n"
	"                         landlock, mount-ns, or both (fail to start without them)\n"
	"      --no-sandbox       run compilers without OS confinement (the include scan\n"
	"                         still applies)\n"
	"      --remote URL       a cache shared by machines behind the local one:\n"
	"                         redis://[USER:PASS@]HOST[:PORT][/DB] or unix:///PATH\n"
	"                         (default $VMSLIM_REMOTE); looked up after the local\n"
	"                         cache, written in the background, skipped while down\n"
	"      --no-remote        no shared cache, whatever $VMSLIM_REMOTE says\n"
	"      --remote-timeout MS        one lookup or write (default 500)\n"
	"      --remote-connect-timeout MS  a connect (default 100)\n"
	"      --remote-retry MS  after a failure, skip the store this long, doubling while\n"
	"                         it keeps failing (default 30000)\n"
	"      --remote-max-entry SIZE  largest entry stored or read, bytes or with K/M\n"
	"                         (default 8M)\n"
	"      --remote-ttl S     entries written expire after S seconds (default: never;\n"
	"                         Redis's maxmemory policy bounds them)\n"
	"      --remote-read-only look up, never write (for untrusted runners)\n"
	"      --user             the per-user daemon `vmslim cc` starts by itself: only this\n"
	"                         user may connect (SO_PEERCRED), it compiles the user's own\n"
	"                         files by path (op \"cc\") and writes their outputs; socket\n"
	"                         $XDG_RUNTIME_DIR/vmslim/daemon.sock, else\n"
	"                         /tmp/vmslim-UID/daemon.sock; here --idle-timeout S stops\n"
	"                         the daemon after S seconds without requests (default\n"
	"                         $VMSLIM_IDLE_TIMEOUT, else 600)\n"
	SERVE_HTTP_HELP
	"      --clang PATH       " HELP_SPEC_CLANG "\n"
	"      --headers-dir D    " HELP_SPEC_HEADERS_DIR "\n"
	"  -q, --quiet            no log lines on stderr\n"
	"  -h, --help             " HELP_SPEC_HELP "\n"
	"\n"
	"Exit: 0 after a clean shutdown, 1 when it cannot start, 2 usage.\n";

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

enum { O_HEADER = 256, O_CACHE, O_NODISK, O_CSIZE, O_MCACHE, O_CPU, O_MEM, O_TIME,
       O_MAXREQ, O_MAXCL, O_MAXPER, O_IDLE, O_ALLOWOUT, O_NOSANDBOX, O_SANDBOX, O_CLANG, O_HDRDIR,
       O_REMOTE, O_NOREMOTE, O_RTIMEOUT, O_RCONNECT, O_RRETRY, O_RMAX, O_RTTL, O_RRO,
       O_USER };
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
	{ "max-per-client", required_argument, NULL, O_MAXPER },
	{ "idle-timeout", required_argument, NULL, O_IDLE },
	{ "allow-output", required_argument, NULL, O_ALLOWOUT },
	{ "no-sandbox", no_argument, NULL, O_NOSANDBOX },
	{ "sandbox", required_argument, NULL, O_SANDBOX },
	{ "clang", required_argument, NULL, O_CLANG },
	{ "headers-dir", required_argument, NULL, O_HDRDIR },
	{ "remote", required_argument, NULL, O_REMOTE },
	{ "no-remote", no_argument, NULL, O_NOREMOTE },
	{ "remote-timeout", required_argument, NULL, O_RTIMEOUT },
	{ "remote-connect-timeout", required_argument, NULL, O_RCONNECT },
	{ "remote-retry", required_argument, NULL, O_RRETRY },
	{ "remote-max-entry", required_argument, NULL, O_RMAX },
	{ "remote-ttl", required_argument, NULL, O_RTTL },
	{ "remote-read-only", no_argument, NULL, O_RRO },
	{ "user", no_argument, NULL, O_USER },
	{ "quiet", no_argument, NULL, 'q' },
	SERVE_HTTP_OPTIONS,
	CLI_OPT_HELP,
	{ 0 },
};

static const struct cli_spec spec = { "serve", help, "s:I:D:j:qh", opts, NULL };

/* The numeric options: their range, and what the number becomes. */
static const struct {
	int opt;
	long min, max;
	int shift;	/* MiB given, bytes kept */
} numbers[] = {
	{ 'j', 1, 4096, 0 },
	{ O_CSIZE, 1, MAX_MIB, 20 },
	{ O_MCACHE, 1, MAX_MIB, 20 },
	{ O_CPU, 1, INT_MAX, 0 },
	{ O_MEM, 16, MAX_MIB, 20 },
	{ O_TIME, 10, INT_MAX, 0 },
	{ O_MAXREQ, 256, 1L << 30, 0 },
	{ O_MAXCL, 1, 1L << 20, 0 },
	{ O_MAXPER, 1, 1L << 20, 0 },
	{ O_IDLE, 1, 7 * 24 * 3600, 0 },
	{ O_RTIMEOUT, 1, 60000, 0 },
	{ O_RCONNECT, 1, 60000, 0 },
	{ O_RRETRY, 10, 24 * 3600 * 1000L, 0 },
	{ O_RTTL, 1, 365 * 24 * 3600L, 0 },
};

/* A numeric option into its field of o: 0, or -1 after saying what was wrong. */
static int take_number(struct cli_args *a, size_t i, struct vms_serve_opts *o)
{
	long v;
	if (cli_number(a, numbers[i].min, numbers[i].max, NULL, &v) < 0)
		return -1;
	uint64_t u = (uint64_t)v << numbers[i].shift;
	switch (numbers[i].opt) {
	case 'j': o->jobs = (int)v; break;
	case O_CSIZE: o->cache_max_bytes = u; break;
	case O_MCACHE: o->mem_cache_bytes = u; break;
	case O_CPU: o->cpu_limit_s = (int)v; break;
	case O_MEM: o->mem_limit_bytes = u; break;
	case O_TIME: o->time_limit_ms = (int)v; break;
	case O_MAXREQ: o->max_request_bytes = (size_t)v; break;
	case O_MAXCL: o->max_clients = (int)v; break;
	case O_MAXPER: o->max_per_client = (int)v; break;
	case O_IDLE: o->idle_timeout_s = (int)v; break;
	case O_RTIMEOUT: o->remote_timeout_ms = (int)v; break;
	case O_RCONNECT: o->remote_connect_ms = (int)v; break;
	case O_RRETRY: o->remote_retry_ms = (int)v; break;
	case O_RTTL: o->remote_ttl_s = (int)v; break;
	}
	return 0;
}

/* --sandbox MECH: 0, or -1 after saying what was wrong. */
static int take_sandbox(const char *arg, struct vms_serve_opts *o)
{
	static const struct { const char *name; unsigned mech; int exact; } mechs[] = {
		{ "auto", VMS_SANDBOX_LANDLOCK | VMS_SANDBOX_MOUNTNS, 0 },
		{ "landlock", VMS_SANDBOX_LANDLOCK, 1 },
		{ "mount-ns", VMS_SANDBOX_MOUNTNS, 1 },
		{ "both", VMS_SANDBOX_LANDLOCK | VMS_SANDBOX_MOUNTNS, 1 },
	};
	for (size_t i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (!strcmp(arg, mechs[i].name)) {
			o->sandbox = mechs[i].mech;
			o->sandbox_exact = mechs[i].exact;
			return 0;
		}
	fprintf(stderr, "vmslim serve: --sandbox: expected auto, landlock, mount-ns or both, "
			"not '%s'\n", arg);
	return -1;
}

/* --remote-max-entry SIZE: bytes, or with a K or M suffix (binary), from 1 KiB to 512 MiB
 * (Redis's largest string). 0, or -1 after saying what was wrong. */
static int take_entry_size(const char *arg, struct vms_serve_opts *o)
{
	char *end;
	errno = 0;
	long long v = strtoll(arg, &end, 10);
	int shift = *end == 'k' || *end == 'K' ? 10 : *end == 'm' || *end == 'M' ? 20 : 0;
	if (shift)
		end++;
	if (end == arg || *end || errno || v < 0 || v > (512ll << 20) >> shift ||
	    (v << shift) < 1024) {
		cli_error("serve", "--remote-max-entry wants a size from 1K to 512M (bytes, or with "
				   "K or M), not '%s'", arg);
		return -1;
	}
	o->remote_max_entry = (uint64_t)v << shift;
	return 0;
}

/* One option into o (and the vectors): 0, or -1 on a bad number. */
static int take_option(struct cli_args *a, struct vms_serve_opts *o, const char **sock,
		       struct vms_argv *inc, struct vms_argv *defs)
{
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		if (numbers[i].opt == a->opt)
			return take_number(a, i, o);
	switch (a->opt) {
	case 's': *sock = a->arg; break;
	case 'I': vms_argv_push(inc, a->arg); break;
	case 'D': vms_argv_pushf(defs, "-D%s", a->arg); break;
	case O_HEADER: o->backend.header = a->arg; break;
	case O_CACHE: o->cache_dir = a->arg; break;
	case O_NODISK: o->no_disk_cache = 1; break;
	case O_ALLOWOUT: o->allow_output_dir = a->arg; break;
	case O_NOSANDBOX: o->sandbox = 0; break;
	case O_SANDBOX: return take_sandbox(a->arg, o);
	case O_CLANG: o->backend.clang = a->arg; break;
	case O_HDRDIR: o->backend.headers_dir = a->arg; break;
	case O_REMOTE: o->remote = a->arg; o->no_remote = 0; break;
	case O_NOREMOTE: o->no_remote = 1; o->remote = NULL; break;
	case O_RMAX: return take_entry_size(a->arg, o);
	case O_RRO: o->remote_read_only = 1; break;
	case O_USER: o->user_mode = 1; break;
	case 'q': o->log = NULL; break;
	default: return serve_http_option(a); /* --http... */
	}
	return 0;
}

/* --user: the connection idle timeout becomes the daemon's, the socket goes in the user's
 * private directory, and compiles run unconfined (they are the user's own). 0, or -1 after
 * saying what is wrong. */
static int user_mode_setup(struct vms_serve_opts *o, const char *sock_opt, char **sock)
{
	const char *env = getenv("VMSLIM_IDLE_TIMEOUT");
	o->exit_idle_s = o->idle_timeout_s > 0 ? o->idle_timeout_s
			 : env && atoi(env) > 0 ? atoi(env) : VMS_IDLE_TIMEOUT_DEFAULT;
	o->idle_timeout_s = 0;
	o->sandbox = 0;
	if (sock_opt)
		return 0;
	char *why = NULL;
	*sock = vms_user_socket(&why);
	if (!*sock) {
		cli_error("serve", "%s", why);
		free(why);
		return -1;
	}
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	struct vms_serve_opts o = { .sandbox = VMS_SANDBOX_LANDLOCK | VMS_SANDBOX_MOUNTNS,
				    .log = log_line };
	struct vms_argv inc = { 0 }, defs = { 0 };
	const char *sock_opt = NULL;
	char *sock = NULL;
	int rc = VMS_EXIT_USAGE, c;
	struct cli_args a;
	cli_args_init(&a, &spec, argc, argv);
	while ((c = cli_next(&a)) > 0)
		if (take_option(&a, &o, &sock_opt, &inc, &defs) < 0)
			goto out;
	if (c == CLI_EXIT) {
		rc = a.exit;
		goto out;
	}
	if (optind != argc) {
		cli_unexpected(&a, argv[optind]);
		cli_usage_error(&spec);
		goto out;
	}
	if (o.remote) {
		/* a bad address is a usage error now, not a daemon that fails to start later */
		struct vms_remote_url u;
		char *why = NULL;
		if (vms_remote_url_parse(o.remote, &u, &why) < 0) {
			fprintf(stderr, "vmslim serve: %s\n", why);
			free(why);
			goto out;
		}
		vms_remote_url_free(&u);
	}
	if (o.user_mode && user_mode_setup(&o, sock_opt, &sock) < 0) {
		rc = VMS_EXIT_FAIL;
		goto out;
	}
	if (!sock)
		sock = sock_opt ? vms_xstrdup(sock_opt) : vms_serve_default_socket();
	o.socket_path = sock;
	o.backend.inc_dirs = (const char *const *)inc.v;
	o.backend.n_inc = inc.n;
	o.backend.flags = (const char *const *)defs.v;
	o.backend.n_flags = defs.n;
	if (!o.backend.headers_dir)
		o.backend.headers_dir = cli_headers_dir();
	if (!inc.n && !o.user_mode)
		cli_error("serve", "no -I directory: requests may include nothing");
	struct vms_diags d = { 0 };
	if (serve_http_start(&o) < 0) {
		rc = VMS_EXIT_FAIL;
		goto out;
	}
	int e = vms_serve_run(&o, &d);
	serve_http_stop();
	vms_diags_print(stderr, &d);
	vms_diags_free(&d);
	rc = e < 0 ? VMS_EXIT_FAIL : VMS_EXIT_OK;
out:
	free(sock);
	vms_argv_free(&inc);
	vms_argv_free(&defs);
	return rc;
}
