/* libmicrohttpd through dlopen (serve/mhd_dl.h): the soname the Debian package ships, then
 * the development link, resolved once; every symbol must be there or none is used. */
#include "serve/mhd_dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

/* libmicrohttpd12's ABI (0.9.x): the soname has not moved since 0.9.44 (2015) */
static const char *const sonames[] = { "libmicrohttpd.so.12", "libmicrohttpd.so" };

static const struct {
	const char *name;
	size_t off;
} syms[] = {
#define SYM(f) { "MHD_" #f, offsetof(struct mhd_fns, f) }
	SYM(start_daemon),	  SYM(stop_daemon),
	SYM(get_daemon_info),	  SYM(create_response_from_buffer),
	SYM(add_response_header), SYM(queue_response),
	SYM(destroy_response),	  SYM(lookup_connection_value),
	SYM(set_connection_option),
#undef SYM
};

static struct mhd_fns fns;
static const struct mhd_fns *loaded;
static const char *load_error;
static char load_error_buf[256];

static void load(void)
{
	void *h = NULL;
	for (size_t i = 0; i < sizeof(sonames) / sizeof(sonames[0]) && !h; i++)
		h = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		/* dlerror's text lasts only until the next dl call: kept here */
		const char *e = dlerror();
		snprintf(load_error_buf, sizeof(load_error_buf), "%s", e ? e : "dlopen failed");
		load_error = load_error_buf;
		return;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *p = dlsym(h, syms[i].name);
		if (!p) {
			load_error = "libmicrohttpd lacks a function vmslim calls (too old?)";
			dlclose(h);
			return;
		}
		/* POSIX: a function pointer and void * convert both ways through dlsym */
		*(void **)((char *)&fns + syms[i].off) = p;
	}
	loaded = &fns; /* stays loaded: its threads run its code until the process ends */
}

const struct mhd_fns *mhd_dl(const char **why)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, load);
	if (!loaded && why)
		*why = load_error ? load_error : "libmicrohttpd could not be loaded";
	return loaded;
}
