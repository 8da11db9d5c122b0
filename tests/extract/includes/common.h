/* a project header that brings vmlinux.h in itself (quoted, from beside this file) */
#ifndef COMMON_H
#define COMMON_H
#include "vmlinux.h"

#define SEC(name) __attribute__((section(name), used))

struct event {
	pid_t pid;
	__u64 start;
};
#endif
