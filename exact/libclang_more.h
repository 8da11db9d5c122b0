/* The libclang calls only the editor features make (completion, hover, definitions,
 * signatures), looked up in the libclang that common/libclang.c loaded: the shared table
 * there stays what the checkers need. Including this header makes the usual clang_* names
 * refer to this table, as common/libclang.h does for its own. */
#ifndef VMSLIM_EXACT_LIBCLANG_MORE_H
#define VMSLIM_EXACT_LIBCLANG_MORE_H

#include <clang-c/Index.h>

#include "common/common.h"

#define VMS_XCLANG_FUNCTIONS(X) \
	X(clang_codeCompleteAt) \
	X(clang_codeCompleteGetContexts) \
	X(clang_defaultCodeCompleteOptions) \
	X(clang_disposeCodeCompleteResults) \
	X(clang_getCompletionChunkKind) \
	X(clang_getCompletionChunkText) \
	X(clang_getCompletionAvailability) \
	X(clang_getCompletionPriority) \
	X(clang_getNumCompletionChunks) \
	X(clang_getCursor) \
	X(clang_getLocation) \
	X(clang_getCursorDefinition) \
	X(clang_Cursor_getOffsetOfField) \
	X(clang_Cursor_isBitField) \
	X(clang_getFieldDeclBitWidth) \
	X(clang_Type_getSizeOf) \
	X(clang_getTypeSpelling) \
	X(clang_getCursorSemanticParent) \
	X(clang_getEnumConstantDeclValue) \
	X(clang_getCursorKindSpelling) \
	X(clang_equalCursors) \
	X(clang_isDeclaration) \
	X(clang_getTypeKindSpelling)

struct vms_xclang_table {
#define VMS_XCLANG_FIELD(f) __typeof__(f) *f;
	VMS_XCLANG_FUNCTIONS(VMS_XCLANG_FIELD)
#undef VMS_XCLANG_FIELD
};

extern struct vms_xclang_table vms_xclang;

/* Once libclang is loaded (vms_libclang_load): fills the table (thread-safe, once).
 * 0, or -1 with a diagnostic naming what is missing. */
int vms_xclang_load(struct vms_diags *d);

#ifndef VMS_XCLANG_NO_REDIRECT
#define clang_codeCompleteAt (vms_xclang.clang_codeCompleteAt)
#define clang_codeCompleteGetContexts (vms_xclang.clang_codeCompleteGetContexts)
#define clang_defaultCodeCompleteOptions (vms_xclang.clang_defaultCodeCompleteOptions)
#define clang_disposeCodeCompleteResults (vms_xclang.clang_disposeCodeCompleteResults)
#define clang_getCompletionChunkKind (vms_xclang.clang_getCompletionChunkKind)
#define clang_getCompletionChunkText (vms_xclang.clang_getCompletionChunkText)
#define clang_getCompletionAvailability (vms_xclang.clang_getCompletionAvailability)
#define clang_getCompletionPriority (vms_xclang.clang_getCompletionPriority)
#define clang_getNumCompletionChunks (vms_xclang.clang_getNumCompletionChunks)
#define clang_getCursor (vms_xclang.clang_getCursor)
#define clang_getLocation (vms_xclang.clang_getLocation)
#define clang_getCursorDefinition (vms_xclang.clang_getCursorDefinition)
#define clang_Cursor_getOffsetOfField (vms_xclang.clang_Cursor_getOffsetOfField)
#define clang_Cursor_isBitField (vms_xclang.clang_Cursor_isBitField)
#define clang_getFieldDeclBitWidth (vms_xclang.clang_getFieldDeclBitWidth)
#define clang_Type_getSizeOf (vms_xclang.clang_Type_getSizeOf)
#define clang_getTypeSpelling (vms_xclang.clang_getTypeSpelling)
#define clang_getCursorSemanticParent (vms_xclang.clang_getCursorSemanticParent)
#define clang_getEnumConstantDeclValue (vms_xclang.clang_getEnumConstantDeclValue)
#define clang_getCursorKindSpelling (vms_xclang.clang_getCursorKindSpelling)
#define clang_equalCursors (vms_xclang.clang_equalCursors)
#define clang_isDeclaration (vms_xclang.clang_isDeclaration)
#define clang_getTypeKindSpelling (vms_xclang.clang_getTypeKindSpelling)
#endif

#endif
