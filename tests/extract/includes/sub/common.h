/* common.h one directory down: the test puts a decoy vmlinux.h beside it, which only the
 * overlay redirect (found after a first parse) can keep out */
#ifndef SUB_COMMON_H
#define SUB_COMMON_H
#include "vmlinux.h"

#define SEC(name) __attribute__((section(name), used))
#endif
