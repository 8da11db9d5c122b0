#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

uint64_t vms_hash64(const void *data, size_t len)
{
	return XXH3_64bits(data, len);
}

struct vms_hash128 vms_hash128(const void *data, size_t len)
{
	XXH128_hash_t h = XXH3_128bits(data, len);
	return (struct vms_hash128){ .hi = h.high64, .lo = h.low64 };
}

void vms_hash128_hex(struct vms_hash128 h, char out[33])
{
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.hi, (unsigned long long)h.lo);
}

struct vms_hasher {
	XXH3_state_t *st;
};

struct vms_hasher *vms_hasher_new(void)
{
	struct vms_hasher *h = vms_xmalloc(sizeof(*h));
	h->st = XXH3_createState();
	if (!h->st)
		abort();
	XXH3_128bits_reset(h->st);
	return h;
}

void vms_hasher_update(struct vms_hasher *h, const void *data, size_t len)
{
	XXH3_128bits_update(h->st, data, len);
}

void vms_hasher_update_str(struct vms_hasher *h, const char *s)
{
	vms_hasher_update(h, s, strlen(s) + 1);
}

struct vms_hash128 vms_hasher_digest(const struct vms_hasher *h)
{
	XXH128_hash_t d = XXH3_128bits_digest(h->st);
	return (struct vms_hash128){ .hi = d.high64, .lo = d.low64 };
}

void vms_hasher_free(struct vms_hasher *h)
{
	if (!h)
		return;
	XXH3_freeState(h->st);
	free(h);
}
