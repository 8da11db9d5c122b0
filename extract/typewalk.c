#include "extract/typewalk.h"

void typewalk_type(struct typewalk *tw, CXType t, uint8_t need)
{
	for (int guard = 0; guard < 64; guard++) {
		switch (t.kind) {
		case CXType_Invalid:
			return;
		case CXType_Pointer:
		case CXType_BlockPointer:
			t = clang_getPointeeType(t);
			need = tw->ptr_need;
			continue;
		case CXType_ConstantArray:
		case CXType_IncompleteArray:
		case CXType_VariableArray:
		case CXType_DependentSizedArray:
			/* an array's element type must be complete, even behind a pointer */
			t = clang_getArrayElementType(t);
			need = NEED_FULL;
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
		case CXType_Typedef:
		case CXType_Record:
			tw->add(tw, graph_chunk_of_decl(tw->g, tw->header, clang_getTypeDeclaration(t)),
				need);
			return;
		case CXType_Enum:
			tw->add(tw, graph_chunk_of_decl(tw->g, tw->header, clang_getTypeDeclaration(t)),
				NEED_FULL);
			return;
		case CXType_FunctionProto: {
			/* parameters and results of a prototype may be incomplete types */
			typewalk_type(tw, clang_getResultType(t), tw->ptr_need);
			int n = clang_getNumArgTypes(t);
			for (int i = 0; i < n; i++)
				typewalk_type(tw, clang_getArgType(t, (unsigned)i), tw->ptr_need);
			return;
		}
		case CXType_FunctionNoProto:
			t = clang_getResultType(t);
			need = tw->ptr_need;
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
