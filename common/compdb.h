/* Project flags found as clangd finds them: a compilation database (compile_commands.json,
 * in a directory or its build/) or a compile_flags.txt, looked up from a source file's
 * directory towards the root, or in a directory given (clangd's --compile-commands-dir,
 * `vmslim check -p DIR`). Only the flags that change what a checker sees are kept: include
 * directories (made absolute against the entry's directory), -include, defines, the
 * target and the language standard; the compiler, -c, -o, the source, warnings and
 * code-generation flags are not. */
#ifndef VMSLIM_COMPDB_H
#define VMSLIM_COMPDB_H

#include "common/common.h"

/* The flags for file into out (appended). dir: the directory to look in (its
 * compile_commands.json, build/compile_commands.json or compile_flags.txt), or NULL to
 * search upward from the file's own directory. *from (owned, may be NULL): the database
 * file that told. Returns 1 found, 0 none found, -1 a database was found but cannot be
 * read or parsed (a diagnostic naming it in d). A file the database does not list takes
 * the flags of an entry in its own directory, else of the first entry, as clangd's
 * interpolation does for headers and new files. */
int vms_compdb_flags(const char *file, const char *dir, struct vms_argv *out, char **from,
		     struct vms_diags *d);

/* Splits a compile_commands.json "command" string as a POSIX shell would split plain
 * words: blanks separate, '...' and "..." quote, backslash escapes. Appended to out. */
void vms_compdb_split(const char *command, struct vms_argv *out);

/* Keeps from args (a compiler's command line, args[0] the compiler) the flags described
 * above, relative paths resolved against directory; appended to out. */
void vms_compdb_keep(const char *const *args, size_t n, const char *directory,
		     struct vms_argv *out);

#endif
