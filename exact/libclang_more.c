/* The editor features' libclang calls (libclang_more.h), from the library already loaded:
 * dladdr() names the file that holds a function of the first table, and dlopen() of that
 * name with RTLD_NOLOAD hands back the same handle, so both tables always come from one
 * libclang, whichever $VMSLIM_LIBCLANG chose. */
#define VMS_XCLANG_NO_REDIRECT
#include "exact/libclang_more.h"

#include "common/libclang.h"
#undef clang_createIndex /* the field itself, below */

#include <dlfcn.h>
#include <pthread.h>

struct vms_xclang_table vms_xclang;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char *load_error;

static void load(void)
{
	Dl_info info;
	void *h = NULL;
	if (dladdr((void *)vms_libclang.clang_createIndex, &info) && info.dli_fname)
		h = dlopen(info.dli_fname, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
	if (!h) {
		load_error = vms_xasprintf("cannot find the loaded libclang again: %s", dlerror());
		return;
	}
	struct vms_xclang_table t;
#define VMS_XCLANG_LOOKUP(f)                                                                \
	*(void **)&t.f = dlsym(h, #f);                                                      \
	if (!t.f) {                                                                         \
		load_error = vms_xasprintf("%s has no %s: libclang too old", info.dli_fname, #f); \
		return;                                                                     \
	}
	VMS_XCLANG_FUNCTIONS(VMS_XCLANG_LOOKUP)
#undef VMS_XCLANG_LOOKUP
	vms_xclang = t;
}

int vms_xclang_load(struct vms_diags *d)
{
	if (vms_libclang_load(d) < 0)
		return -1;
	pthread_once(&once, load);
	if (load_error) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "%s", load_error);
		return -1;
	}
	return 0;
}
