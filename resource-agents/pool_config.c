/*
 * pool_config.c: validation of ocf:ics:pool's parameters (see
 * pool_config.h).  Names follow libicslock's rule for pool names; the
 * host id range is sanlock's (1..2000), checked here without the library
 * so that validate-all works on a node without a sanlock daemon.
 */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "ics/error.h"
#include "ics/lock.h"
#include "ocf.h"
#include "pool_config.h"

const char *pool_type_name(PoolType type)
{
	switch (type) {
	case POOL_TYPE_NFS:
		return "nfs";
	case POOL_TYPE_BLOCK:
		return "block";
	case POOL_TYPE_DIR:
		break;
	}
	return "dir";
}

static gboolean valid_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 40 || !(g_ascii_islower(name[0]) || g_ascii_isdigit(name[0])))
		return FALSE;
	for (size_t i = 1; i < len; i++)
		if (!(g_ascii_islower(name[i]) || g_ascii_isdigit(name[i]) || name[i] == '_' ||
		      name[i] == '-'))
			return FALSE;
	return TRUE;
}

gboolean pool_parse_node_id(const char *text, guint64 *id, GError **error)
{
	g_autofree char *t = g_strstrip(g_strdup(text ? text : ""));

	return ocf_parse_uint("host_id", t, 1, ICS_LOCK_MAX_HOST_ID, id, error);
}

gboolean pool_config_parse(PoolConfig *cfg, PoolParamLookup lookup, gpointer data,
			   GError **error)
{
	const char *name = lookup("name", data);
	const char *path = lookup("path", data);
	const char *type = lookup("type", data);
	const char *v;
	guint64 n;

	memset(cfg, 0, sizeof(*cfg));
	cfg->monitor_timeout_s = POOL_DEFAULT_MONITOR_TIMEOUT_S;
	if (name == NULL)
		return ics_error_invalid(error, "required parameter %s is not set%s", "name", "");
	if (!valid_name(name))
		return ics_error_invalid(error,
			       "parameter name='%s' is not a pool name%s: use 1 to 40 of a-z, 0-9, "
			       "'_' and '-', starting with a letter or digit",
			       name, "");
	if (path == NULL)
		return ics_error_invalid(error, "required parameter %s is not set%s", "path", "");
	if (path[0] != '/' || strstr(path, "/../") != NULL || g_str_has_suffix(path, "/.."))
		return ics_error_invalid(error, "parameter path='%s' must be an absolute path%s", path, "");
	if (type == NULL || strcmp(type, "dir") == 0)
		cfg->type = POOL_TYPE_DIR;
	else if (strcmp(type, "nfs") == 0)
		cfg->type = POOL_TYPE_NFS;
	else if (strcmp(type, "block") == 0)
		cfg->type = POOL_TYPE_BLOCK;
	else
		return ics_error_invalid(error, "parameter type='%s' is not one of dir, nfs, block%s", type,
			       "");
	cfg->source = g_strdup(lookup("source", data));
	cfg->options = g_strdup(lookup("options", data));
	if (cfg->type != POOL_TYPE_DIR && cfg->source == NULL)
		return ics_error_invalid(error, "type=%s needs parameter %s (what to mount)",
			       pool_type_name(cfg->type), "source");
	if (cfg->type == POOL_TYPE_DIR && (cfg->source != NULL || cfg->options != NULL))
		return ics_error_invalid(error, "type=%s takes no source or options (the %s is used as is)",
			       "dir", "path");
	if (cfg->type == POOL_TYPE_BLOCK && cfg->source[0] != '/')
		return ics_error_invalid(error, "parameter source='%s' must be a block device path%s",
			       cfg->source, "");
	v = lookup("uuid", data);
	if (v != NULL) {
		if (!g_uuid_string_is_valid(v))
			return ics_error_invalid(error, "parameter uuid='%s' is not a UUID%s", v, "");
		cfg->uuid = g_ascii_strdown(v, -1);
	}
	v = lookup("host_id", data);
	if (v != NULL) {
		if (!ocf_parse_uint("host_id", v, 1, ICS_LOCK_MAX_HOST_ID, &cfg->host_id, error))
			return FALSE;
	}
	v = lookup("monitor_timeout", data);
	if (v != NULL) {
		if (!ocf_parse_uint("monitor_timeout", v, 1, 3600, &n, error))
			return FALSE;
		cfg->monitor_timeout_s = (guint)n;
	}
	v = lookup("force_stop", data);
	if (v != NULL && !ocf_parse_bool("force_stop", v, &cfg->force_stop, error))
		return FALSE;
	cfg->name = g_strdup(name);
	cfg->path = g_strdup(path);
	return TRUE;
}

void pool_config_clear(PoolConfig *cfg)
{
	g_free(cfg->name);
	g_free(cfg->path);
	g_free(cfg->source);
	g_free(cfg->options);
	g_free(cfg->uuid);
	memset(cfg, 0, sizeof(*cfg));
}
