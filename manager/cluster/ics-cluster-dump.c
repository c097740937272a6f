/*
 * ics-cluster-dump: print what the cluster adapter sees, as JSON.
 *
 *   ics-cluster-dump                 snapshot of the live CIB
 *   ics-cluster-dump --cib FILE      snapshot of a CIB file (cibadmin -Q output)
 *   ics-cluster-dump --watch N       {"watching": true} once subscribed, then
 *                                    one line per CIB change notification, N
 *                                    of them or until the connection is lost
 *                                    (--timeout S to give up)
 *   ics-cluster-dump --stats NODE    libvirt statistics of NODE (--uri URI)
 *
 * A debugging aid for developers and the lab tests; not installed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "ics/cluster.h"
#include "ics/error.h"
#include "ics/json.h"
#include "ics/log.h"
#include "ics/xml.h"

typedef struct {
	GMainLoop *loop;
	int left;
	gboolean timed_out;
} WatchState;

static void print_json(json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);

	puts(text ? text : "null");
	free(text);
	fflush(stdout);
}

static void on_change(IcsCluster *cluster, IcsClusterChange what, gpointer user_data)
{
	WatchState *st = user_data;
	static const char *const names[] = { "nodes",	   "resources", "constraints",
					     "properties", "status",	"disconnected" };
	json_t *parts = json_array();
	char *text;

	(void)cluster;
	for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
		if (what & (1u << i))
			json_array_append_new(parts, json_string(names[i]));
	}
	{
		g_autoptr(json_t) line = json_pack("{s:o}", "change", parts);

		text = json_dumps(line, JSON_COMPACT);
		puts(text);
		free(text);
		fflush(stdout);
	}
	if (--st->left <= 0 || (what & ICS_CLUSTER_CHANGE_DISCONNECTED))
		g_main_loop_quit(st->loop);
}

static gboolean on_timeout(gpointer user_data)
{
	WatchState *st = user_data;

	st->timed_out = TRUE;
	g_main_loop_quit(st->loop);
	return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
	g_autofree char *cib_file = NULL, *stats_node = NULL, *uri = NULL;
	int watch = 0, timeout_s = 0;
	GOptionEntry entries[] = {
		{ "cib", 0, 0, G_OPTION_ARG_FILENAME, &cib_file, "Snapshot of a CIB file", "FILE" },
		{ "watch", 0, 0, G_OPTION_ARG_INT, &watch, "Print N change notifications", "N" },
		{ "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s, "Give up watching after S seconds",
		  "S" },
		{ "stats", 0, 0, G_OPTION_ARG_STRING, &stats_node, "libvirt statistics of a node",
		  "NODE" },
		{ "uri", 0, 0, G_OPTION_ARG_STRING, &uri, "libvirt URI for --stats", "URI" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- print the cluster adapter's view");
	g_autoptr(GError) error = NULL;

	ics_log_init("ics-cluster-dump", ICS_LOG_STDERR, ICS_LOG_WARNING);
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		fprintf(stderr, "ics-cluster-dump: %s\n", error->message);
		return 2;
	}

	if (stats_node) {
		g_autoptr(IcsNodeStats) s = ics_cluster_node_stats(stats_node, uri, &error);
		g_autoptr(json_t) j = NULL;

		if (s == NULL)
			goto fail;
		j = ics_node_stats_to_json(s);
		print_json(j);
		return 0;
	}
	if (cib_file) {
		g_autoptr(xmlDoc) cib = ics_xml_parse_file(cib_file, &error);
		g_autoptr(IcsClusterSnapshot) snap = NULL;
		g_autoptr(json_t) j = NULL;

		if (cib == NULL)
			goto fail;
		snap = ics_cluster_snapshot_from_cib(cib, &error);
		if (snap == NULL)
			goto fail;
		j = ics_cluster_snapshot_to_json(snap);
		print_json(j);
		return 0;
	}
	{
		g_autoptr(IcsCluster) cluster = ics_cluster_connect(&error);

		if (cluster == NULL)
			goto fail;
		if (watch > 0) {
			WatchState st = { g_main_loop_new(NULL, FALSE), watch, FALSE };

			if (ics_cluster_watch(cluster, on_change, &st, &error) == 0) {
				g_main_loop_unref(st.loop);
				goto fail;
			}
			/* Subscribed: what follows is every change from now on. */
			puts("{\"watching\": true}");
			fflush(stdout);
			if (timeout_s > 0)
				g_timeout_add_seconds((guint)timeout_s, on_timeout, &st);
			g_main_loop_run(st.loop);
			g_main_loop_unref(st.loop);
			return st.timed_out ? 1 : 0;
		} else {
			g_autoptr(IcsClusterSnapshot) snap = ics_cluster_snapshot(cluster, &error);
			g_autoptr(json_t) j = NULL;

			if (snap == NULL)
				goto fail;
			j = ics_cluster_snapshot_to_json(snap);
			print_json(j);
			return 0;
		}
	}
fail:
	fprintf(stderr, "ics-cluster-dump: %s\n", error->message);
	return 1;
}
