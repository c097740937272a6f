/*
 * pool_config.h: the parameters of ocf:ics:pool, validated.
 *
 * Validation is pure (a lookup function supplies the values) so that the
 * agent and its unit tests share it: the agent passes OCF_RESKEY_* values,
 * the tests a table.  Only the syntax and the combinations are checked
 * here; what needs the node (does the path exist, is it mounted) is the
 * agent's job.
 */
#ifndef ICS_POOL_CONFIG_H
#define ICS_POOL_CONFIG_H

#include <glib.h>

typedef enum {
	POOL_TYPE_DIR,
	POOL_TYPE_NFS,
	POOL_TYPE_BLOCK,
} PoolType;

#define POOL_DEFAULT_MONITOR_TIMEOUT_S 10

typedef struct {
	char *name;
	char *path;
	PoolType type;
	char *source;         /* nfs: server:/export; block: device */
	char *options;        /* mount options, NULL = none */
	char *uuid;           /* expected pool uuid, NULL = not checked */
	guint64 host_id;      /* 0 = ask crm_node -i */
	guint monitor_timeout_s;
	gboolean force_stop;
} PoolConfig;

/* Value of a parameter (with its default applied), NULL when unset. */
typedef const char *(*PoolParamLookup)(const char *name, gpointer data);

/* Fill @cfg from @lookup.  ICS_ERROR_INVALID_ARGUMENT naming the parameter
 * on a bad value or combination (nfs without source, relative path...). */
gboolean pool_config_parse(PoolConfig *cfg, PoolParamLookup lookup, gpointer data,
			   GError **error);
void pool_config_clear(PoolConfig *cfg);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PoolConfig, pool_config_clear)

const char *pool_type_name(PoolType type);

/* Parse the output of "crm_node -i" (a node id, 1..2000). */
gboolean pool_parse_node_id(const char *text, guint64 *id, GError **error);

#endif /* ICS_POOL_CONFIG_H */
