/* The closure: from the roots, follow edges with the strength each use needs.
 *
 * A chunk's level only rises (NONE < NAME < SOFT < FULL), and each rise past a threshold
 * enqueues the edges that the new level requires, so every chunk is expanded at most twice
 * (once for its name, once for its definition) and the walk is linear in the graph.
 * SOFT is "full unless blacklisted": a blacklisted record reached through a pointer stays
 * an opaque `struct X;`. A blacklisted record needed by value cannot be opaque, so it is
 * kept, with a note saying who needed it. Which edges are SOFT, so that the slim header
 * keeps complete what clang's BTF emits complete (the pointees of a struct_ops variable's
 * prototypes, array elements), is decided where the edges are made: typewalk.c. */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "extract/internal.h"

int name_matches_glob(const struct chunk *c, const char *glob)
{
	if (!c->name)
		return 0;
	if (!fnmatch(glob, c->name, 0))
		return 1;
	if (c->tag) {
		char full[512];
		snprintf(full, sizeof(full), "%s %s", c->tag, c->name);
		return !fnmatch(glob, full, 0);
	}
	return 0;
}

static int blacklisted(const struct graph *g, uint32_t i, const char *const *bl)
{
	for (size_t k = 0; bl && bl[k]; k++)
		if (name_matches_glob(&g->chunks[i], bl[k]))
			return 1;
	return 0;
}

struct work {
	uint32_t *v;
	size_t n, cap;
};

static void push(struct work *w, uint32_t i)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 256;
		w->v = vms_xrealloc(w->v, w->cap * sizeof(*w->v));
	}
	w->v[w->n++] = i;
}

struct walk {
	const struct graph *g;
	const char *const *bl;
	int full_pointers;
	struct closure *c;
	uint8_t *expanded;	/* highest level whose edges were enqueued */
	uint8_t *is_bl;
	struct work w;
	struct vms_diags *d;
};

static void raise(struct walk *k, uint32_t to, uint8_t need, uint32_t from, int has_from)
{
	const struct chunk *ch = &k->g->chunks[to];
	/* a use by name needs a forward declaration even when the definition is kept too:
	 * the name may be used (in a prototype) before the definition */
	if (need == NEED_NAME)
		k->c->named[to] = 1;
	if (need == NEED_NAME && k->full_pointers && has_from)
		need = NEED_SOFT;
	if (k->is_bl[to]) {
		if (need == NEED_SOFT)
			need = NEED_NAME;
		else if (need == NEED_FULL && ch->kind == CHUNK_RECORD && k->c->level[to] < NEED_FULL &&
			 has_from)
			vms_diag_add(k->d, VMS_NOTE, NULL, 0, 0,
				     "%s %s is blacklisted but %s%s%s holds it by value: kept in full",
				     ch->tag, ch->name, k->g->chunks[from].tag ? k->g->chunks[from].tag : "",
				     k->g->chunks[from].tag ? " " : "",
				     k->g->chunks[from].name ? k->g->chunks[from].name : "(anonymous)");
	}
	if (need > k->c->level[to]) {
		k->c->level[to] = need;
		push(&k->w, to);
	}
}

static void expand(struct walk *k, uint32_t i)
{
	const struct chunk *ch = &k->g->chunks[i];
	uint8_t lvl = k->c->level[i];
	int full = lvl >= NEED_SOFT || ch->kind == CHUNK_ENUM || ch->kind == CHUNK_OTHER;
	/* a record needed by name is an opaque declaration that needs nothing */
	if (!full && (ch->kind == CHUNK_RECORD || ch->kind == CHUNK_RECORD_FWD))
		return;
	/* a typedef first needed SOFT and later FULL passes the stronger need on again */
	uint8_t mark = full ? (lvl < NEED_SOFT ? NEED_SOFT : lvl) : NEED_NAME;
	if (k->expanded[i] >= mark)
		return;
	k->expanded[i] = mark;
	const struct edges *e = full ? &ch->when_full : &ch->when_name;
	for (uint32_t j = 0; j < e->n; j++) {
		uint8_t need = e->v[j].need;
		if (need == NEED_FOLLOW)
			need = lvl >= NEED_SOFT ? lvl : NEED_NAME;
		raise(k, e->v[j].to, need, i, 1);
	}
}

void closure_run(const struct graph *g, const uint8_t *roots, const char *const *blacklist,
		 int full_pointers, struct closure *c, struct vms_diags *d)
{
	c->level = vms_xcalloc(g->n ? g->n : 1, 1);
	c->named = vms_xcalloc(g->n ? g->n : 1, 1);
	struct walk k = {
		.g = g, .bl = blacklist, .full_pointers = full_pointers, .c = c, .d = d,
		.expanded = vms_xcalloc(g->n ? g->n : 1, 1),
		.is_bl = vms_xcalloc(g->n ? g->n : 1, 1),
	};
	for (uint32_t i = 0; i < g->n; i++)
		k.is_bl[i] = blacklisted(g, i, blacklist);
	for (uint32_t i = 0; i < g->n; i++)
		if (roots[i])
			raise(&k, i, roots[i], i, 0);
	while (k.w.n) {
		uint32_t i = k.w.v[--k.w.n];
		expand(&k, i);
	}
	free(k.w.v);
	free(k.expanded);
	free(k.is_bl);
}

void closure_free(struct closure *c)
{
	free(c->level);
	free(c->named);
	c->level = c->named = NULL;
}
