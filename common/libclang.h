/* libclang, loaded on first use.
 *
 * Linking libclang makes every vmslim process map and relocate libLLVM at start-up,
 * ~20-30 ms here, which would dwarf a one-millisecond `vmslim check`. So the few parts
 * that parse with libclang (extract, the daemon's exact tier) call it through this table,
 * filled by dlopen() when they first need it. Including this header makes the usual
 * clang_* names refer to the table, so calling code reads like plain libclang code. */
#ifndef VMSLIM_COMMON_LIBCLANG_H
#define VMSLIM_COMMON_LIBCLANG_H

#include <clang-c/Index.h>

#include "common/common.h"

#define VMS_LIBCLANG_FUNCTIONS(X) \
	X(clang_Cursor_isAnonymous) \
	X(clang_Cursor_isNull) \
	X(clang_File_isEqual) \
	X(clang_Location_isInSystemHeader) \
	X(clang_Type_getModifiedType) \
	X(clang_Type_getNamedType) \
	X(clang_Type_getValueType) \
	X(clang_createIndex) \
	X(clang_defaultReparseOptions) \
	X(clang_disposeDiagnostic) \
	X(clang_disposeIndex) \
	X(clang_disposeString) \
	X(clang_disposeTranslationUnit) \
	X(clang_getArgType) \
	X(clang_getArrayElementType) \
	X(clang_getCString) \
	X(clang_getCanonicalType) \
	X(clang_getCursorExtent) \
	X(clang_getCursorKind) \
	X(clang_getCursorLocation) \
	X(clang_getCursorReferenced) \
	X(clang_getCursorResultType) \
	X(clang_getCursorSpelling) \
	X(clang_getCursorType) \
	X(clang_getDiagnostic) \
	X(clang_getDiagnosticLocation) \
	X(clang_getDiagnosticSeverity) \
	X(clang_getDiagnosticSpelling) \
	X(clang_getExpansionLocation) \
	X(clang_getFile) \
	X(clang_getFileName) \
	X(clang_getInclusions) \
	X(clang_getNumArgTypes) \
	X(clang_getNumDiagnostics) \
	X(clang_getPointeeType) \
	X(clang_getRangeEnd) \
	X(clang_getRangeStart) \
	X(clang_getResultType) \
	X(clang_getSpellingLocation) \
	X(clang_getTranslationUnitCursor) \
	X(clang_getTypeDeclaration) \
	X(clang_getTypedefDeclUnderlyingType) \
	X(clang_isCursorDefinition) \
	X(clang_isExpression) \
	X(clang_isInvalid) \
	X(clang_parseTranslationUnit2) \
	X(clang_reparseTranslationUnit) \
	X(clang_visitChildren)

struct vms_libclang_table {
#define VMS_LIBCLANG_FIELD(f) __typeof__(f) *f;
	VMS_LIBCLANG_FUNCTIONS(VMS_LIBCLANG_FIELD)
#undef VMS_LIBCLANG_FIELD
};

extern struct vms_libclang_table vms_libclang;

/* Loads libclang once (thread-safe); 0, or -1 with a diagnostic saying what is missing.
 * $VMSLIM_LIBCLANG overrides the library path chosen at build time. */
int vms_libclang_load(struct vms_diags *d);

#ifndef VMS_LIBCLANG_NO_REDIRECT
#define clang_Cursor_isAnonymous (vms_libclang.clang_Cursor_isAnonymous)
#define clang_Cursor_isNull (vms_libclang.clang_Cursor_isNull)
#define clang_File_isEqual (vms_libclang.clang_File_isEqual)
#define clang_Location_isInSystemHeader (vms_libclang.clang_Location_isInSystemHeader)
#define clang_Type_getModifiedType (vms_libclang.clang_Type_getModifiedType)
#define clang_Type_getNamedType (vms_libclang.clang_Type_getNamedType)
#define clang_Type_getValueType (vms_libclang.clang_Type_getValueType)
#define clang_createIndex (vms_libclang.clang_createIndex)
#define clang_defaultReparseOptions (vms_libclang.clang_defaultReparseOptions)
#define clang_disposeDiagnostic (vms_libclang.clang_disposeDiagnostic)
#define clang_disposeIndex (vms_libclang.clang_disposeIndex)
#define clang_disposeString (vms_libclang.clang_disposeString)
#define clang_disposeTranslationUnit (vms_libclang.clang_disposeTranslationUnit)
#define clang_getArgType (vms_libclang.clang_getArgType)
#define clang_getArrayElementType (vms_libclang.clang_getArrayElementType)
#define clang_getCString (vms_libclang.clang_getCString)
#define clang_getCanonicalType (vms_libclang.clang_getCanonicalType)
#define clang_getCursorExtent (vms_libclang.clang_getCursorExtent)
#define clang_getCursorKind (vms_libclang.clang_getCursorKind)
#define clang_getCursorLocation (vms_libclang.clang_getCursorLocation)
#define clang_getCursorReferenced (vms_libclang.clang_getCursorReferenced)
#define clang_getCursorResultType (vms_libclang.clang_getCursorResultType)
#define clang_getCursorSpelling (vms_libclang.clang_getCursorSpelling)
#define clang_getCursorType (vms_libclang.clang_getCursorType)
#define clang_getDiagnostic (vms_libclang.clang_getDiagnostic)
#define clang_getDiagnosticLocation (vms_libclang.clang_getDiagnosticLocation)
#define clang_getDiagnosticSeverity (vms_libclang.clang_getDiagnosticSeverity)
#define clang_getDiagnosticSpelling (vms_libclang.clang_getDiagnosticSpelling)
#define clang_getExpansionLocation (vms_libclang.clang_getExpansionLocation)
#define clang_getFile (vms_libclang.clang_getFile)
#define clang_getFileName (vms_libclang.clang_getFileName)
#define clang_getInclusions (vms_libclang.clang_getInclusions)
#define clang_getNumArgTypes (vms_libclang.clang_getNumArgTypes)
#define clang_getNumDiagnostics (vms_libclang.clang_getNumDiagnostics)
#define clang_getPointeeType (vms_libclang.clang_getPointeeType)
#define clang_getRangeEnd (vms_libclang.clang_getRangeEnd)
#define clang_getRangeStart (vms_libclang.clang_getRangeStart)
#define clang_getResultType (vms_libclang.clang_getResultType)
#define clang_getSpellingLocation (vms_libclang.clang_getSpellingLocation)
#define clang_getTranslationUnitCursor (vms_libclang.clang_getTranslationUnitCursor)
#define clang_getTypeDeclaration (vms_libclang.clang_getTypeDeclaration)
#define clang_getTypedefDeclUnderlyingType (vms_libclang.clang_getTypedefDeclUnderlyingType)
#define clang_isCursorDefinition (vms_libclang.clang_isCursorDefinition)
#define clang_isExpression (vms_libclang.clang_isExpression)
#define clang_isInvalid (vms_libclang.clang_isInvalid)
#define clang_parseTranslationUnit2 (vms_libclang.clang_parseTranslationUnit2)
#define clang_reparseTranslationUnit (vms_libclang.clang_reparseTranslationUnit)
#define clang_visitChildren (vms_libclang.clang_visitChildren)
#endif

#endif
