/* The private copy of Debian's libbpf that core/ links (CMakeLists.txt: libbpf.a made
 * one relocatable object, every symbol localized but these, renamed vms_lb_*): its
 * internal declarations come from the source package's own headers, fetched at
 * configure time, so nothing here restates libbpf's structures. The renames keep the
 * copy apart from the shared libbpf the rest of vmslim uses (own print hook, no
 * interposition). */
#ifndef VMSLIM_CORE_LIBBPF_PRIVATE_H
#define VMSLIM_CORE_LIBBPF_PRIVATE_H

#define bpf_core_calc_relo_insn vms_lb_bpf_core_calc_relo_insn
#define bpf_core_add_cands vms_lb_bpf_core_add_cands
#define bpf_core_free_cands vms_lb_bpf_core_free_cands
#define bpf_core_essential_name_len vms_lb_bpf_core_essential_name_len
#define bpf_core_parse_spec vms_lb_bpf_core_parse_spec
#define bpf_core_format_spec vms_lb_bpf_core_format_spec
#define btf_ext__new vms_lb_btf_ext__new
#define btf_ext__free vms_lb_btf_ext__free
#define btf__new vms_lb_btf__new
#define btf__parse vms_lb_btf__parse
#define btf__free vms_lb_btf__free
#define btf__type_by_id vms_lb_btf__type_by_id
#define btf__name_by_offset vms_lb_btf__name_by_offset
#define btf__type_cnt vms_lb_btf__type_cnt
#define libbpf_set_print vms_lb_libbpf_set_print

#include "libbpf_internal.h"

#endif
