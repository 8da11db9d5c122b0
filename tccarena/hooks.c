/* The functions the patched libtcc calls instead of malloc, open, exit... (the list:
 * libtcc-redirects.cmake). They are the only link between TCC and the rest of vmslim:
 *
 *   heap   vms_tcc_malloc & co. go to the arena or to glibc, per check;
 *   files  vms_tcc_open serves virtual files (the program's text never touches the
 *          disk), redirects vmlinux.h to the chosen header, enforces confinement,
 *          records what it opened (snapshot staleness) and hands the snapshot marker to
 *          its callback — which, in the snapshot helper, is where requests are served;
 *   asm    TCC assembles inline asm as x86, so errors inside it are not the program's;
 *   exit   library code never exits.
 *
 * Memory files are served through a reserved descriptor (an eventfd, which needs no
 * file system) so that their numbers can never collide with real files TCC has open;
 * reads come from memory.
 */
#include "tccarena/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* ---- heap ---- */

static enum vms_heap_mode heap_mode;

void vms_hooks_set_heap(enum vms_heap_mode m)
{
	heap_mode = m;
}

void *vms_tcc_malloc(size_t n);
void vms_tcc_free(void *p);
void *vms_tcc_realloc(void *p, size_t n);
void *vms_tcc_calloc(size_t n, size_t size);

/* TCC's own error entry point (libtcc.c): reports through the error callback and
 * unwinds to the compilation's setjmp, or calls exit() outside a compilation. */
void _tcc_error(const char *fmt, ...) __attribute__((noreturn));

/* The arena refused an allocation (the cap). Returning NULL would make TCC unwind with
 * the failed pointer already stored (table_ident = NULL, say) and crash in its cleanup;
 * raising the error here instead unwinds from a consistent state, and the error
 * callback sees the cap-hit flag. */
static void *refused(void *p)
{
	if (!p && vms_arena_cap_hit())
		_tcc_error("memory full (the fast checker's limit)");
	return p;
}

void *vms_tcc_malloc(size_t n)
{
	return heap_mode == VMS_HEAP_ARENA ? refused(vms_arena_alloc(n)) : malloc(n);
}

/* A block goes back to the heap it came from, whatever the current mode: TCC keeps a
 * few buffers from one state to the next. */
void vms_tcc_free(void *p)
{
	if (vms_arena_owns(p))
		vms_arena_free(p);
	else
		free(p);
}

void *vms_tcc_realloc(void *p, size_t n)
{
	if (p && !vms_arena_owns(p))
		return realloc(p, n);
	if (!p && heap_mode != VMS_HEAP_ARENA)
		return malloc(n);
	return refused(vms_arena_realloc(p, n));
}

void *vms_tcc_calloc(size_t n, size_t size)
{
	return heap_mode == VMS_HEAP_ARENA ? refused(vms_arena_calloc(n, size)) : calloc(n, size);
}

/* ---- virtual files ---- */

struct vfile {
	char *path;
	const char *data;
	size_t len;
};

struct memfd {
	int fd;
	const char *data;
	size_t len, pos;
};

#define MAX_VFILES 8
#define MAX_MEMFDS 16

static struct vfile vfiles[MAX_VFILES];
static size_t n_vfiles;
static struct memfd memfds[MAX_MEMFDS];
static char *marker_path;
static int (*marker_fn)(void *);
static void *marker_arg;
static char *vmlinux_path;
static char **confine_dirs, **confine_files;
static int tracking;
static struct vms_tracked_file *tracked;
static size_t n_tracked, cap_tracked;

void vms_hooks_add_vfile(const char *path, const char *data, size_t len)
{
	if (n_vfiles == MAX_VFILES)
		return;
	vfiles[n_vfiles].path = vms_xstrdup(path);
	vfiles[n_vfiles].data = data;
	vfiles[n_vfiles].len = len;
	n_vfiles++;
}

void vms_hooks_clear_vfiles(void)
{
	for (size_t i = 0; i < n_vfiles; i++)
		free(vfiles[i].path);
	n_vfiles = 0;
	free(marker_path);
	marker_path = NULL;
	marker_fn = NULL;
}

void vms_hooks_set_marker(const char *path, int (*fn)(void *), void *arg)
{
	free(marker_path);
	marker_path = path ? vms_xstrdup(path) : NULL;
	marker_fn = fn;
	marker_arg = arg;
}

void vms_hooks_set_vmlinux(const char *path)
{
	free(vmlinux_path);
	vmlinux_path = path ? vms_xstrdup(path) : NULL;
}

void vms_hooks_set_confine(char **dirs, char **files)
{
	confine_dirs = dirs;
	confine_files = files;
}

int vms_hooks_open_memory(const char *data, size_t len)
{
	for (size_t i = 0; i < MAX_MEMFDS; i++) {
		if (memfds[i].data)
			continue;
		int fd = eventfd(0, EFD_CLOEXEC);
		if (fd < 0)
			return -1;
		memfds[i] = (struct memfd){ .fd = fd, .data = data ? data : "", .len = len };
		return fd;
	}
	errno = EMFILE;
	return -1;
}

static struct memfd *memfd_of(int fd)
{
	for (size_t i = 0; i < MAX_MEMFDS; i++)
		if (memfds[i].data && memfds[i].fd == fd)
			return &memfds[i];
	return NULL;
}

void vms_hooks_track(int on)
{
	tracking = on;
}

void vms_hooks_take_tracked(struct vms_tracked_file **v, size_t *n)
{
	*v = tracked;
	*n = n_tracked;
	tracked = NULL;
	n_tracked = cap_tracked = 0;
}

static int under_dir(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || (n && dir[n - 1] == '/'));
}

/* Confinement works on the resolved path, so neither "../" nor a symbolic link leads
 * out of the allowed directories. */
static int allowed(const char *path)
{
	char *real = realpath(path, NULL);
	if (!real)
		return 1; /* does not exist: the open fails by itself */
	int ok = 0;
	for (char **f = confine_files; !ok && f && *f; f++)
		ok = strcmp(real, *f) == 0;
	for (char **d = confine_dirs; !ok && d && *d; d++)
		ok = under_dir(real, *d);
	free(real);
	return ok;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

int vms_tcc_open(const char *path, int flags, ...);
ssize_t vms_tcc_read(int fd, void *buf, size_t n);
int vms_tcc_close(int fd);
void vms_tcc_exit(int code);

int vms_tcc_open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (flags & O_CREAT) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (marker_path && strcmp(path, marker_path) == 0 && marker_fn)
		return marker_fn(marker_arg);
	for (size_t i = 0; i < n_vfiles; i++)
		if (strcmp(path, vfiles[i].path) == 0)
			return vms_hooks_open_memory(vfiles[i].data, vfiles[i].len);
	if ((flags & O_ACCMODE) != O_RDONLY) {
		errno = EACCES; /* a checker writes nothing */
		return -1;
	}
	const char *real = path;
	if (vmlinux_path && strcmp(base_name(path), "vmlinux.h") == 0)
		real = vmlinux_path;
	if ((confine_dirs || confine_files) && !allowed(real)) {
		errno = ENOENT;
		return -1;
	}
	int fd = open(real, flags | O_CLOEXEC, mode);
	if (fd >= 0 && tracking) {
		struct stat st;
		if (fstat(fd, &st) == 0) {
			if (n_tracked == cap_tracked) {
				cap_tracked = cap_tracked ? 2 * cap_tracked : 16;
				tracked = vms_xrealloc(tracked, cap_tracked * sizeof(*tracked));
			}
			tracked[n_tracked].path = vms_xstrdup(real);
			tracked[n_tracked].st = st;
			n_tracked++;
		}
	}
	return fd;
}

static size_t pending_cap;

void vms_hooks_cap_on_first_read(size_t cap)
{
	pending_cap = cap;
}

ssize_t vms_tcc_read(int fd, void *buf, size_t n)
{
	struct memfd *m = memfd_of(fd);
	if (!m)
		return read(fd, buf, n);
	if (pending_cap) {
		vms_arena_set_cap(pending_cap);
		pending_cap = 0;
	}
	size_t left = m->len - m->pos;
	if (n > left)
		n = left;
	memcpy(buf, m->data + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

int vms_tcc_close(int fd)
{
	struct memfd *m = memfd_of(fd);
	if (m)
		*m = (struct memfd){ .fd = -1 };
	return close(fd);
}

/* inline assembly: asm_hooks.c (shared with the WebAssembly build) */

/* ---- end of a translation unit ---- */

void tccgen_finish(struct TCCState *s1);
void vms_tcc_gen_finish(struct TCCState *s1);
void (*vms_hooks_on_finish)(void);

/* TCC has parsed (and generated) everything, including the static inline functions it
 * compiles only at the end; what follows is teardown, which a snapshot child skips. */
void vms_tcc_gen_finish(struct TCCState *s1)
{
	if (vms_hooks_on_finish)
		vms_hooks_on_finish();
	tccgen_finish(s1);
}

/* ---- exit ---- */

jmp_buf *vms_hooks_exit_jmp;

void vms_tcc_exit(int code)
{
	if (vms_hooks_exit_jmp)
		longjmp(*vms_hooks_exit_jmp, 1);
	_exit(code ? code : 1);
}
