/* serve/snap.h: the per-user daemon's clang snapshots (clangsnap/), a pool owned by the
 * daemon and used by its workers through vms_build's compile hook. Not API. */
#ifndef VMSLIM_SERVE_SNAP_H
#define VMSLIM_SERVE_SNAP_H

#include <json-c/json.h>

#include "pch/pch.h"

struct server;
struct snap_pool;

/* A pool on the daemon's loop; env_names: the variables a request may set for clang (a
 * snapshot runs with the daemon's environment, so a request setting one is not served,
 * and none is started while the daemon's own environment sets one). NULL when snapshots
 * are off ($VMSLIM_NO_CLANGSNAP set) or cannot be had here (logged). */
struct snap_pool *snap_pool_new(struct server *s, const char *const *env_names);
/* Stops every snapshot and the thread that starts them; no process is left. NULL: no-op. */
void snap_pool_free(struct snap_pool *p);
/* The hook for vms_build_opts.via, for the daemon's workers (forked processes): a build
 * whose snapshot runs goes through it; one that has none asks the daemon to start it and
 * runs clang this time. NULL for a NULL pool. */
const struct vms_build_via *snap_pool_via(struct snap_pool *p);
void snap_pool_stats_json(struct snap_pool *p, struct json_object *o);

#endif
