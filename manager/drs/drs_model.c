/*
 * drs_model.c: the cluster state the engine plans on.
 *
 * A cluster is built object by object, hosts first, then VMs on them, then
 * rules over them; every builder checks what it is given, so a cluster that
 * exists is consistent except for what only the whole can tell (rules that
 * contradict each other), which ics_drs_cluster_validate() checks.  Objects
 * are stored in input order and addressed by index: the planner works on
 * integer arrays, names are for the edges.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "drs_internal.h"

/* Sizes beyond these are typos, and keeping them bounded keeps every sum
 * of a cluster far from overflowing. */
#define MAX_CORES 65536
#define MAX_MEM_MIB (G_GINT64_CONSTANT(1) << 32) /* 4 PiB */
#define MAX_VCPUS 65536

static void host_clear(gpointer p)
{
	DrsHost *h = p;

	g_free(h->name);
}

static void vm_clear(gpointer p)
{
	DrsVm *v = p;

	g_free(v->name);
	if (v->groups)
		g_array_free(v->groups, TRUE);
	if (v->pinned)
		g_array_free(v->pinned, TRUE);
}

static void rule_clear(gpointer p)
{
	DrsRule *r = p;

	g_free(r->name);
	g_array_free(r->vms, TRUE);
}

IcsDrsCluster *ics_drs_cluster_new(void)
{
	IcsDrsCluster *c = g_new0(IcsDrsCluster, 1);

	c->hosts = g_array_new(FALSE, TRUE, sizeof(DrsHost));
	g_array_set_clear_func(c->hosts, host_clear);
	c->vms = g_array_new(FALSE, TRUE, sizeof(DrsVm));
	g_array_set_clear_func(c->vms, vm_clear);
	c->rules = g_array_new(FALSE, TRUE, sizeof(DrsRule));
	g_array_set_clear_func(c->rules, rule_clear);
	c->host_index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	c->vm_index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	c->rule_index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return c;
}

void ics_drs_cluster_free(IcsDrsCluster *c)
{
	if (!c)
		return;
	g_array_free(c->hosts, TRUE);
	g_array_free(c->vms, TRUE);
	g_array_free(c->rules, TRUE);
	g_hash_table_destroy(c->host_index);
	g_hash_table_destroy(c->vm_index);
	g_hash_table_destroy(c->rule_index);
	g_free(c);
}

static gboolean lookup(GHashTable *index, const char *name, guint *out)
{
	gpointer v = g_hash_table_lookup(index, name);

	if (!v)
		return FALSE;
	if (out)
		*out = GPOINTER_TO_UINT(v) - 1;
	return TRUE;
}

gboolean ics_drs_host_lookup(const IcsDrsCluster *c, const char *name, guint *out)
{
	return lookup(c->host_index, name, out);
}

gboolean ics_drs_vm_lookup(const IcsDrsCluster *c, const char *name, guint *out)
{
	return lookup(c->vm_index, name, out);
}

/* Names appear in plans, JSON and the file format: printable UTF-8 with no
 * tab, comma, '#' or space, so every output can be read back. */
static gboolean name_valid(const char *what, const char *name, GError **error)
{
	if (!name || !*name)
		return ics_error_invalid(error, "%s name is empty", what);
	if (strlen(name) > 255)
		return ics_error_invalid(error, "%s name \"%.32s...\" is longer than 255 bytes",
					 what, name);
	if (!g_utf8_validate(name, -1, NULL))
		return ics_error_invalid(error, "%s name is not valid UTF-8", what);
	for (const char *p = name; *p; p++) {
		if ((guchar)*p <= ' ' || *p == ',' || *p == '#' || *p == 0x7f)
			return ics_error_invalid(
				error,
				"%s name \"%s\" has a space, comma, '#' or control "
				"character",
				what, name);
	}
	return TRUE;
}

static gboolean size_valid(const char *what, const char *name, const char *field, gint64 v,
			   gint64 min, gint64 max, GError **error)
{
	if (v < min || v > max)
		return ics_error_invalid(error,
					 "%s \"%s\": %s %" G_GINT64_FORMAT
					 " is out of range %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT,
					 what, name, field, v, min, max);
	return TRUE;
}

gboolean ics_drs_cluster_add_host(IcsDrsCluster *c, const char *name, gint64 cores, gint64 mem_mib,
				  IcsDrsHostState state, GError **error)
{
	if (!name_valid("host", name, error) ||
	    !size_valid("host", name, "cores", cores, 1, MAX_CORES, error) ||
	    !size_valid("host", name, "memory (MiB)", mem_mib, 1, MAX_MEM_MIB, error))
		return FALSE;
	if (lookup(c->host_index, name, NULL))
		return ics_error_invalid(error, "host \"%s\" is defined twice", name);
	DrsHost h = { .name = g_strdup(name), .cores = cores, .mem_mib = mem_mib, .state = state };
	g_array_append_val(c->hosts, h);
	g_hash_table_insert(c->host_index, g_strdup(name), GUINT_TO_POINTER(c->hosts->len));
	return TRUE;
}

gboolean ics_drs_cluster_add_vm(IcsDrsCluster *c, const char *name, gint64 vcpus, gint64 mem_mib,
				gint64 cpu_used_milli, gint64 mem_used_mib, const char *host,
				GError **error)
{
	guint h;

	if (!name_valid("VM", name, error) ||
	    !size_valid("VM", name, "vcpus", vcpus, 1, MAX_VCPUS, error) ||
	    !size_valid("VM", name, "memory (MiB)", mem_mib, 1, MAX_MEM_MIB, error) ||
	    !size_valid("VM", name, "CPU use (millicores)", cpu_used_milli, 0, vcpus * 1000,
			error) ||
	    !size_valid("VM", name, "memory use (MiB)", mem_used_mib, 0, mem_mib, error))
		return FALSE;
	if (lookup(c->vm_index, name, NULL))
		return ics_error_invalid(error, "VM \"%s\" is defined twice", name);
	if (!lookup(c->host_index, host, &h))
		return ics_error_invalid(error, "VM \"%s\" runs on unknown host \"%s\"", name,
					 host);
	if (drs_host(c, h)->state == ICS_DRS_HOST_OFF)
		return ics_error_invalid(error, "VM \"%s\" runs on host \"%s\", which is off", name,
					 host);
	DrsVm v = { .name = g_strdup(name),
		    .vcpus = vcpus,
		    .mem_mib = mem_mib,
		    .cpu_used = cpu_used_milli,
		    .mem_used = mem_used_mib,
		    .host = h };
	g_array_append_val(c->vms, v);
	g_hash_table_insert(c->vm_index, g_strdup(name), GUINT_TO_POINTER(c->vms->len));
	return TRUE;
}

static gboolean array_has(const GArray *a, guint x)
{
	for (guint i = 0; a && i < a->len; i++) {
		if (g_array_index(a, guint, i) == x)
			return TRUE;
	}
	return FALSE;
}

gboolean ics_drs_cluster_add_rule(IcsDrsCluster *c, const char *group, IcsDrsRuleKind kind,
				  const char *const *vms, GError **error)
{
	g_autoptr(GArray) members = g_array_new(FALSE, FALSE, sizeof(guint));

	if (!name_valid("rule group", group, error))
		return FALSE;
	if (lookup(c->rule_index, group, NULL))
		return ics_error_invalid(error, "rule group \"%s\" is defined twice", group);
	for (guint i = 0; vms && vms[i]; i++) {
		guint v;
		if (!lookup(c->vm_index, vms[i], &v))
			return ics_error_invalid(error, "rule group \"%s\": unknown VM \"%s\"",
						 group, vms[i]);
		if (array_has(members, v))
			return ics_error_invalid(error,
						 "rule group \"%s\": VM \"%s\" is listed twice",
						 group, vms[i]);
		g_array_append_val(members, v);
	}
	if (members->len < 2)
		return ics_error_invalid(error, "rule group \"%s\" needs at least two VMs", group);

	guint r = c->rules->len;
	for (guint i = 0; i < members->len; i++) {
		DrsVm *v = drs_vm(c, g_array_index(members, guint, i));
		if (!v->groups)
			v->groups = g_array_new(FALSE, FALSE, sizeof(guint));
		g_array_append_val(v->groups, r);
	}
	DrsRule rule = { .name = g_strdup(group), .kind = kind, .vms = g_steal_pointer(&members) };
	g_array_append_val(c->rules, rule);
	g_hash_table_insert(c->rule_index, g_strdup(group), GUINT_TO_POINTER(c->rules->len));
	return TRUE;
}

gboolean ics_drs_cluster_pin(IcsDrsCluster *c, const char *vm, const char *const *hosts,
			     GError **error)
{
	g_autoptr(GArray) allowed = g_array_new(FALSE, FALSE, sizeof(guint));
	guint v;

	if (!lookup(c->vm_index, vm, &v))
		return ics_error_invalid(error, "pinning of unknown VM \"%s\"", vm);
	if (drs_vm(c, v)->pinned)
		return ics_error_invalid(error, "VM \"%s\" is pinned twice", vm);
	for (guint i = 0; hosts && hosts[i]; i++) {
		guint h;
		if (!lookup(c->host_index, hosts[i], &h))
			return ics_error_invalid(
				error, "VM \"%s\" is pinned to unknown host \"%s\"", vm, hosts[i]);
		if (!array_has(allowed, h))
			g_array_append_val(allowed, h);
	}
	if (allowed->len == 0)
		return ics_error_invalid(error, "VM \"%s\" is pinned to no host", vm);
	drs_vm(c, v)->pinned = g_steal_pointer(&allowed);
	return TRUE;
}

gboolean drs_vm_may_run_on(const DrsVm *v, guint host)
{
	return !v->pinned || array_has(v->pinned, host);
}

/* Hosts (that take VMs) every member of @r may run on, counted. */
static guint rule_hosts_all_allow(const IcsDrsCluster *c, const DrsRule *r)
{
	guint n = 0;

	for (guint h = 0; h < c->hosts->len; h++) {
		gboolean ok = drs_host(c, h)->state != ICS_DRS_HOST_OFF;
		for (guint i = 0; ok && i < r->vms->len; i++)
			ok = drs_vm_may_run_on(drs_vm(c, g_array_index(r->vms, guint, i)), h);
		n += ok;
	}
	return n;
}

/* Hosts (not off) at least one member of @r may run on. */
static guint rule_hosts_any_allow(const IcsDrsCluster *c, const DrsRule *r)
{
	guint n = 0;

	for (guint h = 0; h < c->hosts->len; h++) {
		gboolean ok = FALSE;
		if (drs_host(c, h)->state == ICS_DRS_HOST_OFF)
			continue;
		for (guint i = 0; !ok && i < r->vms->len; i++)
			ok = drs_vm_may_run_on(drs_vm(c, g_array_index(r->vms, guint, i)), h);
		n += ok;
	}
	return n;
}

gboolean ics_drs_cluster_validate(const IcsDrsCluster *c, GError **error)
{
	for (guint i = 0; i < c->rules->len; i++) {
		const DrsRule *a = drs_rule(c, i);
		if (a->kind == ICS_DRS_AFFINITY && rule_hosts_all_allow(c, a) == 0) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "affinity group \"%s\": its VMs' pinnings share no host",
				    a->name);
			return FALSE;
		}
		if (a->kind == ICS_DRS_ANTI_AFFINITY && rule_hosts_any_allow(c, a) < a->vms->len) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "anti-affinity group \"%s\" has %u VMs but they may run on "
				    "only %u hosts",
				    a->name, a->vms->len, rule_hosts_any_allow(c, a));
			return FALSE;
		}
		if (a->kind != ICS_DRS_AFFINITY)
			continue;
		for (guint j = 0; j < c->rules->len; j++) {
			const DrsRule *b = drs_rule(c, j);
			guint common = 0;
			if (b->kind != ICS_DRS_ANTI_AFFINITY)
				continue;
			for (guint k = 0; k < b->vms->len; k++)
				common += array_has(a->vms, g_array_index(b->vms, guint, k));
			if (common >= 2) {
				g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
					    "affinity group \"%s\" and anti-affinity group \"%s\" "
					    "share "
					    "%u VMs: they cannot be both together and apart",
					    a->name, b->name, common);
				return FALSE;
			}
		}
	}
	return TRUE;
}

guint ics_drs_cluster_n_hosts(const IcsDrsCluster *c)
{
	return c->hosts->len;
}

guint ics_drs_cluster_n_vms(const IcsDrsCluster *c)
{
	return c->vms->len;
}

const char *ics_drs_host_name(const IcsDrsCluster *c, guint host)
{
	return drs_host(c, host)->name;
}

IcsDrsHostState ics_drs_host_state(const IcsDrsCluster *c, guint host)
{
	return drs_host(c, host)->state;
}

const char *ics_drs_vm_name(const IcsDrsCluster *c, guint vm)
{
	return drs_vm(c, vm)->name;
}

guint ics_drs_vm_host(const IcsDrsCluster *c, guint vm)
{
	return drs_vm(c, vm)->host;
}

void ics_drs_cluster_move(IcsDrsCluster *c, guint vm, guint host)
{
	g_return_if_fail(vm < c->vms->len && host < c->hosts->len);
	drs_vm(c, vm)->host = host;
}

void ics_drs_cluster_set_host_state(IcsDrsCluster *c, guint host, IcsDrsHostState state)
{
	g_return_if_fail(host < c->hosts->len);
	drs_host(c, host)->state = state;
}
