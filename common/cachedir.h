/* The cache directory as a whole ($XDG_CACHE_HOME/vmslim), the way `ccache -s/-C/-M` see
 * theirs: one size bound over every kind it holds (PCHs in pch/, the daemon's answers in
 * serve/, derived slim headers in slim/, the small rest: compiler identities, header
 * shims), least recently used first
 * out; hit and miss counters that survive the processes that count them. */
#ifndef VMSLIM_CACHEDIR_H
#define VMSLIM_CACHEDIR_H

#include <stddef.h>
#include <stdint.h>

#define VMS_CACHE_DEFAULT_MAX ((uint64_t)2 << 30) /* 2 GiB: ~130 PCHs of the full vmlinux.h */

enum vms_cache_kind { VMS_KIND_PCH, VMS_KIND_ANSWERS, VMS_KIND_SLIM, VMS_KIND_OTHER, VMS_KIND_N };
const char *vms_cache_kind_name(enum vms_cache_kind k);

struct vms_cache_usage {
	uint64_t entries[VMS_KIND_N], bytes[VMS_KIND_N];
	uint64_t total_bytes, max_bytes;
};

/* The bound: $dir/vmslim.conf's "max_size = BYTES", else VMS_CACHE_DEFAULT_MAX. */
uint64_t vms_cache_max_size(const char *dir);
/* Writes the bound (0 or -errno). */
int vms_cache_set_max_size(const char *dir, uint64_t bytes);
/* "5G", "300M", "64k", "1000": bytes, or -1 when it is not a size. */
int64_t vms_parse_size(const char *s);

/* What the directory holds now, per kind. */
void vms_cache_usage(const char *dir, struct vms_cache_usage *u);
/* Removes the least recently used entries until the total is within max_bytes (the bound
 * when 0). An entry in use (a PCH whose lock someone holds) is left. Returns how many
 * entries went. */
int vms_cache_trim(const char *dir, uint64_t max_bytes);
/* Removes every entry not in use, and resets the counters. Returns how many went. */
int vms_cache_clear(const char *dir);

/* Persistent counters, $dir/stats: "pch hit", "pch miss", ... */
void vms_cache_count(const char *dir, const char *kind, const char *event);
/* The value of one counter (0 when never counted). */
uint64_t vms_cache_counter(const char *dir, const char *kind, const char *event);
void vms_cache_reset_counters(const char *dir);

#endif
