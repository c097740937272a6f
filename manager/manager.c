/*
 * manager.c: configuration and the life of an IcsManager.
 *
 * Start order matters: the database first (everything lives there), then
 * the API key sealing key, then tasks -- their kinds are registered before
 * recovery re-queues anything -- and the HTTP server last, so no request
 * arrives before the state it needs.  Stop runs the other way: the server
 * (its connection threads may be waiting on events or the store), then
 * tasks, then the database.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "ics/error.h"
#include "ics/json.h"
#include "ics/log.h"
#include "ics/manager/audit.h"
#include "ics/manager/authz.h"
#include "ics/manager/directory_sync.h"
#include "ics/manager/drs_service.h"
#include "ics/manager/console_proxy.h"
#include "ics/manager/console_ticket.h"
#include "ics/manager/manager.h"
#include "ics/manager/password.h"
#include "ics/manager/tls_cert.h"
#include "ics/manager/totp.h"
#include "ics/manager/users.h"
#include "ics/manager/vm_mirror.h"
#include "ics/manager/vm_service.h"
#include "ics/manager/volumes.h"
#include "ics/manager/backup_policies.h"
#include "ics/manager/backup_restore.h"
#include "ics/manager/backup_service.h"
#include "ics/manager/system_backup.h"
#include "ics/manager/system_backup_service.h"

#include "api.h"

void ics_manager_config_init(IcsManagerConfig *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->state_dir = g_strdup(ICS_MANAGER_DEFAULT_STATE_DIR);
	cfg->listen_address = g_strdup("0.0.0.0");
	cfg->port = ICS_MANAGER_DEFAULT_PORT;
	cfg->max_body = ICS_HTTP_DEFAULT_MAX_BODY;
	cfg->task_threads = 2;
	cfg->sse_keepalive_ms = 15000;
	cfg->volume_uri = g_strdup(ICS_VOLUMES_DEFAULT_URI);
	cfg->tls_priorities = g_strdup(ICS_HTTP_DEFAULT_TLS_PRIORITIES);
	cfg->vm_path_roots = g_strsplit("/srv/ics/pools", ",", -1);
	cfg->limits.max_connections = ICS_HTTP_DEFAULT_MAX_CONNECTIONS;
	cfg->limits.per_ip_connections = ICS_HTTP_DEFAULT_PER_IP_CONNECTIONS;
	cfg->limits.idle_timeout_s = ICS_HTTP_DEFAULT_IDLE_TIMEOUT_S;
	cfg->event_streams_per_user = 8;
	cfg->event_streams = 256;
	cfg->mirror_period_s = 60;
	cfg->audit_max_age_days = 365;
	cfg->audit_max_rows = 1000000;
	cfg->totp_issuer = g_strdup("ICS");
	cfg->directory_check_ms = 10000;
	cfg->system_backup_keep = ICS_SYSTEM_BACKUP_DEFAULT_KEEP;
	cfg->system_backup_period_s = ICS_SYSTEM_BACKUP_DEFAULT_PERIOD_S;
	cfg->backup_policy_check_ms = 30000;
	cfg->backup_max_per_repository = 4;
	cfg->backup_max_per_host = 2;
	ics_login_policy_defaults(&cfg->policy);
#ifdef ICS_CONSOLE_DEFAULT_DIR
	/* configure --enable-console: where make install put the console */
	cfg->console_dir = g_strdup(ICS_CONSOLE_DEFAULT_DIR);
#endif
}

void ics_manager_config_clear(IcsManagerConfig *cfg)
{
	g_free(cfg->state_dir);
	g_free(cfg->listen_address);
	g_free(cfg->tls_cert);
	g_free(cfg->tls_key);
	g_free(cfg->volume_uri);
	g_free(cfg->console_dir);
	g_free(cfg->tls_priorities);
	g_strfreev(cfg->vm_path_roots);
	g_strfreev(cfg->tls_names);
	g_free(cfg->totp_issuer);
	g_free(cfg->system_backup_dir);
	memset(cfg, 0, sizeof(*cfg));
}

gboolean ics_manager_config_set_listen(IcsManagerConfig *cfg, const char *text, GError **error)
{
	const char *colon = strrchr(text, ':');
	g_autofree char *addr = NULL;
	guint64 port;

	if (colon == NULL || !g_ascii_string_to_unsigned(colon + 1, 10, 0, 65535, &port, NULL))
		return ics_error_invalid(error,
					 "listen address \"%s\" must be ADDR:PORT or "
					 "[ADDR6]:PORT",
					 text);
	addr = g_strndup(text, colon - text);
	if (addr[0] == '[' && addr[strlen(addr) - 1] == ']') {
		char *inner = g_strndup(addr + 1, strlen(addr) - 2);

		g_free(addr);
		addr = inner;
	}
	g_free(cfg->listen_address);
	cfg->listen_address = g_steal_pointer(&addr);
	cfg->port = (guint16)port;
	return TRUE;
}

gboolean ics_manager_config_set_tls_names(IcsManagerConfig *cfg, const char *list,
					  GError **error)
{
	if (list) {
		g_strfreev(cfg->tls_names);
		cfg->tls_names = g_strsplit(list, ",", -1);
	}
	for (guint i = 0; cfg->tls_names && cfg->tls_names[i]; i++) {
		const char *n = g_strstrip(cfg->tls_names[i]);

		if (*n == '\0' || strlen(n) > 253 ||
		    strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:*") !=
			    strlen(n))
			return ics_error_invalid(error,
						 "TLS name \"%s\" is neither a host name nor an IP "
						 "address",
						 n);
	}
	return TRUE;
}

static void replace_string(GKeyFile *kf, const char *group, const char *key, char **field)
{
	char *v = g_key_file_get_string(kf, group, key, NULL);

	if (v) {
		g_free(*field);
		*field = v;
	}
}

/* An integer key of @group in [@min, @max], when present. */
static gboolean load_uint(GKeyFile *kf, const char *group, const char *key, guint min, guint max,
			  guint *out, GError **error)
{
	g_autoptr(GError) err = NULL;
	gint64 v;

	if (!g_key_file_has_key(kf, group, key, NULL))
		return TRUE;
	v = g_key_file_get_int64(kf, group, key, &err);
	if (err != NULL || v < min || v > max)
		return ics_error_invalid(error, "[%s] %s must be an integer from %u to %u", group,
					 key, min, max);
	*out = (guint)v;
	return TRUE;
}

/* A list of absolute, normalised directories (GKeyFile list: "a;b"). */
static gboolean load_path_list(GKeyFile *kf, const char *group, const char *key, char ***out,
			       GError **error)
{
	g_auto(GStrv) v = g_key_file_get_string_list(kf, group, key, NULL, NULL);

	for (guint i = 0; v && v[i]; i++) {
		g_autofree char *canon = g_canonicalize_filename(v[i], "/");

		if (!g_path_is_absolute(v[i]) || strcmp(canon, v[i]) != 0 || strcmp(v[i], "/") == 0)
			return ics_error_invalid(error,
						 "[%s] %s: \"%s\" must be an absolute, normalised "
						 "directory other than /",
						 group, key, v[i]);
	}
	g_strfreev(*out);
	*out = v ? g_steal_pointer(&v) : g_new0(char *, 1);
	return TRUE;
}

static gboolean load_limits(IcsManagerConfig *cfg, GKeyFile *kf, GError **error)
{
	if (!load_uint(kf, "limits", "max_connections", 16, 100000, &cfg->limits.max_connections,
		       error) ||
	    !load_uint(kf, "limits", "per_ip_connections", 1, 100000,
		       &cfg->limits.per_ip_connections, error) ||
	    !load_uint(kf, "limits", "idle_timeout_seconds", 1, 3600, &cfg->limits.idle_timeout_s,
		       error) ||
	    !load_uint(kf, "limits", "event_streams_per_user", 1, 10000,
		       &cfg->event_streams_per_user, error) ||
	    !load_uint(kf, "limits", "event_streams", 1, 100000, &cfg->event_streams, error) ||
	    !load_uint(kf, "manager", "mirror_period_seconds", 0, 86400, &cfg->mirror_period_s,
		       error) ||
	    !load_uint(kf, "audit", "max_age_days", 1, 36500, &cfg->audit_max_age_days, error) ||
	    !load_uint(kf, "audit", "max_rows", 1000, G_MAXINT32, &cfg->audit_max_rows, error) ||
	    !load_uint(kf, "system_backup", "keep", 1, 1000, &cfg->system_backup_keep, error) ||
	    !load_uint(kf, "system_backup", "period_seconds", 0, 366 * 86400,
		       &cfg->system_backup_period_s, error) ||
	    !load_uint(kf, "backup", "max_per_repository", 0, 1000,
		       &cfg->backup_max_per_repository, error) ||
	    !load_uint(kf, "backup", "max_per_host", 0, 1000, &cfg->backup_max_per_host, error))
		return FALSE;
	if (g_key_file_has_key(kf, "backup", "policy_check_seconds", NULL)) {
		guint s = 0;

		if (!load_uint(kf, "backup", "policy_check_seconds", 1, 3600, &s, error))
			return FALSE;
		cfg->backup_policy_check_ms = s * 1000;
	}
	if (g_key_file_has_key(kf, "directories", "check_seconds", NULL)) {
		guint s = 0;

		if (!load_uint(kf, "directories", "check_seconds", 1, 3600, &s, error))
			return FALSE;
		cfg->directory_check_ms = s * 1000;
	}
	if (cfg->limits.per_ip_connections > cfg->limits.max_connections)
		return ics_error_invalid(error,
					 "[limits] per_ip_connections (%u) is more than "
					 "max_connections (%u)",
					 cfg->limits.per_ip_connections,
					 cfg->limits.max_connections);
	if (cfg->event_streams >= cfg->limits.max_connections)
		return ics_error_invalid(error,
					 "[limits] event_streams (%u) must leave connections for "
					 "requests: less than max_connections (%u)",
					 cfg->event_streams, cfg->limits.max_connections);
	return TRUE;
}

gboolean ics_manager_config_load(IcsManagerConfig *cfg, const char *path, gboolean required,
				 GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) err = NULL;
	g_autofree char *listen = NULL;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &err)) {
		if (!required && g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return TRUE;
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT, "%s: %s", path,
			    err->message);
		return FALSE;
	}
	replace_string(kf, "manager", "state_dir", &cfg->state_dir);
	replace_string(kf, "tls", "cert", &cfg->tls_cert);
	replace_string(kf, "tls", "key", &cfg->tls_key);
	replace_string(kf, "volumes", "libvirt_uri", &cfg->volume_uri);
	replace_string(kf, "manager", "console_dir", &cfg->console_dir);
	if (cfg->console_dir && cfg->console_dir[0] == '\0') /* "console_dir=": none */
		g_clear_pointer(&cfg->console_dir, g_free);
	replace_string(kf, "tls", "priorities", &cfg->tls_priorities);
	if (g_key_file_has_key(kf, "tls", "names", NULL)) {
		g_strfreev(cfg->tls_names);
		cfg->tls_names = g_key_file_get_string_list(kf, "tls", "names", NULL, NULL);
		if (!ics_manager_config_set_tls_names(cfg, NULL, error))
			goto bad;
	}
	if (g_key_file_has_key(kf, "security", "vm_path_roots", NULL) &&
	    !load_path_list(kf, "security", "vm_path_roots", &cfg->vm_path_roots, error))
		goto bad;
	replace_string(kf, "security", "totp_issuer", &cfg->totp_issuer);
	replace_string(kf, "system_backup", "directory", &cfg->system_backup_dir);
	if (cfg->totp_issuer[0] == '\0' || strlen(cfg->totp_issuer) > 64 ||
	    !g_utf8_validate(cfg->totp_issuer, -1, NULL) || strchr(cfg->totp_issuer, ':')) {
		ics_error_invalid(error, "[security] totp_issuer must be 1 to 64 characters of "
					 "UTF-8 without ':'");
		goto bad;
	}
	if (!ics_http_tls_priorities_check(cfg->tls_priorities, error) ||
	    !load_limits(cfg, kf, error))
		goto bad;
	listen = g_key_file_get_string(kf, "manager", "listen", NULL);
	if (listen && !ics_manager_config_set_listen(cfg, listen, error))
		goto bad;
	if (g_key_file_has_key(kf, "manager", "max_body", NULL)) {
		gint64 v = g_key_file_get_int64(kf, "manager", "max_body", NULL);

		if (v < 1024 || v > 64 * 1024 * 1024) {
			ics_error_invalid(error,
					  "[manager] max_body must be 1024 to 67108864 bytes");
			goto bad;
		}
		cfg->max_body = (gsize)v;
	}
	if (!ics_login_policy_load(&cfg->policy, kf, error))
		goto bad;
	return TRUE;
bad:
	ics_error_prefix(error, "%s: ", path);
	return FALSE;
}

static char *state_path(IcsManager *m, const char *name)
{
	return g_build_filename(m->cfg.state_dir, name, NULL);
}

IcsManager *ics_manager_new(const IcsManagerConfig *cfg, const IcsClusterOps *cluster,
			    GError **error)
{
	g_autoptr(IcsManager) m = g_new0(IcsManager, 1);
	g_autofree char *db = NULL, *key = NULL;

	g_mutex_init(&m->streams_lock);
	m->streams = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	m->cfg = *cfg;
	m->cfg.state_dir = g_strdup(cfg->state_dir);
	m->cfg.listen_address = g_strdup(cfg->listen_address);
	m->cfg.tls_cert = g_strdup(cfg->tls_cert);
	m->cfg.tls_key = g_strdup(cfg->tls_key);
	m->cfg.volume_uri = g_strdup(cfg->volume_uri);
	m->cfg.console_dir = g_strdup(cfg->console_dir);
	m->cfg.tls_priorities = g_strdup(cfg->tls_priorities);
	m->cfg.vm_path_roots = g_strdupv(cfg->vm_path_roots);
	m->cfg.tls_names = g_strdupv(cfg->tls_names);
	m->cfg.totp_issuer = g_strdup(cfg->totp_issuer);
	m->cfg.system_backup_dir = g_strdup(cfg->system_backup_dir);
	ics_totp_global_init();
	m->cluster = cluster;
	if (g_mkdir_with_parents(m->cfg.state_dir, 0700) != 0) {
		ics_error_set_errno(error, errno, "cannot create state directory %s",
				    m->cfg.state_dir);
		return NULL;
	}
	db = state_path(m, "manager.db");
	key = state_path(m, "apikey.key");
	m->store = ics_store_open(db, error);
	if (m->store == NULL)
		return NULL;
	m->sealer = ics_sealer_open(key, error);
	if (m->sealer == NULL)
		return NULL;
	m->apikeys = ics_apikeys_new(m->sealer);
	ics_manager_audit_retention(m);
	m->events = ics_events_new(1024);
	m->console_tickets = ics_console_tickets_new();
	m->console_proxy = ics_console_proxy_new(0);
	{
		IcsVmServiceConfig vc = {
			.store = m->store,
			.events = m->events,
			.cluster = cluster,
			.path_roots = (const char *const *)m->cfg.vm_path_roots,
			.state_dir = m->cfg.state_dir,
		};

		m->vms = ics_vm_service_new(&vc);
	}
	m->mirror = ics_vm_mirror_new(m->store, m->events, cluster, m->vms, m->cfg.mirror_period_s);
	m->tasks = ics_task_runner_new(m->store, m->events, m->cfg.task_threads);
	ics_vm_tasks_register(m);
	ics_host_tasks_register(m);
	m->drs = ics_drs_service_new(m->store, m->tasks, cluster, error);
	if (m->drs == NULL)
		return NULL;
	m->volumes = ics_volumes_new(m->cfg.volume_uri);
	ics_volume_tasks_register(m);
	ics_backup_tasks_register(m);
	ics_backup_restore_tasks_register(m);
	ics_system_backup_register(m);
	ics_directory_sync_register(m);
	if (m->cfg.test_mode)
		ics_task_runner_register(m->tasks, &ics_task_kind_test_sleep);
	if (!ics_task_runner_recover(m->tasks, error))
		return NULL;
	m->directory_sync = ics_directory_sync_start(m, m->cfg.directory_check_ms);
	ics_drs_service_start(m->drs);
	m->system_backups = ics_system_backup_start(m);
	m->backup_policies = ics_backup_policies_start(m, m->cfg.backup_policy_check_ms);
	m->router = ics_router_new();
	m->routes = g_ptr_array_new_with_free_func(g_free);
	ics_api_register(m->router, m->routes);
	if (cluster == NULL)
		ics_notice("no cluster adapter: inventory only, power and migration requests are "
			   "refused");
	return g_steal_pointer(&m);
}

static void handle(void *data, IcsRequest *req, IcsResponse *resp)
{
	ics_manager_handle(data, req, resp);
}

gboolean ics_manager_listen(IcsManager *m, GError **error)
{
	g_autofree char *cert = NULL, *key = NULL;
	IcsHttpConfig hc = {
		.address = m->cfg.listen_address,
		.port = m->cfg.port,
		.max_body = m->cfg.max_body,
		.tls_priorities = m->cfg.tls_priorities,
		.limits = m->cfg.limits,
	};

	if (m->cfg.insecure_http && !g_str_has_prefix(m->cfg.listen_address, "127.") &&
	    !g_str_equal(m->cfg.listen_address, "::1"))
		return ics_error_invalid(error,
					 "--insecure-http serves only on a loopback address "
					 "(127.0.0.0/8 or ::1), not on %s",
					 m->cfg.listen_address);
	if (!m->cfg.insecure_http) {
		g_autofree char *cert_path =
			m->cfg.tls_cert ? g_strdup(m->cfg.tls_cert) : state_path(m, "tls-cert.pem");
		g_autofree char *key_path =
			m->cfg.tls_key ? g_strdup(m->cfg.tls_key) : state_path(m, "tls-key.pem");

		if (!ics_tls_cert_load(cert_path, key_path, m->cfg.tls_cert == NULL,
				       (const char *const *)m->cfg.tls_names, &cert, &key,
				       error))
			return FALSE;
		hc.cert_pem = cert;
		hc.key_pem = key;
	}
	m->http = ics_http_server_start(&hc, handle, m, error);
	if (key)
		explicit_bzero(key, strlen(key));
	if (m->http == NULL)
		return FALSE;
	if (m->cfg.insecure_http)
		ics_warning("*** TLS IS OFF (--insecure-http): serving plain HTTP on %s port %u; "
			    "passwords and tokens cross the network in clear.  For tests and "
			    "benchmarks on loopback only. ***",
			    m->cfg.listen_address, ics_http_server_port(m->http));
	else
		ics_info("serving the API on %s port %u (HTTPS)", m->cfg.listen_address,
			 ics_http_server_port(m->http));
	return TRUE;
}

guint16 ics_manager_port(IcsManager *m)
{
	return m->http ? ics_http_server_port(m->http) : 0;
}

void ics_manager_free(IcsManager *m)
{
	if (m == NULL)
		return;
	if (m->events)
		ics_events_close(m->events);
	/* Console sessions hold upgraded connections: closed before the
	 * server stops (MHD requires it); the proxy is freed only after, so a
	 * console request still being handled is refused by a live proxy. */
	ics_console_proxy_stop(m->console_proxy);
	ics_http_server_stop(m->http);
	ics_console_proxy_free(m->console_proxy);
	/* The mirror writes through the store and publishes: stopped first. */
	ics_vm_mirror_free(m->mirror);
	/* DRS, the directory sync, the system backup period and the backup
	 * policies queue tasks: stopped before the tasks are. */
	ics_drs_service_stop(m->drs);
	ics_periodic_stop(m->directory_sync);
	ics_periodic_stop(m->system_backups);
	ics_periodic_stop(m->backup_policies);
	ics_task_runner_free(m->tasks);
	ics_drs_service_free(m->drs);
	ics_volumes_free(m->volumes);
	ics_events_free(m->events);
	ics_router_free(m->router);
	if (m->routes)
		g_ptr_array_unref(m->routes);
	ics_apikeys_free(m->apikeys);
	ics_vm_service_free(m->vms);
	ics_sealer_free(m->sealer);
	ics_console_tickets_free(m->console_tickets);
	ics_store_close(m->store);
	ics_manager_config_clear(&m->cfg);
	g_hash_table_destroy(m->streams);
	g_mutex_clear(&m->streams_lock);
	g_free(m);
}

void ics_manager_audit_retention(IcsManager *m)
{
	g_autoptr(GError) err = NULL;
	gint64 purged = 0;

	if (!ics_audit_apply_retention(m->store, m->cfg.audit_max_age_days, m->cfg.audit_max_rows,
				       &purged, &err))
		ics_error("audit retention: %s", err->message);
	else if (purged > 0)
		ics_info("audit retention: deleted %" G_GINT64_FORMAT
			 " records older than %u days or beyond the newest %u",
			 purged, m->cfg.audit_max_age_days, m->cfg.audit_max_rows);
}

void ics_manager_credentials_revoked(IcsManager *m)
{
	g_atomic_int_inc(&m->credentials_epoch);
	ics_events_wake(m->events);
}

gboolean ics_manager_bootstrap_admin(IcsManager *m, char **password, GError **error)
{
	g_autofree char *pw = ics_password_generate(error);
	g_autofree char *hash = pw ? ics_password_hash(pw, error) : NULL;
	static const char *const roles[] = { "administrator", NULL };
	gint64 n, id;

	if (hash == NULL)
		return FALSE;
	if (!ics_store_begin(m->store, error))
		return FALSE;
	n = ics_user_count(m->store, error);
	if (n != 0) {
		if (n > 0)
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "users exist already; --bootstrap-admin only works on an empty "
				    "database");
		goto fail;
	}
	id = ics_user_insert(m->store, "admin", hash, TRUE, error);
	if (id < 0 || !ics_user_set_roles(m->store, id, roles, error))
		goto fail;
	if (!ics_store_commit(m->store, error))
		return FALSE;
	*password = g_steal_pointer(&pw);
	return TRUE;
fail:
	ics_store_rollback(m->store);
	return FALSE;
}
