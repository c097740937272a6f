/*
 * cib_pools.h: the ICS pools the cluster configures, read from the CIB.
 *
 * Storage fencing must prove a host dead on every pool it may hold a lease
 * on.  The set of those pools is the cluster's configuration, not a list an
 * operator keeps beside it: every `ocf:ics:pool` primitive (usually cloned
 * as ics-pool-<name>) with its `path` and `uuid` parameters.
 */
#ifndef ICS_FENCING_CIB_POOLS_H
#define ICS_FENCING_CIB_POOLS_H

#include <glib.h>

typedef struct {
	char *id;     /* the primitive's id */
	char *path;   /* its path parameter */
	char *uuid;   /* its uuid parameter, NULL when not set */
} CibPool;
void cib_pool_free(CibPool *p);

/*
 * Every ocf:ics:pool primitive of the CIB (libcib, local copy; honours
 * CIB_file like every Pacemaker tool).  UNAVAILABLE when the CIB cannot be
 * read; a primitive without a path is a PARSE error naming it.
 */
GPtrArray *cib_pools_read(GError **error);

#endif
