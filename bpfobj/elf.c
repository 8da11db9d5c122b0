/* bpfobj ELF reading: a BPF object's sections, relocations and symbols through libelf. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpfobj/internal.h"

#ifndef EM_BPF
#define EM_BPF 247
#endif

struct sec *obj_find_sec(struct obj *o, const char *name)
{
	for (size_t i = 0; i < o->nsecs; i++)
		if (!strcmp(o->secs[i].name, name))
			return &o->secs[i];
	return NULL;
}

struct sec *obj_sec_by_idx(struct obj *o, size_t idx)
{
	for (size_t i = 0; i < o->nsecs; i++)
		if (o->secs[i].idx == idx)
			return &o->secs[i];
	return NULL;
}

const uint8_t *sec_bytes(const struct sec *s)
{
	return s->data && s->data->d_buf ? s->data->d_buf : NULL;
}

size_t sec_len(const struct sec *s)
{
	return s->data && s->data->d_buf ? s->data->d_size : 0;
}

int obj_open(struct obj *o, const char *path, struct vms_diags *d)
{
	GElf_Ehdr eh;
	size_t shstrndx, n;
	Elf_Scn *scn = NULL;

	o->path = path;
	o->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (o->fd < 0) {
		vms_diag_add(d, VMS_ERROR, path, 0, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	o->elf = elf_begin(o->fd, ELF_C_READ, NULL);
	if (!o->elf || elf_kind(o->elf) != ELF_K_ELF) {
		vms_diag_add(d, VMS_ERROR, path, 0, 0, "not an ELF object file");
		return -1;
	}
	if (!gelf_getehdr(o->elf, &eh) || gelf_getclass(o->elf) != ELFCLASS64) {
		vms_diag_add(d, VMS_ERROR, path, 0, 0, "not a 64-bit ELF object");
		return -1;
	}
	if (eh.e_machine != EM_BPF) {
		vms_diag_add(d, VMS_ERROR, path, 0, 0,
			     "not a BPF object: ELF machine %u, expected EM_BPF (%u)",
			     (unsigned)eh.e_machine, (unsigned)EM_BPF);
		return -1;
	}
	if (elf_getshdrstrndx(o->elf, &shstrndx) || elf_getshdrnum(o->elf, &n)) {
		vms_diag_add(d, VMS_ERROR, path, 0, 0, "broken section headers: %s",
			     elf_errmsg(-1));
		return -1;
	}
	o->secs = vms_xcalloc(n ? n : 1, sizeof(*o->secs));
	while ((scn = elf_nextscn(o->elf, scn))) {
		struct sec *s = &o->secs[o->nsecs];
		const char *name;

		if (!gelf_getshdr(scn, &s->sh)) {
			vms_diag_add(d, VMS_ERROR, path, 0, 0, "broken section header: %s",
				     elf_errmsg(-1));
			return -1;
		}
		name = elf_strptr(o->elf, shstrndx, s->sh.sh_name);
		s->name = name ? name : "";
		s->idx = elf_ndxscn(scn);
		if (s->sh.sh_type != SHT_NOBITS && s->sh.sh_size) {
			s->data = elf_getdata(scn, NULL);
			if (!s->data) {
				vms_diag_add(d, VMS_ERROR, path, 0, 0,
					     "cannot read section '%s': %s", s->name, elf_errmsg(-1));
				return -1;
			}
		}
		o->nsecs++;
	}
	/* a truncated file has an ELF header announcing sections libelf cannot read; without
	 * this it would compare as an object with no sections at all */
	size_t announced = n ? n : eh.e_shnum; /* libelf says 0 when it cannot read them */
	if (announced && o->nsecs != announced - 1) {
		vms_diag_add(d, VMS_ERROR, path, 0, 0,
			     "broken section headers: %zu announced, %zu readable (truncated?)",
			     announced - 1, o->nsecs);
		return -1;
	}
	for (size_t i = 0; i < o->nsecs; i++)
		if (o->secs[i].sh.sh_type == SHT_SYMTAB) {
			o->symtab = &o->secs[i];
			o->strtab = obj_sec_by_idx(o, o->symtab->sh.sh_link);
			break;
		}
	return 0;
}

void obj_close(struct obj *o)
{
	for (size_t i = 0; i < o->nfuncs; i++)
		free(o->funcs[i].name);
	for (size_t i = 0; i < o->ncores; i++) {
		free(o->cores[i].root);
		free(o->cores[i].spec);
	}
	free(o->funcs);
	free(o->cores);
	btf__free(o->btf);
	if (o->elf)
		elf_end(o->elf);
	if (o->fd >= 0)
		close(o->fd);
	free(o->secs);
}

static size_t obj_nsyms(struct obj *o)
{
	if (!o->symtab || !o->symtab->data || !o->symtab->sh.sh_entsize)
		return 0;
	return o->symtab->data->d_size / o->symtab->sh.sh_entsize;
}

/* The name a relocation or a symbol listing should show: section symbols are unnamed in
 * the string table and stand for their section. */
static const char *obj_sym_name(struct obj *o, const GElf_Sym *sym)
{
	const char *name = "";

	if (o->strtab && sym->st_name)
		name = elf_strptr(o->elf, o->strtab->idx, sym->st_name);
	if ((!name || !*name) && GELF_ST_TYPE(sym->st_info) == STT_SECTION) {
		struct sec *s = obj_sec_by_idx(o, sym->st_shndx);
		return s ? s->name : "(section ?)";
	}
	return name ? name : "(bad name)";
}

const char *rel_type_name(uint32_t type)
{
	switch (type) {
	case 0: return "R_BPF_NONE";
	case 1: return "R_BPF_64_64";
	case 2: return "R_BPF_64_ABS64";
	case 3: return "R_BPF_64_ABS32";
	case 4: return "R_BPF_64_NODYLD32";
	case 10: return "R_BPF_64_32";
	default: return "R_BPF_?";
	}
}

/* Relocations applying to the allocated section named target, in file order. */
struct rel *obj_collect_rels(struct obj *o, const char *target, size_t *n)
{
	struct rel *v = NULL;
	size_t cnt = 0, nsym = obj_nsyms(o);

	*n = 0;
	for (size_t i = 0; i < o->nsecs; i++) {
		struct sec *rs = &o->secs[i], *ts;
		bool rela = rs->sh.sh_type == SHT_RELA;
		size_t num;

		if (rs->sh.sh_type != SHT_REL && !rela)
			continue;
		ts = obj_sec_by_idx(o, rs->sh.sh_info);
		if (!ts || strcmp(ts->name, target) || !rs->data || !rs->sh.sh_entsize)
			continue;
		num = rs->data->d_size / rs->sh.sh_entsize;
		v = vms_xrealloc(v, (cnt + num + 1) * sizeof(*v));
		for (size_t k = 0; k < num; k++) {
			GElf_Rel r;
			GElf_Rela ra;
			GElf_Sym sym;
			struct rel *e = &v[cnt];
			size_t symi;

			if (rela) {
				if (!gelf_getrela(rs->data, (int)k, &ra))
					continue;
				e->offset = ra.r_offset;
				e->type = GELF_R_TYPE(ra.r_info);
				e->addend = ra.r_addend;
				symi = GELF_R_SYM(ra.r_info);
			} else {
				if (!gelf_getrel(rs->data, (int)k, &r))
					continue;
				e->offset = r.r_offset;
				e->type = GELF_R_TYPE(r.r_info);
				e->addend = 0;
				symi = GELF_R_SYM(r.r_info);
			}
			e->sym = "(no symbol)";
			if (symi && symi < nsym && gelf_getsym(o->symtab->data, (int)symi, &sym))
				e->sym = obj_sym_name(o, &sym);
			cnt++;
		}
	}
	*n = cnt;
	return v;
}

int symrec_cmp(const void *x, const void *y)
{
	const struct symrec *a = x, *b = y;
	int r = strcmp(a->name, b->name);

	return r ? r : strcmp(a->sec, b->sec);
}

/* Symbols a loader can see: everything except file and section symbols and symbols of
 * non-allocated (debug) sections. */
struct symrec *obj_collect_syms(struct obj *o, size_t *n)
{
	size_t num = obj_nsyms(o), cnt = 0;
	struct symrec *v = vms_xcalloc(num + 1, sizeof(*v));

	for (size_t i = 1; i < num; i++) {
		GElf_Sym s;
		struct sec *sec = NULL;
		unsigned type;

		if (!gelf_getsym(o->symtab->data, (int)i, &s))
			continue;
		type = GELF_ST_TYPE(s.st_info);
		if (type == STT_FILE || type == STT_SECTION)
			continue;
		if (s.st_shndx != SHN_UNDEF && s.st_shndx < SHN_LORESERVE) {
			sec = obj_sec_by_idx(o, s.st_shndx);
			if (!sec || !(sec->sh.sh_flags & SHF_ALLOC))
				continue;
		}
		v[cnt].name = obj_sym_name(o, &s);
		v[cnt].sec = sec ? sec->name : s.st_shndx == SHN_UNDEF ? "(undefined)" : "(special)";
		v[cnt].value = s.st_value;
		v[cnt].size = s.st_size;
		v[cnt].type = type;
		v[cnt].bind = GELF_ST_BIND(s.st_info);
		v[cnt].vis = GELF_ST_VISIBILITY(s.st_other);
		cnt++;
	}
	qsort(v, cnt, sizeof(*v), symrec_cmp);
	*n = cnt;
	return v;
}
