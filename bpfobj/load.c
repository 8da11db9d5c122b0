/* Loading a BPF object into the running kernel to see the verifier's verdict, then
 * unloading it. Nothing is attached: a load proves the programs verify and the maps can
 * be created, which is what a trimmed header could break.
 *
 * The hard part is telling "the verifier rejected this program" from "this machine does
 * not let us load programs": tests must fail on the first and skip on the second. The
 * kernel answers with an errno in both cases, so the errno alone does not decide:
 *  - EPERM or EACCES with no verifier log: a capability, an LSM, lockdown or a sandbox
 *    said no before the verifier ran (here, for instance, every program that needs a BPF
 *    trampoline — fentry, fexit, LSM — gets EPERM without a log);
 *  - ENOSYS / EOPNOTSUPP / ENOTSUPP: no bpf(), or no such program type or attach support;
 *  - ENOMEM with no verifier log: memlock or cgroup memory limits on map creation;
 *  - anything else with a verifier log (EACCES, EINVAL, E2BIG...): a rejection.
 * libbpf prints the verifier log (it retries a failed load with logging on) and its own
 * messages through its print callback, which is process-global; a mutex keeps concurrent
 * loads from interleaving their logs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "bpfobj/bpfobj.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524	/* kernel-internal, but bpf() leaks it to user space */
#endif

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vms_buf *capture;

static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *line = NULL;
	int n;

	if (level == LIBBPF_DEBUG || !capture)
		return 0;
	n = vasprintf(&line, fmt, ap);
	if (n > 0)
		vms_buf_append(capture, line, (size_t)n);
	free(line);
	return n;
}

/* True when the log holds the kernel's verifier output, not only libbpf's words. */
static bool has_verifier_log(const struct vms_buf *log)
{
	const char *begin, *end;

	if (!log->data)
		return false;
	begin = strstr(log->data, "-- BEGIN PROG LOAD LOG --");
	if (!begin)
		return false;
	begin = strchr(begin, '\n');
	end = begin ? strstr(begin, "-- END PROG LOAD LOG --") : NULL;
	if (!end)
		return true;	/* truncated, but something was there */
	for (const char *p = begin; p < end; p++)
		if (*p != '\n' && *p != ' ')
			return true;
	return false;
}

static enum vms_load_result classify(int err, const struct vms_buf *log, const char **why)
{
	bool vlog = has_verifier_log(log);

	switch (err) {
	case EPERM:
		if (vlog)
			break;
		*why = "the kernel refused the load with EPERM (missing capability, lockdown, an "
		       "LSM policy, or a program type this kernel does not allow here)";
		return VMS_LOAD_REFUSED;
	case EACCES:
		if (vlog)
			break;
		*why = "the kernel refused the load with EACCES before the verifier ran "
		       "(an LSM or a sandbox policy)";
		return VMS_LOAD_REFUSED;
	case ENOSYS:
		*why = "the bpf() system call is not available (ENOSYS)";
		return VMS_LOAD_REFUSED;
	case EOPNOTSUPP:
	case ENOTSUPP:
		if (vlog)
			break;
		*why = "the kernel does not support this program or map type here";
		return VMS_LOAD_REFUSED;
	case ENOMEM:
		if (vlog)
			break;
		*why = "the kernel ran out of memory creating maps or programs (memlock or "
		       "cgroup limits)";
		return VMS_LOAD_REFUSED;
	default:
		break;
	}
	*why = vlog ? "the verifier rejected a program" : "libbpf or the kernel rejected the object";
	return VMS_LOAD_REJECTED;
}

/* libbpf's own codes (LIBBPF_ERRNO__*, from 4000) are not errnos strerror knows. */
static const char *error_string(int err, char *buf, size_t n)
{
	if (libbpf_strerror(err, buf, n))
		snprintf(buf, n, "error %d", err);
	return buf;
}

/* libbpf reports the failing program as "prog 'NAME': failed to load"; naming it with
 * its section and type tells a reader which kind of program this machine refuses. */
static void name_failed_program(struct bpf_object *obj, struct vms_buf *out)
{
	const char *tail = "': failed to load", *p, *start, *end = NULL;
	const struct bpf_program *prog;
	const char *type;
	char name[128];

	for (p = out->data; p && (p = strstr(p, tail)); p++)
		end = p;
	if (!end)
		return;
	for (start = end; start > out->data && start[-1] != '\''; start--)
		;
	if (start == out->data || (size_t)(end - start) >= sizeof(name))
		return;
	memcpy(name, start, end - start);
	name[end - start] = 0;
	prog = bpf_object__find_program_by_name(obj, name);
	if (!prog)
		return;
	type = libbpf_bpf_prog_type_str(bpf_program__type(prog));
	vms_buf_printf(out, " in program '%s' (SEC(\"%s\"), %s)", name,
		       bpf_program__section_name(prog),
		       type ? type : "unknown type");
}

enum vms_load_result vms_bpf_load_object(const char *obj_path, char **log)
{
	struct vms_buf buf = { 0 };
	struct bpf_object *obj;
	libbpf_print_fn_t old;
	enum vms_load_result res;
	const char *why = NULL;
	char msg[128];
	int err;

	pthread_mutex_lock(&load_lock);
	capture = &buf;
	old = libbpf_set_print(capture_print);

	obj = bpf_object__open_file(obj_path, NULL);
	if (!obj) {
		err = errno;
		vms_buf_printf(&buf, "vmslim: cannot open %s as a BPF object: %s\n", obj_path,
			       error_string(err, msg, sizeof(msg)));
		res = VMS_LOAD_ERROR;
		goto out;
	}
	err = -bpf_object__load(obj);
	if (!err) {
		bpf_object__close(obj);	/* closing the fds unloads programs and maps */
		res = VMS_LOAD_OK;
		goto out;
	}
	if (err == ESRCH && access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		res = VMS_LOAD_REFUSED;
		why = "the running kernel exposes no BTF (/sys/kernel/btf/vmlinux), which CO-RE "
		      "relocations and typed attach points need";
	} else {
		res = classify(err, &buf, &why);
	}
	vms_buf_printf(&buf, "vmslim: loading %s failed (%s)", obj_path,
		       error_string(err, msg, sizeof(msg)));
	name_failed_program(obj, &buf);
	vms_buf_printf(&buf, ": %s\n", why);
	bpf_object__close(obj);
out:
	libbpf_set_print(old);
	capture = NULL;
	pthread_mutex_unlock(&load_lock);
	*log = vms_buf_steal(&buf);
	return res;
}
