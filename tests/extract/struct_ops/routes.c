/* Uses routes.h the way a struct_ops program uses vmlinux.h: a global of the ops-like
 * struct, which the program never looks into, and a global function whose argument is a
 * header typedef of a pointer (clang's BTF follows that pointer, though the typedef's own
 * use in a member would not). */
#include "routes.h"

#define SEC(name) __attribute__((section(name), used))

struct holder table SEC(".data.table");

__attribute__((noinline)) int take(full_typedef_arg_p p)
{
	return p != 0;
}

SEC("tp/test")
int prog(void *ctx)
{
	return take(0);
}

char LICENSE[] SEC("license") = "GPL";
