/* What every C test program shares: CHECK/FAIL counting failures, skipping with ctest's
 * SKIP_RETURN_CODE, fresh work directories, reading fixtures and running the real binary.
 * Header-only (each test is one translation unit), so a test links only what it tests.
 *
 * A test prints "FAIL file:line: cond: what" on stderr for each failed check and goes
 * on, so that one run reports every failure; it exits through test_exit(): 0 when none
 * failed, 1 otherwise. A test that cannot run here (no second compiler, BPF loading refused)
 * prints "SKIP: why" and returns TEST_SKIP, which the .cmake files declare as
 * SKIP_RETURN_CODE. */
#ifndef VMSLIM_TESTUTIL_H
#define VMSLIM_TESTUTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

#define TEST_SKIP 77

static int failures;

/* Counts one failure and says where: "FAIL file:line: cond: message" (cond NULL: no
 * condition to show). On stderr, which is unbuffered, so a crash right after still shows it;
 * a test printing progress on stdout keeps that line-buffered for the order to hold. */
static inline void __attribute__((format(printf, 4, 5), unused))
test_fail_at(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "FAIL %s:%d: ", file, line);
	if (cond)
		fprintf(stderr, "%s: ", cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	failures++;
}

#define FAIL(...) test_fail_at(__FILE__, __LINE__, NULL, __VA_ARGS__)

/* The failed condition is printed before the message, which then need not repeat it. */
#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond))                                                   \
			test_fail_at(__FILE__, __LINE__, #cond, __VA_ARGS__);  \
	} while (0)

/* A check whose condition says it all: "FAIL file:line: cond". */
#define EXPECT(cond)                                                           \
	do {                                                                   \
		if (!(cond))                                                   \
			test_fail_at(__FILE__, __LINE__, NULL, "%s", #cond);   \
	} while (0)

/* "SKIP: why" on stdout (ctest keeps it; scripts/test.sh prints it); returns TEST_SKIP. */
static inline int __attribute__((format(printf, 1, 2), unused)) test_skip(const char *fmt, ...)
{
	va_list ap;
	fputs("SKIP: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	return TEST_SKIP;
}

/* The exit code: says how many checks failed, if any. */
static inline int __attribute__((unused)) test_exit(void)
{
	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	return failures ? 1 : 0;
}

/* An empty directory at dir (what a previous run left is removed); exits when it cannot. */
static inline void __attribute__((unused)) test_fresh_dir(const char *dir)
{
	vms_remove_tree(dir);
	if (vms_mkdir_p(dir, 0755) < 0) {
		fprintf(stderr, "cannot create %s\n", dir);
		exit(1);
	}
}

/* A fixture's whole text (owned); exits when it cannot be read. */
static inline char *__attribute__((unused)) test_slurp(const char *path)
{
	char *d;
	size_t n;
	if (vms_read_file(path, &d, &n) < 0) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(1);
	}
	return d;
}

/* Runs argv (the vmslim binary, a compiler) with stdin_data, within two minutes: its exit
 * code (128+signal when killed), its stdout and stderr in *out and *err when asked for
 * (owned), or -1 (a FAIL) when it cannot be started. */
static inline int __attribute__((unused)) test_run(const char *const *argv, const char *stdin_data,
						   char **out, char **err)
{
	struct vms_proc_result r;
	if (vms_run((char *const *)argv, stdin_data, stdin_data ? strlen(stdin_data) : 0,
		    120000, &r) < 0) {
		FAIL("cannot run %s", argv[0]);
		if (out)
			*out = vms_xstrdup("");
		if (err)
			*err = vms_xstrdup("");
		return -1;
	}
	if (out) {
		*out = r.out;
		r.out = NULL;
	}
	if (err) {
		*err = r.err;
		r.err = NULL;
	}
	int rc = r.exit_code;
	vms_proc_result_free(&r);
	return rc;
}

#endif
