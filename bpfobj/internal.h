/* bpfobj internals: the parsed form of a BPF ELF object that objdiff's files share. */
#ifndef VMSLIM_BPFOBJ_INTERNAL_H
#define VMSLIM_BPFOBJ_INTERNAL_H

#include <gelf.h>
#include <libelf.h>
#include <stddef.h>
#include <stdint.h>

#include <bpf/btf.h>

#include "bpfobj/bpfobj.h"

#define MAX_TYPE_DEPTH 16	/* type chains deeper than this render as "(bad type N)" */

enum {	/* enum bpf_core_relo_kind, spelled out: the values are ABI, the header may lag */
	CORE_FIELD_BYTE_OFFSET, CORE_FIELD_BYTE_SIZE, CORE_FIELD_EXISTS, CORE_FIELD_SIGNED,
	CORE_FIELD_LSHIFT_U64, CORE_FIELD_RSHIFT_U64, CORE_TYPE_ID_LOCAL, CORE_TYPE_ID_TARGET,
	CORE_TYPE_EXISTS, CORE_TYPE_SIZE, CORE_ENUMVAL_EXISTS, CORE_ENUMVAL_VALUE,
	CORE_TYPE_MATCHES,
};

struct sec {
	const char *name;
	size_t idx;
	GElf_Shdr sh;
	Elf_Data *data;		/* NULL for SHT_NOBITS or empty sections */
};

struct func_rec {		/* a .BTF.ext func_info record */
	const char *sec;
	uint32_t insn_off;
	char *name;
};

struct core_rec {		/* a .BTF.ext CO-RE relocation record */
	const char *sec;
	uint32_t insn_off;
	uint32_t kind;
	const char *access;
	char *root;		/* rendered root type */
	char *spec;		/* access string rendered as a member path */
};

/* One object file, opened (elf.c) and with its .BTF and .BTF.ext read (btfext.c). */
struct obj {
	const char *path;
	const char *label;	/* how messages name this object */
	int fd;
	Elf *elf;
	struct sec *secs;
	size_t nsecs;
	struct sec *symtab, *strtab;
	struct btf *btf;
	const uint8_t *ext;
	size_t ext_len;
	struct func_rec *funcs;
	size_t nfuncs;
	struct core_rec *cores;
	size_t ncores;
};

/* ---- elf.c: sections, relocations, symbols ---- */

struct rel {
	uint64_t offset;
	uint32_t type;
	int64_t addend;
	const char *sym;
};

struct symrec {
	const char *name, *sec;
	uint64_t value, size;
	unsigned type, bind, vis;
};

/* Opens path as a 64-bit BPF ELF object (o->fd = -1 beforehand); 0, or -1 with a
 * diagnostic. obj_close releases everything, also after a failed open. */
int obj_open(struct obj *o, const char *path, struct vms_diags *d);
void obj_close(struct obj *o);
struct sec *obj_find_sec(struct obj *o, const char *name);
struct sec *obj_sec_by_idx(struct obj *o, size_t idx);
const uint8_t *sec_bytes(const struct sec *s);	/* NULL when the section has no data */
size_t sec_len(const struct sec *s);
/* Relocations applying to the section named target, in file order (owned array). */
struct rel *obj_collect_rels(struct obj *o, const char *target, size_t *n);
/* Symbols a loader can see, sorted by symrec_cmp (owned array). */
struct symrec *obj_collect_syms(struct obj *o, size_t *n);
int symrec_cmp(const void *x, const void *y);	/* by name, then section */
const char *rel_type_name(uint32_t type);

/* ---- btf_render.c: BTF types as comparable strings ---- */

/* One comparable piece of an item: its head (linkage, placement, type), a member of a
 * struct-typed variable, a function's return type or one of its parameters. */
struct btf_part {
	char *name;	/* "" for the head, "member 'key'", "member #2", "return type", "parameter 1" */
	char *type;	/* rendering */
	int64_t bit_off;	/* a member's bit offset, -1 for the other parts */
};

/* What libbpf and the verifier read from .BTF, one item per global function and per
 * variable of a data section, sorted by key. */
struct btf_item {
	char *key;	/* "function 'handle_exec'" / "variable 'events' in .maps" */
	char *val;	/* its whole rendering, shown as the details of a difference */
	struct btf_part *parts;	/* the same, in pieces that are compared one by one */
	size_t nparts;
};

const char *btf_render_str(const struct btf *btf, uint32_t off);
/* Shallow rendering of type id ("struct task_struct{9856 bytes} *"), owned. */
char *btf_render_type(const struct btf *btf, uint32_t id);
/* A CO-RE access string rendered as the member path it names, owned. */
char *btf_render_spec(const struct btf *btf, uint32_t root, uint32_t kind, const char *access);
struct btf_item *btf_render_items(const struct btf *btf, size_t *n);	/* btf may be NULL */
void btf_render_items_free(struct btf_item *v, size_t n);

/* ---- disasm.c: instructions as the verifier's log shows them ---- */

/* "r1 = *(u32 *)(r2 +8)"; next is the following instruction (the upper half of a
 * 16-byte ld_imm64), NULL at the end of the section. */
void bpf_insn_render(const uint8_t *p, const uint8_t *next, char *out, size_t n);
/* The eight bytes and the decoded fields, for details. */
void bpf_insn_hex(const uint8_t *p, char *out, size_t n);

/* ---- btfext.c: .BTF and .BTF.ext ---- */

/* Parses .BTF into o->btf and the func_info and CO-RE blocks of .BTF.ext into o->funcs
 * and o->cores; absent sections leave them empty. 0, or -1 with a diagnostic. */
int obj_load_btf(struct obj *o, struct vms_diags *d);
const char *core_kind_name(uint32_t kind);	/* "field_byte_offset"... */

#endif
