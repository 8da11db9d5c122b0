#define VMS_LIBCLANG_NO_REDIRECT
#include "common/libclang.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>

struct vms_libclang_table vms_libclang;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char *load_error;

static void load(void)
{
	const char *path = getenv("VMSLIM_LIBCLANG");
	if (!path || !*path)
		path = VMSLIM_LIBCLANG_PATH;
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		load_error = vms_xasprintf("cannot load libclang: %s", dlerror());
		return;
	}
	struct vms_libclang_table t;
#define VMS_LIBCLANG_LOOKUP(f)                                                              \
	*(void **)&t.f = dlsym(h, #f);                                                      \
	if (!t.f) {                                                                         \
		load_error = vms_xasprintf("%s has no %s: libclang too old", path, #f);     \
		return;                                                                     \
	}
	VMS_LIBCLANG_FUNCTIONS(VMS_LIBCLANG_LOOKUP)
#undef VMS_LIBCLANG_LOOKUP
	vms_libclang = t;
}

int vms_libclang_load(struct vms_diags *d)
{
	pthread_once(&once, load);
	if (load_error) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "%s", load_error);
		return -1;
	}
	return 0;
}
