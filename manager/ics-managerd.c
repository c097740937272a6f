/*
 * ics-managerd.c: the manager daemon's main -- options, configuration,
 * signals, and the cluster adapter plugged in.  Everything else is in
 * libicsmanager (manager.c and below) and libicsmgrcluster
 * (cluster_service.c).
 *
 * The main thread runs GLib's default main context: signals, and the
 * cluster adapter's CIB connection and change notifications, which the
 * adapter needs a running loop for.  By default the adapter is plugged in
 * when the local CIB manager answers and the daemon is an inventory only
 * when it does not; --cluster makes a missing cluster fatal, --no-cluster
 * never tries.
 */
#include "config.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>

#include "ics/error.h"
#include "ics/log.h"
#include "ics/manager/authz.h"
#include "ics/manager/cluster_service.h"
#include "ics/manager/fence_events.h"
#include "ics/manager/manager.h"
#include "ics/manager/system_backup.h"
#include "ics/manager/vm_mirror.h"

static gboolean on_signal(gpointer data)
{
	ics_notice("signal received, stopping");
	g_main_loop_quit(data);
	return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
	g_autofree char *config = NULL, *state_dir = NULL, *listen = NULL, *tls_names = NULL;
	g_autofree char *restore = NULL;
	gboolean foreground = FALSE, bootstrap = FALSE, insecure = FALSE, test_mode = FALSE;
	gboolean with_cluster = FALSE, no_cluster = FALSE, authz_table = FALSE;
	GOptionEntry entries[] = {
		{ "config", 'c', 0, G_OPTION_ARG_FILENAME, &config,
		  "Configuration file (default " ICS_MANAGER_DEFAULT_CONFIG ")", "FILE" },
		{ "state-dir", 's', 0, G_OPTION_ARG_FILENAME, &state_dir,
		  "State directory (default " ICS_MANAGER_DEFAULT_STATE_DIR ")", "DIR" },
		{ "listen", 'l', 0, G_OPTION_ARG_STRING, &listen,
		  "Address and port to serve on (default 0.0.0.0:8443)", "ADDR:PORT" },
		{ "foreground", 'f', 0, G_OPTION_ARG_NONE, &foreground,
		  "Stay in the foreground and log to stderr", NULL },
		{ "bootstrap-admin", 0, 0, G_OPTION_ARG_NONE, &bootstrap,
		  "If no user exists, create \"admin\" and print its password once", NULL },
		{ "tls-names", 0, 0, G_OPTION_ARG_STRING, &tls_names,
		  "Names and addresses the generated certificate carries besides the host and "
		  "loopback (overrides [tls] names)",
		  "A,B,..." },
		{ "insecure-http", 0, 0, G_OPTION_ARG_NONE, &insecure,
		  "Serve plain HTTP (tests and benchmarks on loopback only)", NULL },
		{ "cluster", 0, 0, G_OPTION_ARG_NONE, &with_cluster,
		  "Require the cluster (default: use it when the local CIB answers)", NULL },
		{ "no-cluster", 0, 0, G_OPTION_ARG_NONE, &no_cluster,
		  "Inventory only: do not connect to the cluster", NULL },
		{ "authz-table", 0, 0, G_OPTION_ARG_NONE, &authz_table,
		  "Print who may call each API route and what request fields need, and exit",
		  NULL },
		{ "restore", 0, 0, G_OPTION_ARG_FILENAME, &restore,
		  "Rebuild the (empty) state directory from a system backup, and exit",
		  "BACKUP-DIR" },
		{ "test-mode", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &test_mode, NULL, NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- ICS manager daemon");
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsClusterService) svc = NULL;
	g_autoptr(IcsManager) m = NULL;
	IcsFenceEvents *fencing = NULL; /* freed before m */
	g_autoptr(GMainLoop) loop = NULL;
	IcsManagerConfig cfg;

	setlocale(LC_ALL, "");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
		fprintf(stderr, "ics-managerd: %s\n", err->message);
		return 2;
	}
	if (authz_table) {
		g_autofree char *table = ics_authz_table_markdown();

		fputs(table, stdout);
		return 0;
	}
	if (with_cluster && no_cluster) {
		fprintf(stderr, "ics-managerd: --cluster and --no-cluster exclude each other\n");
		return 2;
	}
	ics_log_init("ics-managerd", foreground || restore ? ICS_LOG_STDERR : ICS_LOG_SYSLOG, ICS_LOG_INFO);
	ics_manager_config_init(&cfg);
	if (!ics_manager_config_load(&cfg, config ? config : ICS_MANAGER_DEFAULT_CONFIG,
				     config != NULL, &err))
		goto fail;
	if (state_dir) {
		g_free(cfg.state_dir);
		cfg.state_dir = g_strdup(state_dir);
	}
	if (listen && !ics_manager_config_set_listen(&cfg, listen, &err))
		goto fail;
	if (tls_names && !ics_manager_config_set_tls_names(&cfg, tls_names, &err))
		goto fail;
	cfg.insecure_http = insecure;
	cfg.test_mode = test_mode;
	if (restore) {
		if (!ics_system_backup_restore(restore, cfg.state_dir, &err))
			goto fail;
		printf("state directory %s restored from %s; start ics-managerd to serve it\n",
		       cfg.state_dir, restore);
		ics_manager_config_clear(&cfg);
		return 0;
	}
	if (!foreground && daemon(0, 0) != 0) {
		ics_error_set_errno(&err, errno, "cannot become a daemon");
		goto fail;
	}

	if (!no_cluster) {
		svc = ics_cluster_service_new(NULL, &err);
		if (svc == NULL) {
			if (with_cluster)
				goto fail;
			ics_notice("no cluster here (%s): running as an inventory only",
				   err->message);
			g_clear_error(&err);
		} else {
			ics_info("cluster adapter connected to the local CIB manager");
		}
	}
	m = ics_manager_new(&cfg, svc ? ics_cluster_service_ops(svc) : NULL, &err);
	if (m == NULL)
		goto fail;
	if (bootstrap) {
		g_autofree char *password = NULL;

		if (ics_manager_bootstrap_admin(m, &password, &err)) {
			/* Printed once, on stdout only: never logged. */
			printf("admin password: %s\n", password);
			fflush(stdout);
			explicit_bzero(password, strlen(password));
		} else if (g_error_matches(err, ICS_ERROR, ICS_ERROR_CONFLICT)) {
			ics_notice("--bootstrap-admin: %s", err->message);
			g_clear_error(&err);
		} else {
			goto fail;
		}
	}
	if (svc) {
		fencing = ics_fence_events_new(m->events, ics_cluster_service_ops(svc));
		ics_cluster_service_set_vm_listener(svc, ics_vm_mirror_changed, m->mirror);
		ics_cluster_service_set_node_listener(svc, ics_fence_events_node_changed, fencing);
	}
	if (!ics_manager_listen(m, &err))
		goto fail;
	loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, on_signal, loop);
	g_unix_signal_add(SIGINT, on_signal, loop);
	g_main_loop_run(loop);
	/* Unblock the task threads waiting on the cluster before the
	 * manager stops them; the adapter itself goes after the manager. */
	if (svc) {
		ics_cluster_service_set_vm_listener(svc, NULL, NULL);
		ics_cluster_service_set_node_listener(svc, NULL, NULL);
		ics_cluster_service_close(svc);
	}
	g_clear_pointer(&fencing, ics_fence_events_free);
	g_clear_pointer(&m, ics_manager_free);
	ics_manager_config_clear(&cfg);
	return 0;
fail:
	ics_error("%s", err->message);
	ics_manager_config_clear(&cfg);
	return 1;
}
