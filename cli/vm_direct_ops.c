/*
 * vm_direct_ops.c: `ics-admin vm` directly on this node's cluster -- the
 * functions of vm_direct.c as vm_ops.h's operations, their records in the
 * common form, and the two operations that act on the guest itself
 * (reboot, console) on the node where it runs.
 *
 * States: crm_mon's role becomes the manager's word (Started running,
 * Stopped stopped, Migrating migrating, anything else unknown); a
 * definition without a primitive, or a primitive without its definition,
 * is broken, with why.  "role" keeps Pacemaker's word.
 *
 * A guest reboot needs the libvirtd of the node that runs the VM, and only
 * this node's is at hand without the manager: reboot runs `virsh reboot`
 * when the VM runs here and otherwise says where to run it.
 */
#include "config.h"

#include "vm_ops.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"
#include "ics/lock.h"

#define LOCAL_LIBVIRT_URI "qemu:///system"

void ics_admin_define_set_pool(IcsAdminDefine *req, const char *pool_path)
{
	json_t *disks = json_object_get(req->definition, "disks");
	json_t *d;
	size_t i;

	g_free(req->pool_path);
	req->pool_path = g_canonicalize_filename(pool_path, NULL);
	json_array_foreach(disks, i, d)
	{
		const char *path = json_string_value(json_object_get(d, "path"));

		if (path && !g_path_is_absolute(path)) {
			g_autofree char *abs = g_canonicalize_filename(path, req->pool_path);

			json_object_set_new(d, "path", json_string(abs));
		}
	}
}

static gint cmp_record(gconstpointer a, gconstpointer b)
{
	const json_t *ra = *(json_t *const *)a, *rb = *(json_t *const *)b;
	int c = g_strcmp0(json_string_value(json_object_get(ra, "name")),
			  json_string_value(json_object_get(rb, "name")));

	return c ? c
		 : g_strcmp0(json_string_value(json_object_get(ra, "uuid")),
			     json_string_value(json_object_get(rb, "uuid")));
}

void ics_admin_vm_records_sort(json_t *records)
{
	g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func((GDestroyNotify)json_decref);
	json_t *r;
	size_t i;

	json_array_foreach(records, i, r) g_ptr_array_add(all, json_incref(r));
	g_ptr_array_sort(all, cmp_record);
	json_array_clear(records);
	for (i = 0; i < all->len; i++)
		json_array_append(records, all->pdata[i]);
}

/* vm_direct.c's record @r into the common form (in place). */
static json_t *normalize(json_t *r)
{
	const char *role = json_string_value(json_object_get(r, "state"));
	const char *state = "unknown";

	if (r == NULL)
		return NULL;
	if (g_strcmp0(role, "Started") == 0)
		state = "running";
	else if (g_strcmp0(role, "Stopped") == 0)
		state = "stopped";
	else if (g_strcmp0(role, "Migrating") == 0)
		state = "migrating";
	if (g_strcmp0(role, "not-in-cib") == 0) {
		state = "broken";
		json_object_set_new(r, "broken",
				    json_string("defined on the pool but has no ocf:ics:vm "
						"primitive in the CIB"));
		json_object_set_new(r, "role", json_null());
	} else {
		json_object_set_new(r, "role", json_string(role ? role : "Unknown"));
	}
	if (json_is_null(json_object_get(r, "name")) || !json_object_get(r, "name")) {
		state = "broken";
		json_object_set_new(r, "broken",
				    json_string("its definition is missing or unreadable on the "
						"pool"));
	}
	json_object_set_new(r, "state", json_string(state));
	if (json_object_get(r, "node") == NULL)
		json_object_set_new(r, "node", json_null());
	json_object_set_new(r, "owner", json_null());
	return r;
}

/* The path of pool @pool: a path as it is, a name looked up on the pools
 * of this node (.ics/pool.json). */
static char *pool_path_of(IcsAdmin *adm, const char *pool, GError **error)
{
	g_autoptr(GPtrArray) pools = NULL;
	const char *saved = adm->pool;

	if (strchr(pool, '/'))
		return g_canonicalize_filename(pool, NULL);
	adm->pool = NULL;
	pools = ics_admin_pools(adm, error);
	adm->pool = saved;
	if (pools == NULL)
		return NULL;
	for (guint i = 0; i < pools->len; i++) {
		g_autoptr(IcsPool) p = ics_pool_open(pools->pdata[i], NULL, NULL);

		if (p && g_strcmp0(ics_pool_name(p), pool) == 0)
			return g_strdup(pools->pdata[i]);
	}
	g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
		    "no pool named \"%s\" on this node; give its path with --pool PATH", pool);
	return NULL;
}

static json_t *direct_list(gpointer self, const char *pool, GError **error)
{
	IcsAdmin *adm = self;
	g_autofree char *path = NULL;
	json_t *recs, *r;
	size_t i;

	if (pool && (path = pool_path_of(adm, pool, error)) == NULL)
		return NULL;
	adm->pool = path;
	recs = ics_admin_vm_list(adm, error);
	adm->pool = NULL;
	json_array_foreach(recs, i, r) normalize(r);
	if (recs)
		ics_admin_vm_records_sort(recs);
	return recs;
}

static json_t *direct_show(gpointer self, const char *ref, GError **error)
{
	return normalize(ics_admin_vm_show(self, ref, error));
}

static json_t *direct_define(gpointer self, IcsAdminDefine *req, const char *owner, GError **error)
{
	IcsAdmin *adm = self;

	if (owner) {
		ics_error_invalid(error, "vm define: --owner needs the manager (owners live in its "
					 "inventory); leave out --direct");
		return NULL;
	}
	if (req->pool_path == NULL) {
		g_autofree char *path = NULL;

		if (req->pool_name) {
			path = pool_path_of(adm, req->pool_name, error);
		} else {
			g_autoptr(GPtrArray) pools = ics_admin_pools(adm, error);

			if (pools == NULL)
				return NULL;
			if (pools->len != 1) {
				ics_error_invalid(
					error,
					"vm define: this node has %u pools; say which one "
					"with --pool NAME|PATH",
					pools->len);
				return NULL;
			}
			path = g_strdup(pools->pdata[0]);
		}
		if (path == NULL)
			return NULL;
		ics_admin_define_set_pool(req, path);
	}
	return normalize(ics_admin_vm_define(adm, req, error));
}

static gboolean direct_remove(gpointer self, const char *ref, gboolean force, guint wait_s,
			      GError **error)
{
	return ics_admin_vm_undefine(self, ref, force, wait_s ? wait_s : ICS_ADMIN_DEFAULT_WAIT_S,
				     error);
}

/* This node's name in the cluster. */
static char *local_node(IcsAdmin *adm, GError **error)
{
	const char *argv[] = { "crm_node", "--name", NULL };
	char *out = NULL;

	if (!ics_cib_run_tool(&adm->cib, argv, &out, error))
		return NULL;
	g_strstrip(out);
	return out;
}

static gboolean direct_reboot(IcsAdmin *adm, const char *ref, GError **error)
{
	g_autoptr(json_t) vm = direct_show(adm, ref, error);
	g_autofree char *here = NULL;
	const char *node, *uuid;

	if (vm == NULL)
		return FALSE;
	node = json_string_value(json_object_get(vm, "node"));
	uuid = json_string_value(json_object_get(vm, "uuid"));
	if (g_strcmp0(json_string_value(json_object_get(vm, "state")), "running") != 0 ||
	    node == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT, "vm %s is not running", ref);
		return FALSE;
	}
	if ((here = local_node(adm, error)) == NULL)
		return FALSE;
	if (!g_str_equal(here, node)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "vm %s runs on %s: a guest reboot without the manager needs that "
			    "node's libvirtd; run the command there, or through the manager",
			    ref, node);
		return FALSE;
	}
	{
		const char *argv[] = { "virsh", "-c", LOCAL_LIBVIRT_URI, "reboot", uuid, NULL };

		return ics_cib_run_tool(&adm->cib, argv, NULL, error);
	}
}

static gboolean direct_power(gpointer self, const char *ref, const IcsAdminVmPower *p,
			     GError **error)
{
	IcsAdmin *adm = self;

	switch (p->action) {
	case ICS_ADMIN_VM_START:
	case ICS_ADMIN_VM_STOP:
		if (p->force)
			return ics_error_invalid(error,
						 "vm stop --force (power off without a guest "
						 "shutdown) needs the manager; leave out "
						 "--direct");
		return ics_admin_vm_set_running(adm, ref, p->action == ICS_ADMIN_VM_START,
						p->wait_s, error);
	case ICS_ADMIN_VM_MIGRATE:
		return ics_admin_vm_migrate(adm, ref, p->node, p->keep_constraint || p->wait_s == 0,
					    p->wait_s, error);
	case ICS_ADMIN_VM_REBOOT:
		return direct_reboot(adm, ref, error);
	}
	g_assert_not_reached();
}

static json_t *direct_console(gpointer self, const char *ref, GError **error)
{
	g_autoptr(json_t) vm = direct_show(self, ref, error);
	json_t *serial = json_array();
	json_t *out;

	if (vm == NULL) {
		json_decref(serial);
		return NULL;
	}
	if (g_strcmp0(json_string_value(json_object_get(vm, "state")), "running") != 0) {
		json_decref(serial);
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT, "vm %s is not running", ref);
		return NULL;
	}
	if (json_is_true(json_object_get(json_object_get(vm, "definition"), "serial_console")))
		json_array_append_new(serial, json_pack("{s:s, s:s}", "port", "0", "type", "pty"));
	out = json_pack("{s:O, s:O, s:s, s:o, s:[]}", "uuid", json_object_get(vm, "uuid"), "host",
			json_object_get(vm, "node"), "libvirt_uri", LOCAL_LIBVIRT_URI, "serial",
			serial, "graphics");
	return out;
}

const IcsAdminVmOps ics_admin_vm_direct_ops = {
	.name = "direct",
	.list = direct_list,
	.show = direct_show,
	.define = direct_define,
	.remove = direct_remove,
	.power = direct_power,
	.console = direct_console,
};
