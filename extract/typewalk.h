/* Internal: decomposes a clang type into the header declarations it names and how much of
 * each it needs. Shared by the graph builder and the program-use collector. */
#ifndef VMSLIM_EXTRACT_TYPEWALK_H
#define VMSLIM_EXTRACT_TYPEWALK_H

#include "extract/internal.h"

struct typewalk {
	const struct graph *g;
	CXFile header;
	uint8_t ptr_need;	/* need for pointer targets in a member's type */
	uint8_t btf_need;	/* need for what clang's BTF emits in full: pointer targets
				 * and parameters inside prototypes and array elements, and
				 * everything of a walk that starts in full context */
	int start_full;		/* the walk starts in full context (a program's own types) */
	void (*add)(struct typewalk *tw, int64_t chunk, uint8_t need);
};

void typewalk_type(struct typewalk *tw, CXType t, uint8_t value_need);

#endif
