/*
 * cluster_summary.c: the cluster's health at a glance -- the summary
 * operation of IcsClusterOps (GET /api/v1/cluster).
 *
 * One read of the service's current snapshot, nothing cached, nothing
 * asked of another daemon: the DC and quorum as the CIB's writer has them,
 * hosts counted by state, VMs counted by state, and whether fencing is
 * configured -- the stonith-enabled and stonith-action properties
 * (Pacemaker's defaults when unset: true, reboot) and the stonith
 * primitives with where each is active.  "configured" means fencing is
 * enabled and at least one device is defined; whether a device would work
 * is Pacemaker's fencer's business (its history per host is on
 * GET /hosts/{name}).
 */
#include "config.h"

#include <string.h>

#include "cluster_service_internal.h"

static gboolean property_true(const IcsClusterSnapshot *snap, const char *name, gboolean dflt)
{
	const char *v = g_hash_table_lookup(snap->properties, name);

	if (v == NULL)
		return dflt;
	return g_ascii_strcasecmp(v, "true") == 0 || g_ascii_strcasecmp(v, "yes") == 0 ||
	       g_ascii_strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0 ||
	       g_ascii_strcasecmp(v, "y") == 0;
}

static void count(json_t *counts, const char *key)
{
	json_object_set_new(counts, key,
			    json_integer(json_integer_value(json_object_get(counts, key)) + 1));
}

static json_t *fencing(const IcsClusterSnapshot *snap)
{
	const char *action = g_hash_table_lookup(snap->properties, "stonith-action");
	gboolean enabled = property_true(snap, "stonith-enabled", TRUE);
	json_t *devices = json_array();

	for (guint i = 0; i < snap->resources->len; i++) {
		const IcsClusterResource *r = snap->resources->pdata[i];
		json_t *nodes;

		if (g_strcmp0(r->rsc_class, "stonith") != 0)
			continue;
		nodes = json_array();
		for (guint k = 0; k < r->nodes->len; k++)
			json_array_append_new(nodes, json_string(r->nodes->pdata[k]));
		json_array_append_new(devices,
				      json_pack("{s:s, s:s?, s:o, s:b}", "id", r->id, "type",
						r->type, "active_on", nodes, "failed", r->failed));
	}
	return json_pack("{s:b, s:s, s:b, s:o}", "enabled", enabled, "action",
			 action ? action : "reboot", "configured",
			 enabled && json_array_size(devices) > 0, "devices", devices);
}

json_t *ics_cluster_summary_json(void *self, GError **error)
{
	g_autoptr(IcsSnapRef) ref = ics_cluster_service_snap(self, error);
	const IcsClusterSnapshot *snap;
	json_t *hosts, *vms;

	if (ref == NULL)
		return NULL;
	snap = ref->snap;
	hosts = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "online", 0, "standby", 0,
			  "maintenance", 0, "pending", 0, "offline", 0, "unclean", 0);
	for (guint i = 0; i < snap->nodes->len; i++)
		count(hosts, ics_node_state_name(((IcsClusterNode *)snap->nodes->pdata[i])->state));
	vms = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "starting", 0, "running", 0, "stopped", 0,
			"migrating", 0, "failed", 0, "unknown", 0);
	for (guint i = 0; i < snap->vms->len; i++)
		count(vms, ics_cluster_vm_state_text(snap->vms->pdata[i]));
	return json_pack("{s:s?, s:b, s:I, s:{s:I, s:o}, s:{s:I, s:o}, s:o}", "dc", snap->dc,
			 "quorum", snap->quorum, "cib_epoch", (json_int_t)snap->epoch, "hosts",
			 "total", (json_int_t)snap->nodes->len, "by_state", hosts, "vms", "total",
			 (json_int_t)snap->vms->len, "by_state", vms, "fencing", fencing(snap));
}
