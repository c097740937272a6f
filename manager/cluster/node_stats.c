/*
 * node_stats.c: host and domain statistics from a node's libvirtd.
 *
 * The manager samples every node for DRS and the console.  It asks the
 * node's own libvirtd over the network (qemu+tcp://<node>/system, opened
 * read-only: statistics never need more), so what it reports is what the
 * hypervisor sees at that moment, not a copy kept by ICS.
 *
 * One connection per sample: the manager samples every few seconds, a
 * connection costs a TCP handshake, and a cached one would need its own
 * reconnect logic for nodes that reboot.  Domain figures come from one
 * virConnectGetAllDomainStats() call (state, total CPU time, balloon,
 * vCPUs) rather than a call per domain; only a driver that leaves a group
 * out gets the basic virDomainGetInfo() for that domain.  Host CPU times that the driver
 * cannot give are reported as 0, not as an error: memory and domains are
 * still worth having.
 *
 * libvirt reports errors through a global handler that prints to stderr
 * by default; it is silenced once, and the last error's message goes into
 * the GError instead.
 */
#include "config.h"

#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "cluster_internal.h"
#include "ics/error.h"
#include "ics/json.h"

static void silent(void *user, virErrorPtr err)
{
	(void)user;
	(void)err;
}

static void set_virt_error(GError **error, IcsErrorCode code, const char *node, const char *what)
{
	const char *msg = virGetLastErrorMessage();

	g_set_error(error, ICS_ERROR, code, "node %s: %s: %s", node, what,
		    msg ? msg : "unknown libvirt error");
}

char *ics_node_libvirt_uri(const char *node)
{
	return g_strdup_printf("qemu+tcp://%s/system", node);
}

static void domain_free(gpointer p)
{
	IcsDomainStats *d = p;

	g_free(d->name);
	g_free(d->uuid);
	g_free(d);
}

void ics_node_stats_free(IcsNodeStats *stats)
{
	if (stats == NULL)
		return;
	g_free(stats->node);
	g_free(stats->hostname);
	if (stats->domains)
		g_ptr_array_unref(stats->domains);
	g_free(stats);
}

static void host_cpu(virConnectPtr conn, IcsNodeStats *s)
{
	int n = 0;
	g_autofree virNodeCPUStatsPtr params = NULL;

	if (virNodeGetCPUStats(conn, VIR_NODE_CPU_STATS_ALL_CPUS, NULL, &n, 0) != 0 || n <= 0)
		return;
	params = g_new0(virNodeCPUStats, n);
	if (virNodeGetCPUStats(conn, VIR_NODE_CPU_STATS_ALL_CPUS, params, &n, 0) != 0)
		return;
	for (int i = 0; i < n; i++) {
		if (strcmp(params[i].field, VIR_NODE_CPU_STATS_KERNEL) == 0 ||
		    strcmp(params[i].field, VIR_NODE_CPU_STATS_USER) == 0)
			s->cpu_time_ns += params[i].value;
		else if (strcmp(params[i].field, VIR_NODE_CPU_STATS_IDLE) == 0)
			s->cpu_idle_ns = params[i].value;
	}
}

static guint64 typed_ull(const virTypedParameterPtr params, int n, const char *name)
{
	unsigned long long v = 0;

	if (virTypedParamsGetULLong(params, n, name, &v) == 1)
		return v;
	return 0;
}

static IcsDomainStats *domain_stats(virDomainStatsRecordPtr rec)
{
	IcsDomainStats *d = g_new0(IcsDomainStats, 1);
	char uuid[VIR_UUID_STRING_BUFLEN] = "";
	int state = 0;
	unsigned int vcpus = 0;

	d->name = g_strdup(virDomainGetName(rec->dom));
	if (virDomainGetUUIDString(rec->dom, uuid) == 0)
		d->uuid = g_strdup(uuid);
	if (virTypedParamsGetInt(rec->params, rec->nparams, "state.state", &state) == 1)
		d->active = state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_PAUSED ||
			    state == VIR_DOMAIN_BLOCKED;
	d->cpu_time_ns = typed_ull(rec->params, rec->nparams, "cpu.time");
	d->memory_kib = typed_ull(rec->params, rec->nparams, "balloon.current");
	d->memory_max_kib = typed_ull(rec->params, rec->nparams, "balloon.maximum");
	if (virTypedParamsGetUInt(rec->params, rec->nparams, "vcpu.current", &vcpus) == 1)
		d->vcpus = vcpus;
	/* A driver that leaves groups out (the test driver gives only the
	 * state): the basic per-domain call fills what is missing. */
	if (d->cpu_time_ns == 0 || d->memory_max_kib == 0 || d->vcpus == 0) {
		virDomainInfo info;

		if (virDomainGetInfo(rec->dom, &info) == 0) {
			if (d->cpu_time_ns == 0)
				d->cpu_time_ns = info.cpuTime;
			if (d->memory_max_kib == 0)
				d->memory_max_kib = info.maxMem;
			if (d->memory_kib == 0)
				d->memory_kib = info.memory;
			if (d->vcpus == 0)
				d->vcpus = info.nrVirtCpu;
		}
	}
	if (d->memory_kib == 0)
		d->memory_kib = d->memory_max_kib;
	return d;
}

IcsNodeStats *ics_cluster_node_stats(const char *node, const char *uri, GError **error)
{
	static gsize silenced;
	g_autofree char *own_uri = NULL;
	g_autoptr(IcsNodeStats) s = NULL;
	virConnectPtr conn;
	virNodeInfo info;
	virDomainStatsRecordPtr *records = NULL;
	unsigned long long free_bytes;
	char *host;
	int n;

	if (g_once_init_enter(&silenced)) {
		virSetErrorFunc(NULL, silent);
		g_once_init_leave(&silenced, 1);
	}
	if (node == NULL) {
		ics_error_invalid(error, "node stats: no node given");
		return NULL;
	}
	if (uri == NULL)
		uri = own_uri = ics_node_libvirt_uri(node);
	conn = virConnectOpenReadOnly(uri);
	if (conn == NULL) {
		g_autofree char *what = g_strdup_printf("cannot reach libvirtd at %s", uri);

		set_virt_error(error, ICS_ERROR_UNAVAILABLE, node, what);
		return NULL;
	}
	s = g_new0(IcsNodeStats, 1);
	s->node = g_strdup(node);
	s->domains = g_ptr_array_new_with_free_func(domain_free);
	host = virConnectGetHostname(conn);
	s->hostname = g_strdup(host);
	free(host);
	if (virNodeGetInfo(conn, &info) != 0) {
		set_virt_error(error, ICS_ERROR_IO, node, "cannot read host information");
		virConnectClose(conn);
		return NULL;
	}
	s->cpus = info.cpus;
	s->memory_total_kib = info.memory;
	free_bytes = virNodeGetFreeMemory(conn);
	s->memory_free_kib = free_bytes / 1024;
	host_cpu(conn, s);

	n = virConnectGetAllDomainStats(conn,
					VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL |
						VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_VCPU,
					&records, 0);
	if (n < 0) {
		set_virt_error(error, ICS_ERROR_IO, node, "cannot read domain statistics");
		virConnectClose(conn);
		return NULL;
	}
	for (int i = 0; i < n; i++)
		g_ptr_array_add(s->domains, domain_stats(records[i]));
	virDomainStatsRecordListFree(records);
	virConnectClose(conn);
	return g_steal_pointer(&s);
}

json_t *ics_node_stats_to_json(const IcsNodeStats *s)
{
	json_t *domains = json_array();

	for (guint i = 0; i < s->domains->len; i++) {
		const IcsDomainStats *d = g_ptr_array_index(s->domains, i);

		json_array_append_new(
			domains, json_pack("{s:s, s:s?, s:b, s:I, s:i, s:I, s:I}", "name", d->name,
					   "uuid", d->uuid, "active", d->active, "cpu_time_ns",
					   (json_int_t)d->cpu_time_ns, "vcpus", (int)d->vcpus,
					   "memory_kib", (json_int_t)d->memory_kib,
					   "memory_max_kib", (json_int_t)d->memory_max_kib));
	}
	return json_pack("{s:s, s:s?, s:i, s:I, s:I, s:I, s:I, s:o}", "node", s->node, "hostname",
			 s->hostname, "cpus", (int)s->cpus, "cpu_time_ns",
			 (json_int_t)s->cpu_time_ns, "cpu_idle_ns", (json_int_t)s->cpu_idle_ns,
			 "memory_total_kib", (json_int_t)s->memory_total_kib, "memory_free_kib",
			 (json_int_t)s->memory_free_kib, "domains", domains);
}
