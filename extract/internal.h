/* Internal to extract/: the header's declaration graph and the passes over it. */
#ifndef VMSLIM_EXTRACT_INTERNAL_H
#define VMSLIM_EXTRACT_INTERNAL_H

#include "common/libclang.h"
#include <stdint.h>

#include "extract/extract.h"

/* How much of a declaration a use needs. Ordered: a higher level implies the lower ones. */
enum need {
	NEED_NONE = 0,
	NEED_NAME,	/* a name only: a pointer target; records become `struct X;` */
	NEED_SOFT,	/* full, unless a blacklist says otherwise (pointer targets in programs,
			 * every pointer target with --full-pointers) */
	NEED_FULL,	/* the layout is needed: by-value member, array element, member access */
	NEED_FOLLOW,	/* in a typedef's edge list only: "as strong as the typedef's own need" */
};

enum chunk_kind {
	CHUNK_RECORD,		/* struct/union definition */
	CHUNK_RECORD_FWD,	/* struct/union declaration without a body */
	CHUNK_TYPEDEF,		/* possibly with an inline anonymous definition */
	CHUNK_ENUM,
	CHUNK_OTHER,		/* variables, functions: kept only when a program names them */
};

struct edge {
	uint32_t to;
	uint8_t need;
};

struct edges {
	struct edge *v;
	uint32_t n, cap;
};

/* A chunk is one top-level declaration of the header as a byte range of its text:
 * clang's cursors whose extents overlap (`typedef struct {...} t;` is two cursors) are
 * merged, and the range runs to the terminating ';'. */
struct chunk {
	enum chunk_kind kind;
	const char *tag;	/* "struct", "union", "enum" or NULL */
	char *name;		/* tag or typedef name; NULL when anonymous */
	uint32_t start, end;	/* [start, end) in the header text */
	uint32_t line;
	struct edges when_name;	/* what emitting it needs when only its name is needed */
	struct edges when_full;	/* ... when its full definition is needed */
};

struct name_slot {
	char *key;	/* "struct foo", "union foo", "enum foo", or a typedef's plain name */
	uint32_t chunk;
};

struct graph {
	const char *text;	/* the header's bytes (borrowed) */
	size_t len;
	struct chunk *chunks;
	uint32_t n;
	struct name_slot *names;	/* open addressing, power-of-two size */
	uint32_t names_cap;
};

struct vms_bpf_cmd;

/* stage.c: a program staged so that every inclusion of vmlinux.h, quoted or angled, from
 * the program or a header it includes, or by -include, reaches the header given. */
struct stage {
	char *dir;		/* the staging directory, removed by stage_free */
	char *program;		/* the staged copy of the program, which clang compiles */
	char *progdir;		/* the program's own directory, absolute */
	char *header_name;	/* the header's own file name, linked beside vmlinux.h */
	struct vms_argv flags;	/* the redirecting flags, ahead of the user's */
	struct vms_argv user;	/* the user's flags, -include vmlinux.h pointed at the stage */
	struct vms_argv mapped;	/* paths of other vmlinux.h files the overlay redirects */
};
int stage_create(struct stage *s, const char *program, const char *header,
		 const char *const *user_args, struct vms_diags *d);
/* Points every route at header (verify swaps the full header for the slim one). */
int stage_point(const struct stage *s, const char *header, struct vms_diags *d);
/* Given a file the compile included: 1 when it is a vmlinux.h that escaped the redirect
 * and is now redirected (compile again), 0 when nothing changed, -1 on error. */
int stage_redirect(struct stage *s, const char *included, struct vms_diags *d);
/* Puts the stage's flags and the user's (rewritten) into the command's user[] slots. */
void stage_cmd(const struct stage *s, struct vms_bpf_cmd *c);
void stage_free(struct stage *s);

/* A parsed translation unit and where the header sits in it. */
struct parsed {
	CXTranslationUnit tu;
	CXFile header;		/* NULL if the unit does not include the header */
	char *shown_path;	/* the path the user gave, for messages */
	struct stage stage;	/* where the program was staged; stage.program is mapped
				 * back to shown_path in messages */
};

/* parse.c */
int parse_header_alone(CXIndex idx, const char *header, struct parsed *p, struct vms_diags *d);
int parse_program(CXIndex idx, const char *program, const char *header,
		  const char *const *clang_args, struct parsed *p, struct vms_diags *d);
void parsed_dispose(struct parsed *p);
/* The libclang command line every parse of extract/ starts from (warm.c adds to it). */
struct vms_bpf_cmd parse_libclang_cmd(void);
/* extract.c: the comment that opens a slim header (warm.c writes the same one). */
char *extract_banner(const struct vms_extract_opts *o, const char *source_name,
		     const char *text, size_t len);
/* The expansion location's file, line and byte offset. */
CXFile cursor_file(CXCursor c, unsigned *line, unsigned *offset);
/* 0 when path names a readable file; -errno otherwise (-EISDIR for a directory, which
 * an #include through a symlink would silently skip). */
int header_readable(const char *path);
/* graph.c */
int graph_build(struct graph *g, const struct parsed *p, const char *text, size_t len,
		struct vms_diags *d);
void graph_free(struct graph *g);
/* -1 when absent */
int64_t graph_lookup(const struct graph *g, const char *key);
/* The chunk holding a header byte offset, -1 if none. */
int64_t graph_chunk_at(const struct graph *g, uint32_t offset);
/* The chunk a declaration cursor of the header belongs to (records resolve to their
 * definition when the header has one), -1 if it is not in the header. */
int64_t graph_chunk_of_decl(const struct graph *g, CXFile header, CXCursor decl);
void edges_add(struct edges *e, uint32_t to, uint8_t need);

/* uses.c: adds what a program uses to need[] (indexed by chunk). */
void collect_program_uses(const struct graph *g, const struct parsed *p, uint8_t *need);

/* closure.c */
struct closure {
	uint8_t *level;		/* final need per chunk */
	uint8_t *named;		/* some kept declaration refers to it by name */
};
void closure_run(const struct graph *g, const uint8_t *roots, const char *const *blacklist,
		 int full_pointers, struct closure *c, struct vms_diags *d);
void closure_free(struct closure *c);
int name_matches_glob(const struct chunk *c, const char *glob);

/* emit.c */
char *emit_header(const struct graph *g, const struct closure *c, const char *banner,
		  size_t *out_len, struct vms_extract_stats *st);

#endif
