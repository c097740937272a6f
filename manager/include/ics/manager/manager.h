/*
 * ics/manager/manager.h: ics-managerd as a library -- configuration, the
 * object that ties store, tasks, events, keys and the HTTPS server
 * together, and the request dispatcher.
 *
 * The daemon's main() and the tests create the same IcsManager, so the
 * tests exercise exactly what runs.  A manager is created in two steps:
 * ics_manager_new() opens the state (database, keys, task recovery),
 * ics_manager_listen() starts serving.
 */
#ifndef ICS_MANAGER_MANAGER_H
#define ICS_MANAGER_MANAGER_H

#include <glib.h>

#include "ics/manager/apikey.h"
#include "ics/manager/cluster_ops.h"
#include "ics/manager/events.h"
#include "ics/manager/http.h"
#include "ics/manager/login_policy.h"
#include "ics/manager/store.h"
#include "ics/manager/task.h"

/* SYSCONFDIR/ics/managerd.conf of the build (manager/local.mk; /etc with
 * --sysconfdir=/etc, as the packages are built). */
#ifndef ICS_MANAGER_DEFAULT_CONFIG
#define ICS_MANAGER_DEFAULT_CONFIG "/etc/ics/managerd.conf"
#endif
#define ICS_MANAGER_DEFAULT_STATE_DIR "/var/lib/ics/manager"
#define ICS_MANAGER_DEFAULT_PORT 8443

typedef struct {
	char *state_dir;
	char *listen_address; /* "0.0.0.0" */
	guint16 port;	      /* 0 = ephemeral (tests) */
	/* Plain HTTP: for tests and benchmarks on loopback only. */
	gboolean insecure_http;
	char *tls_cert; /* NULL: <state_dir>/tls-cert.pem, generated */
	char *tls_key;
	gsize max_body;
	IcsLoginPolicy policy;
	guint task_threads;
	guint sse_keepalive_ms;
	/* Registers the test.sleep task kind; never in production. */
	gboolean test_mode;
	/* The libvirt URI of volume operations, "{host}" = a node of the
	 * pool ([volumes] libvirt_uri; see volumes.h). */
	char *volume_uri;
	/* The web console's static files, served at /console/ ([manager]
	 * console_dir; NULL: none). */
	char *console_dir;
	/* Directories under which any holder of vm.write may point a VM's
	 * disks, CD-ROM and kernel, besides the cluster's pools ([security]
	 * vm_path_roots; NULL-terminated). */
	char **vm_path_roots;
	/* Names and addresses the generated certificate must carry besides
	 * the host and loopback ([tls] names, --tls-names; NULL-terminated). */
	char **tls_names;
	/* GnuTLS priorities of the HTTPS server ([tls] priorities). */
	char *tls_priorities;
	/* [limits]: connections (total, per client address), the idle time
	 * after which a connection is closed, and open event streams (per
	 * user, total). */
	IcsHttpLimits limits;
	guint event_streams_per_user;
	guint event_streams;
	/* [manager] mirror_period_seconds: the inventory's full pass over the
	 * cluster's VMs (vm_mirror.h; 0: none). */
	guint mirror_period_s;
	/* [audit]: records older than max_age_days or beyond the newest
	 * max_rows are purged (audit.c). */
	guint audit_max_age_days;
	guint audit_max_rows;
	/* [security] totp_issuer: the issuer an authenticator app shows next
	 * to the account ("ICS"). */
	char *totp_issuer;
	/* [directories] check_seconds: how often the periodic sync looks for
	 * domains due (kept in ms: tests use less than a second). */
	guint directory_check_ms;
	/* [system_backup]: where the manager's own backups go (directory;
	 * NULL: <state_dir>/system-backups), how many are kept (keep, 7)
	 * and how old the newest may get before the next is taken
	 * (period_seconds, a day; 0: on demand only). */
	char *system_backup_dir;
	guint system_backup_keep;
	guint system_backup_period_s;
	/* How often the backup policies' scheduler looks for policies due
	 * ([backup] policy_check_seconds, 30 s; in ms: tests use less than a
	 * second). */
	guint backup_policy_check_ms;
	/* [backup] max_per_repository, max_per_host: at most so many VM
	 * backups queued or running at once into one repository (4) and of
	 * VMs on one host (2; a stopped VM's counts on the manager's node);
	 * the policies' scheduler leaves the others due.  0: no limit. */
	guint backup_max_per_repository;
	guint backup_max_per_host;
} IcsManagerConfig;

/* Defaults: state dir /var/lib/ics/manager, 0.0.0.0:8443, TLS with
 * ICS_HTTP_DEFAULT_TLS_PRIORITIES, 1 MiB bodies, the login policy's
 * defaults, 2 task threads, the limits of ICS_HTTP_DEFAULT_* (8 event
 * streams per user, 256 in all), audit kept 365 days and at most 1,000,000
 * records. */
void ics_manager_config_init(IcsManagerConfig *cfg);
/* Override from a GKeyFile ([manager] state_dir, listen, max_body;
 * [tls] cert, key, priorities; [limits] max_connections,
 * per_ip_connections, idle_timeout_seconds, event_streams_per_user,
 * event_streams; [audit] max_age_days, max_rows; [system_backup]
 * directory, keep, period_seconds; [security] see login_policy.h).  A missing file is an error only when @required. */
gboolean ics_manager_config_load(IcsManagerConfig *cfg, const char *path, gboolean required,
				 GError **error);
/* Parse "ADDR:PORT" or "[ADDR6]:PORT" into the config. */
gboolean ics_manager_config_set_listen(IcsManagerConfig *cfg, const char *text, GError **error);
void ics_manager_config_clear(IcsManagerConfig *cfg);
/* "a,b,c" (or, with @list NULL, the names already in @cfg) checked as
 * host names or addresses, into cfg->tls_names. */
gboolean ics_manager_config_set_tls_names(IcsManagerConfig *cfg, const char *list,
					  GError **error);

typedef struct IcsManager {
	IcsManagerConfig cfg;
	IcsStore *store;
	IcsEvents *events;
	IcsTaskRunner *tasks;
	/* The server key sealing API key secrets, TOTP secrets and
	 * directory bind passwords (seal.h). */
	IcsSealer *sealer;
	IcsApiKeys *apikeys;
	IcsRouter *router;
	GPtrArray *routes; /* the routes with their authorization rows */
	IcsHttpServer *http;
	/* NULL: inventory only (see cluster_ops.h). */
	const IcsClusterOps *cluster;
	/* The task kind of VM power operations (api_vms.c). */
	IcsTaskKind vm_power_kind;
	/* The task kind of host maintenance (api_hosts.c). */
	IcsTaskKind host_maintenance_kind;
	/* DRS: periodic plans, their application, history (drs_service.h). */
	struct IcsDrsService *drs;
	/* Volumes on pools through libvirt, and their task kinds
	 * (api_volumes.c). */
	struct IcsVolumes *volumes;
	IcsTaskKind volume_create_kind;
	IcsTaskKind volume_resize_kind;
	/* LDAP directory domains: the periodic sync and the task kind of a
	 * sync (directory_sync.h). */
	struct IcsPeriodic *directory_sync;
	IcsTaskKind directory_sync_kind;
	/* The task kind of VM backups (backup_service.h). */
	IcsTaskKind vm_backup_kind;
	/* The task kind of restores (backup_restore.h). */
	IcsTaskKind vm_restore_kind;
	/* The manager's own backup: its task kind and its period
	 * (system_backup_service.h; NULL when the period is 0). */
	IcsTaskKind system_backup_kind;
	struct IcsPeriodic *system_backups;
	/* The backup policies' scheduler (backup_policies.h). */
	struct IcsPeriodic *backup_policies;
	/* Bumped (atomically) whenever sessions, keys, accounts or roles
	 * change in a way that may end what an open event stream was
	 * allowed (ics_manager_credentials_revoked). */
	gint credentials_epoch;
	/* Audit records written by the dispatcher (atomic): retention runs
	 * every so many (api_dispatch.c). */
	gint audit_appends;
	/* Open event streams: per user id (gint64* -> GUINT_TO_POINTER count)
	 * and in all, under streams_lock (api_events.c). */
	GMutex streams_lock;
	GHashTable *streams;
	guint streams_open;
	/* The one write path of VMs (vm_service.h), and the inventory's
	 * mirror of the cluster's VMs (vm_mirror.h). */
	struct IcsVmService *vms;
	struct IcsVmMirror *mirror;
	/* Console tickets and WebSocket sessions (console_ticket.h,
	 * console_proxy.h); each has its own lock. */
	struct IcsConsoleTickets *console_tickets;
	struct IcsConsoleProxy *console_proxy;
} IcsManager;

/* Open the state directory (created 0700 when absent): database, API key
 * sealing key, tasks (restart rules applied).  @cluster may be NULL and is
 * kept by pointer.  @cfg is copied. */
IcsManager *ics_manager_new(const IcsManagerConfig *cfg, const IcsClusterOps *cluster,
			    GError **error);
/* Start the HTTPS (or, in insecure mode, HTTP) server. */
gboolean ics_manager_listen(IcsManager *m, GError **error);
guint16 ics_manager_port(IcsManager *m);
void ics_manager_free(IcsManager *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsManager, ics_manager_free)

/* When no user exists, create "admin" (administrator) with a generated
 * password returned in @password; CONFLICT when users exist. */
gboolean ics_manager_bootstrap_admin(IcsManager *m, char **password, GError **error);

/* Sessions, keys, an account or its roles changed (committed): open event
 * streams re-check their caller at once (api_events.c). */
void ics_manager_credentials_revoked(IcsManager *m);

/* Apply the audit retention of the configuration ([audit]); logged. */
void ics_manager_audit_retention(IcsManager *m);

/* Handle one request: route, authenticate, authorize, run, audit. */
void ics_manager_handle(IcsManager *m, IcsRequest *req, IcsResponse *resp);

#endif /* ICS_MANAGER_MANAGER_H */
