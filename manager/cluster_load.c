/*
 * cluster_load.c: the load DRS balances -- the load operation of
 * IcsClusterOps.
 *
 * Where VMs run and what size Pacemaker knows them to be (the utilization
 * ICS writes on every VM primitive: cpu = vcpus, memory = MiB) come from
 * the service's current snapshot; how big each host is and how much CPU
 * time each of its domains has used come from the host's libvirtd, asked
 * now (one connection per host, virConnectGetAllDomainStats).  Nothing is
 * remembered between calls: turning CPU time into CPU use is the caller's
 * business (it holds the previous sample).  A host that takes part in
 * balancing and whose libvirtd does not answer fails the whole reading, so
 * DRS never plans on a half-known cluster.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"

#include "cluster_service_internal.h"

static const char *host_state(const IcsClusterNode *n)
{
	switch (n->state) {
	case ICS_NODE_ONLINE:
		return "on";
	case ICS_NODE_STANDBY:
		return "maintenance";
	case ICS_NODE_OFFLINE:
		return "off";
	case ICS_NODE_MAINTENANCE: /* resources unmanaged: nothing may move */
	case ICS_NODE_PENDING:
	case ICS_NODE_UNCLEAN:
		break;
	}
	return "unavailable";
}

static gint64 utilization(const IcsClusterVm *vm, const char *name)
{
	const char *v = vm->resource->utilization
				? g_hash_table_lookup(vm->resource->utilization, name)
				: NULL;
	guint64 n;

	if (v == NULL || !g_ascii_string_to_unsigned(v, 10, 1, G_MAXINT32, &n, NULL))
		return 0;
	return (gint64)n;
}

static const IcsDomainStats *domain(const IcsNodeStats *st, const char *uuid)
{
	for (guint i = 0; st && i < st->domains->len; i++) {
		const IcsDomainStats *d = st->domains->pdata[i];

		if (d->uuid && g_ascii_strcasecmp(d->uuid, uuid) == 0)
			return d;
	}
	return NULL;
}

json_t *ics_cluster_load_json(void *self, GError **error)
{
	IcsClusterService *svc = self;
	const IcsClusterServiceConfig *cfg = ics_cluster_service_config(svc);
	g_autoptr(IcsSnapRef) ref = ics_cluster_service_snap(svc, error);
	g_autoptr(GHashTable) stats = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
							    (GDestroyNotify)ics_node_stats_free);
	g_autoptr(json_t) hosts = json_array(), vms = json_array();

	if (ref == NULL)
		return NULL;
	/* Hosts first: every host that runs VMs or may take them is asked. */
	for (guint i = 0; i < ref->snap->nodes->len; i++) {
		const IcsClusterNode *n = ref->snap->nodes->pdata[i];
		const char *state = host_state(n);
		json_t *h = json_pack("{s:s, s:s}", "name", n->name, "state", state);

		if (g_str_equal(state, "on") || g_str_equal(state, "maintenance")) {
			IcsNodeStats *st = ics_cluster_node_stats(n->name, cfg->stats_uri, error);

			if (st == NULL) {
				json_decref(h);
				ics_error_prefix(error, "DRS load of host %s: ", n->name);
				return NULL;
			}
			g_hash_table_insert(stats, n->name, st);
			json_object_set_new(h, "cpus", json_integer(st->cpus));
			json_object_set_new(
				h, "memory_mib",
				json_integer((json_int_t)(st->memory_total_kib / 1024)));
		}
		json_array_append_new(hosts, h);
	}
	for (guint i = 0; i < ref->snap->vms->len; i++) {
		const IcsClusterVm *vm = ref->snap->vms->pdata[i];
		const IcsNodeStats *st;
		const IcsDomainStats *d;
		gint64 vcpus = utilization(vm, "cpu"), mem = utilization(vm, "memory");

		if ((vm->state != ICS_VM_RUNNING && vm->state != ICS_VM_MIGRATING) ||
		    vm->uuid == NULL || vm->node == NULL)
			continue;
		st = g_hash_table_lookup(stats, vm->node);
		if (st == NULL) /* on a host left out of balancing */
			continue;
		d = domain(st, vm->uuid);
		if (vcpus == 0)
			vcpus = d && d->vcpus ? d->vcpus : 1;
		if (mem == 0)
			mem = d ? (gint64)(d->memory_max_kib / 1024) : 0;
		if (mem == 0)
			continue; /* size unknown: nothing to plan with */
		json_array_append_new(
			vms, json_pack("{s:s, s:s, s:I, s:I, s:b, s:I, s:I}", "uuid", vm->uuid,
				       "host", vm->node, "vcpus", (json_int_t)vcpus, "memory_mib",
				       (json_int_t)mem, "migrating",
				       vm->state == ICS_VM_MIGRATING || d == NULL, "cpu_time_ns",
				       (json_int_t)(d ? d->cpu_time_ns : 0), "memory_used_mib",
				       (json_int_t)(d ? MIN((gint64)(d->memory_kib / 1024), mem)
						      : mem)));
	}
	return json_pack("{s:O, s:O}", "hosts", hosts, "vms", vms);
}
