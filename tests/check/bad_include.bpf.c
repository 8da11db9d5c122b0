// A header that does not exist, in the preamble the snapshot parses.
#include "vmlinux.h"
#include "no_such_header_anywhere.h"

int x;
