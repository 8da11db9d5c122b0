/* What a program uses of the header.
 *
 * The program's own code (its file and its own headers) is walked in full, macro
 * expansions included, since libbpf's BPF_CORE_READ and BPF_PROG expand into member
 * accesses and typeof()s in the program's file. There every named type counts in full:
 * a member access needs the layout, a map's __type(value, T) and a global function's
 * argument need complete BTF for the loader and the verifier, and pointer arithmetic
 * needs the pointee's size. Pointer targets count as NEED_SOFT so that a blacklist can
 * still keep them opaque.
 *
 * System headers (libbpf's bpf_helpers.h and friends) only mention types in prototypes;
 * those need names, so that a type first seen in a parameter list is not scoped to it. */
#include <string.h>

#include "extract/internal.h"
#include "extract/typewalk.h"

struct uses_ctx {
	struct typewalk tw;
	uint8_t *need;
	int system;
};

static void raise_need(struct typewalk *tw, int64_t chunk, uint8_t n)
{
	struct uses_ctx *x = (struct uses_ctx *)tw;
	if (chunk >= 0 && x->need[chunk] < n)
		x->need[chunk] = n;
}

static void use_referenced(struct uses_ctx *x, CXCursor ref)
{
	enum CXCursorKind k = clang_getCursorKind(ref);
	int64_t chunk = graph_chunk_of_decl(x->tw.g, x->tw.header, ref);
	if (chunk < 0)
		return;
	switch (k) {
	case CXCursor_FieldDecl:
	case CXCursor_EnumConstantDecl:
	case CXCursor_EnumDecl:
		raise_need(&x->tw, chunk, NEED_FULL);
		break;
	default:
		raise_need(&x->tw, chunk, x->system ? NEED_NAME : NEED_FULL);
		break;
	}
}

static enum CXChildVisitResult use_visitor(CXCursor c, CXCursor parent, CXClientData data)
{
	(void)parent;
	struct uses_ctx *x = data;
	enum CXCursorKind k = clang_getCursorKind(c);
	uint8_t value_need = x->system ? NEED_NAME : NEED_FULL;
	switch (k) {
	case CXCursor_TypeRef:
	case CXCursor_MemberRef:
	case CXCursor_MemberRefExpr:
	case CXCursor_DeclRefExpr:
		use_referenced(x, clang_getCursorReferenced(c));
		break;
	case CXCursor_TypedefDecl:
		typewalk_type(&x->tw, clang_getTypedefDeclUnderlyingType(c), value_need);
		break;
	case CXCursor_FunctionDecl:
		typewalk_type(&x->tw, clang_getCursorResultType(c), value_need);
		break;
	default:
		break;
	}
	if (clang_isExpression(k) || k == CXCursor_VarDecl || k == CXCursor_ParmDecl ||
	    k == CXCursor_FieldDecl)
		typewalk_type(&x->tw, clang_getCursorType(c), value_need);
	return CXChildVisit_Recurse;
}

static enum CXChildVisitResult top_visitor(CXCursor c, CXCursor parent, CXClientData data)
{
	(void)parent;
	struct uses_ctx *x = data;
	CXFile f = cursor_file(c, NULL, NULL);
	if (!f || clang_File_isEqual(f, x->tw.header))
		return CXChildVisit_Continue;
	x->system = clang_Location_isInSystemHeader(clang_getCursorLocation(c));
	x->tw.ptr_need = x->system ? NEED_NAME : NEED_SOFT;
	/* the program's own types are what clang's BTF starts from: pointers followed,
	 * typedefs seen through (typewalk.c) */
	x->tw.btf_need = x->tw.ptr_need;
	x->tw.start_full = !x->system;
	/* the top-level declaration itself, then everything under it */
	use_visitor(c, parent, data);
	clang_visitChildren(c, use_visitor, data);
	return CXChildVisit_Continue;
}

void collect_program_uses(const struct graph *g, const struct parsed *p, uint8_t *need)
{
	struct uses_ctx x = {
		.tw = { .g = g, .header = p->header, .add = raise_need },
		.need = need,
	};
	clang_visitChildren(clang_getTranslationUnitCursor(p->tu), top_visitor, &x);
}
