// A stray byte at the start of a line: TCC charges it to the line before; clang, as
// the test expects, to its own line (8).
#include "vmlinux.h"

int x;

int y;
 int z;
