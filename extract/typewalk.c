/* Decomposing a type into the header declarations it needs, the way clang's BPF BTF does.
 *
 * For C alone a pointer target needs only a name. But the object's .BTF must come out the
 * same from the slim header as from the full one, and clang (BTFDebug, checked against
 * clang 14 by compiling small cases) decides per *context* whether a pointer's target
 * struct is emitted complete or as a FWD:
 *
 *   full context      a function's parameters and result (the program's functions, extern
 *                     kfuncs, and every prototype met anywhere, function-pointer members
 *                     included), a global variable's type, an array's element type: a
 *                     pointer here is followed, its target struct emitted complete;
 *   member context    the type of a struct or union member: a by-value struct is emitted
 *                     complete, but after the first pointer, a named struct or union
 *                     (directly or through typedefs and qualifiers) is only a FWD --
 *                     unless some other route emits it complete;
 *   resets            a prototype or an array met in member context, even behind a
 *                     pointer, switches back to full context for its parameters or
 *                     elements.
 *
 *     struct a; struct b; struct c; struct d;
 *     struct holder {
 *             struct a *pa;              FWD a
 *             struct b **ppb;            FWD b
 *             void (*fn)(struct c *);    complete c (prototype)
 *             struct d *arr[2];          complete d (array element)
 *     };
 *     typedef struct e *e_p;
 *     int f(e_p x);                      complete e: the typedef is seen through
 *
 * So a record's member edges stay NAME after a pointer (ptr_need), prototypes and array
 * elements ask btf_need (SOFT: complete unless blacklisted), and a walk in full context
 * sees through typedefs, since a typedef's own edges are those of member context. clang
 * also memoizes a pointer type the first time it meets it, so a `struct sk_buff *` first
 * met in member context stays FWD even in a later prototype; we do not model that order:
 * keeping a struct complete that clang only declares is harmless (clang emits a struct
 * complete only when it reaches it in full context, and reaches the same ones from both
 * headers), while declaring one that clang emits complete changes .BTF. */
#include "extract/typewalk.h"

enum ctx {
	CTX_MEMBER,	/* a member's type, no pointer yet */
	CTX_BEHIND,	/* a member's type, past a pointer: named records are FWDs */
	CTX_FULL,	/* pointers are followed */
};

static void walk(struct typewalk *tw, CXType t, uint8_t need, enum ctx ctx)
{
	for (int guard = 0; guard < 64; guard++) {
		switch (t.kind) {
		case CXType_Invalid:
			return;
		case CXType_Pointer:
		case CXType_BlockPointer:
			t = clang_getPointeeType(t);
			if (ctx == CTX_FULL) {
				need = tw->btf_need;
			} else {
				need = tw->ptr_need;
				ctx = CTX_BEHIND;
			}
			continue;
		case CXType_ConstantArray:
		case CXType_IncompleteArray:
		case CXType_VariableArray:
		case CXType_DependentSizedArray:
			/* an array's element type must be complete, even behind a pointer */
			t = clang_getArrayElementType(t);
			need = NEED_FULL;
			ctx = CTX_FULL;
			continue;
		case CXType_Elaborated:
			t = clang_Type_getNamedType(t);
			continue;
		case CXType_Attributed:
			t = clang_Type_getModifiedType(t);
			continue;
		case CXType_Atomic:
			t = clang_Type_getValueType(t);
			continue;
		case CXType_Typedef: {
			CXCursor decl = clang_getTypeDeclaration(t);
			tw->add(tw, graph_chunk_of_decl(tw->g, tw->header, decl), need);
			if (ctx != CTX_FULL)
				return;
			/* in full context clang follows the typedef's pointers too, which
			 * the typedef's own (member context) edges do not */
			t = clang_getTypedefDeclUnderlyingType(decl);
			continue;
		}
		case CXType_Record:
			tw->add(tw, graph_chunk_of_decl(tw->g, tw->header, clang_getTypeDeclaration(t)),
				need);
			return;
		case CXType_Enum:
			tw->add(tw, graph_chunk_of_decl(tw->g, tw->header, clang_getTypeDeclaration(t)),
				NEED_FULL);
			return;
		case CXType_FunctionProto: {
			/* Parameters and results are full context in BTF. For C they may be
			 * incomplete, but a record first named in a prototype is scoped to
			 * it, so they are also walked as pointer targets: where that need is
			 * a name (the graph's), the emitter declares them up front. */
			int n = clang_getNumArgTypes(t);
			for (int i = -1; i < n; i++) {
				CXType a = i < 0 ? clang_getResultType(t) : clang_getArgType(t, (unsigned)i);
				if (tw->ptr_need != tw->btf_need)
					walk(tw, a, tw->ptr_need, CTX_BEHIND);
				walk(tw, a, tw->btf_need, CTX_FULL);
			}
			return;
		}
		case CXType_FunctionNoProto:
			t = clang_getResultType(t);
			need = tw->btf_need;
			ctx = CTX_FULL;
			continue;
		default: {
			/* typeof() and other sugar clang does not expose: its canonical type
			 * still names the records, though not the typedefs */
			CXType canon = clang_getCanonicalType(t);
			if (canon.kind == t.kind)
				return;
			t = canon;
			continue;
		}
		}
	}
}

void typewalk_type(struct typewalk *tw, CXType t, uint8_t need)
{
	walk(tw, t, need, tw->start_full ? CTX_FULL : CTX_MEMBER);
}
