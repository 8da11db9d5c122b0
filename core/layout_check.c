/* Configure-time check (CMakeLists.txt): do the fetched libbpf headers describe the
 * libbpf.a being linked? One relocation through the structures they declare must come
 * out as libbpf computes it: s.b at offset 4 locally, 8 in the target. */
#include <stdio.h>
#include <string.h>

#include "core/libbpf_private.h"

/* BTF for "struct s { INT_T a; int b; }" as raw bytes, built by hand: type 1 int,
 * type 2 the 8- or 12-byte int/long, type 3 the struct. */
static size_t make_btf(unsigned char *buf, int wide)
{
	static const char strs[] = "\0int\0long\0s\0a\0b\0" "0:1";
	struct btf_header h = { .magic = BTF_MAGIC, .version = BTF_VERSION,
				.hdr_len = sizeof(h) };
	__u32 types[] = {
		1, BTF_INFO_ENC(BTF_KIND_INT, 0, 0), 4, BTF_INT_ENC(BTF_INT_SIGNED, 0, 32),
		5, BTF_INFO_ENC(BTF_KIND_INT, 0, 0), 8, BTF_INT_ENC(BTF_INT_SIGNED, 0, 64),
		10, BTF_INFO_ENC(BTF_KIND_STRUCT, 0, 2), wide ? 16 : 8,
		12, wide ? 2 : 1, 0,
		14, 1, wide ? 64 : 32,
	};
	h.type_len = sizeof(types);
	h.str_off = sizeof(types);
	h.str_len = sizeof(strs);
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), types, sizeof(types));
	memcpy(buf + sizeof(h) + sizeof(types), strs, sizeof(strs));
	return sizeof(h) + sizeof(types) + sizeof(strs);
}

int main(void)
{
	unsigned char a[512], b[512];
	struct btf *local = btf__new(a, make_btf(a, 0)), *targ = btf__new(b, make_btf(b, 1));
	struct bpf_core_relo r = { .insn_off = 0, .type_id = 3, .access_str_off = 16,
				   .kind = BPF_CORE_FIELD_BYTE_OFFSET };
	struct bpf_core_cand lc = { .btf = local, .id = 3 };
	struct bpf_core_cand_list *cands = calloc(1, sizeof(*cands));
	struct bpf_core_spec specs[3];
	struct bpf_core_relo_res res;

	if (!local || !targ || !cands) {
		puts("cannot build test BTF");
		return 1;
	}
	if (strcmp(btf__name_by_offset(local, 16), "0:1") ||
	    bpf_core_add_cands(&lc, bpf_core_essential_name_len("s"), targ, "t", 1, cands) ||
	    cands->len != 1 || cands->cands[0].btf != targ || cands->cands[0].id != 3) {
		puts("bpf_core_add_cands disagrees with relo_core.h's bpf_core_cand_list");
		return 1;
	}
	memset(&res, 0xa5, sizeof(res));
	if (bpf_core_calc_relo_insn("check", &r, 0, local, cands, specs, &res) ||
	    res.orig_val != 4 || res.new_val != 8 || res.poison || specs[0].len != 2 ||
	    specs[0].raw_len != 2 || specs[0].spec[1].name == NULL ||
	    strcmp(specs[0].spec[1].name, "b")) {
		printf("bpf_core_calc_relo_insn disagrees with relo_core.h (orig %llu new %llu)\n",
		       (unsigned long long)res.orig_val, (unsigned long long)res.new_val);
		return 1;
	}
	bpf_core_free_cands(cands);
	btf__free(local);
	btf__free(targ);
	puts("ok");
	return 0;
}
