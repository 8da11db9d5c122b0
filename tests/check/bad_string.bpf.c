// An unterminated string: TCC counts the newline first; clang (and the test) say line 6.
#include "vmlinux.h"

int x;

const char *s = "abc;
int y;
