/*
 * vm_managed.c: `ics-admin vm` through ics-managerd -- vm_ops.h's
 * operations as REST requests (self: an IcsRest).
 *
 * The manager decides everything: validation, permissions, ownership,
 * placement; this file maps requests to calls and the manager's VMs to the
 * common records.  A VM is named by uuid or by name; a name is looked up in
 * the (paged) list the caller may see.  Power operations are the manager's
 * tasks, waited for with progress on a terminal unless the caller does not
 * wait.  A pool given by name is looked up in the manager's pools, so that
 * relative disk paths mean the same as directly.
 */
#include "config.h"

#include "vm_ops.h"

#include <string.h>

#include "api_cmd.h"
#include "ics/error.h"
#include "ics/json.h"

/* The manager's VM (a list item or a whole VM) as a record. */
static json_t *record_of(const json_t *vm)
{
	const json_t *rt = json_object_get(vm, "runtime");
	const json_t *broken = json_object_get(vm, "broken");
	const char *state = json_string_value(json_object_get(rt, "state"));
	json_t *r;

	if (json_is_string(broken))
		state = "broken";
	r = json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:s, s:O?}", "uuid",
		      json_object_get(vm, "uuid"), "name", json_object_get(vm, "name"), "pool",
		      json_object_get(rt, "pool"), "vcpus", json_object_get(vm, "vcpus"),
		      "memory_mib", json_object_get(vm, "memory_mib"), "owner",
		      json_object_get(vm, "owner"), "state", state ? state : "unknown", "node",
		      json_object_get(rt, "host"));
	for (const char *const *k = (const char *const[]){ "pool", "owner", "node", NULL }; *k; k++)
		if (json_object_get(r, *k) == NULL)
			json_object_set_new(r, *k, json_null());
	if (json_is_string(broken))
		json_object_set(r, "broken", (json_t *)broken);
	if (json_is_string(json_object_get(rt, "resource")))
		json_object_set(r, "resource", json_object_get(rt, "resource"));
	if (json_object_get(vm, "definition"))
		json_object_set(r, "definition", json_object_get(vm, "definition"));
	return r;
}

static json_t *get_vm(IcsRest *rest, const char *uuid, GError **error)
{
	g_autofree char *path = g_strconcat("/api/v1/vms/", uuid, NULL);

	return ics_rest_call(rest, "GET", path, NULL, NULL, error);
}

/* The path of the manager's pool @pool (a name, or a path it must know). */
static char *pool_path_of(IcsRest *rest, const char *pool, GError **error)
{
	g_autoptr(json_t) pools = ics_rest_call(rest, "GET", "/api/v1/pools", NULL, NULL, error);
	json_t *items, *p;
	size_t i;

	if (pools == NULL)
		return NULL;
	items = json_is_array(pools) ? pools : json_object_get(pools, "items");
	json_array_foreach(items, i, p)
	{
		const char *path = ics_admin_str(p, "path", NULL);

		if (path && (g_strcmp0(ics_admin_str(p, "name", NULL), pool) == 0 ||
			     g_strcmp0(path, pool) == 0))
			return g_strdup(path);
	}
	g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
		    "the manager has no pool \"%s\" ('ics-admin volume' and GET /api/v1/pools "
		    "list them)",
		    pool);
	return NULL;
}

static json_t *managed_list(gpointer self, const char *pool, GError **error)
{
	IcsRest *rest = self;
	g_autoptr(json_t) all = ics_admin_list_pages(rest, "/api/v1/vms", NULL, "after", 0, error);
	g_autofree char *pool_path = NULL;
	json_t *out, *vm;
	size_t i;

	if (all == NULL)
		return NULL;
	if (pool && (pool_path = pool_path_of(rest, pool, error)) == NULL)
		return NULL;
	out = json_array();
	json_array_foreach(json_object_get(all, "items"), i, vm)
	{
		json_t *r = record_of(vm);

		if (pool_path &&
		    g_strcmp0(json_string_value(json_object_get(r, "pool")), pool_path) != 0) {
			json_decref(r);
			continue;
		}
		json_array_append_new(out, r);
	}
	ics_admin_vm_records_sort(out);
	return out;
}

static json_t *managed_show(gpointer self, const char *ref, GError **error)
{
	g_autofree char *uuid = ics_admin_vm_uuid(self, ref, error);
	g_autoptr(json_t) vm = uuid ? get_vm(self, uuid, error) : NULL;

	return vm ? record_of(vm) : NULL;
}

/* Run a power task on @uuid and wait for it unless @wait_s is 0 (then its
 * id is printed, for `ics-admin task wait`). */
static gboolean run_task(IcsRest *rest, const char *uuid, const char *verb, gboolean force,
			 const char *node, guint wait_s, GError **error)
{
	g_autofree char *path = g_strdup_printf("/api/v1/vms/%s/%s", uuid, verb);
	g_autoptr(GPtrArray) q = ics_rest_query_new();
	g_autoptr(json_t) body = NULL, task = NULL, done = NULL;
	gint64 id;

	if (force)
		ics_rest_query_add(q, "force", "true");
	if (node)
		body = json_pack("{s:s}", "target_host", node);
	task = ics_rest_call(rest, "POST", path, q, body, error);
	if (task == NULL)
		return FALSE;
	id = json_integer_value(json_object_get(task, "id"));
	if (wait_s == 0) {
		printf("%" G_GINT64_FORMAT "\n", id);
		return TRUE;
	}
	done = ics_admin_task_wait(rest, id, wait_s, NULL, error);
	return done != NULL;
}

static json_t *managed_define(gpointer self, IcsAdminDefine *req, const char *owner, GError **error)
{
	IcsRest *rest = self;
	g_autoptr(json_t) body = NULL, vm = NULL;
	const char *uuid;

	if (req->migration_unsafe != ICS_ADMIN_UNSAFE_AUTO) {
		ics_error_invalid(error, "vm define: --migration-unsafe and --no-migration-unsafe "
					 "are for --direct; the manager decides by the pool");
		return NULL;
	}
	if (req->pool_name || req->pool_path) {
		g_autofree char *path =
			pool_path_of(rest, req->pool_name ? req->pool_name : req->pool_path, error);

		if (path == NULL)
			return NULL;
		ics_admin_define_set_pool(req, path);
	}
	body = json_pack("{s:O}", "definition", req->definition);
	if (owner)
		json_object_set_new(body, "owner", json_string(owner));
	vm = ics_rest_call(rest, "POST", "/api/v1/vms", NULL, body, error);
	if (vm == NULL)
		return NULL;
	uuid = json_string_value(json_object_get(vm, "uuid"));
	if (req->start &&
	    !run_task(rest, uuid, "start", FALSE, NULL, ICS_ADMIN_DEFAULT_TASK_WAIT_S, error)) {
		g_prefix_error(error, "vm %s was defined but did not start: ", uuid);
		return NULL;
	}
	if (req->start) {
		json_t *now = get_vm(rest, uuid, NULL);

		if (now) {
			json_decref(vm);
			vm = now;
		}
	}
	return record_of(vm);
}

static gboolean managed_remove(gpointer self, const char *ref, gboolean force, guint wait_s,
			       GError **error)
{
	IcsRest *rest = self;
	g_autofree char *uuid = ics_admin_vm_uuid(rest, ref, error);
	g_autofree char *path = NULL;
	g_autoptr(json_t) vm = NULL, r = NULL;

	if (uuid == NULL)
		return FALSE;
	if (force) {
		vm = get_vm(rest, uuid, error);
		if (vm == NULL)
			return FALSE;
		if (g_strcmp0(ics_admin_str(json_object_get(vm, "runtime"), "state", "stopped"),
			      "stopped") != 0 &&
		    !run_task(rest, uuid, "stop", FALSE, NULL,
			      wait_s ? wait_s : ICS_ADMIN_DEFAULT_TASK_WAIT_S, error))
			return FALSE;
	}
	path = g_strconcat("/api/v1/vms/", uuid, NULL);
	r = ics_rest_call(rest, "DELETE", path, NULL, NULL, error);
	return r != NULL;
}

static gboolean managed_power(gpointer self, const char *ref, const IcsAdminVmPower *p,
			      GError **error)
{
	static const char *const verbs[] = {
		[ICS_ADMIN_VM_START] = "start",
		[ICS_ADMIN_VM_STOP] = "stop",
		[ICS_ADMIN_VM_REBOOT] = "reboot",
		[ICS_ADMIN_VM_MIGRATE] = "migrate",
	};
	g_autofree char *uuid = NULL;

	if (p->keep_constraint)
		return ics_error_invalid(error, "vm migrate --keep-constraint is for --direct; the "
						"manager places VMs itself");
	uuid = ics_admin_vm_uuid(self, ref, error);
	return uuid &&
	       run_task(self, uuid, verbs[p->action], p->force,
			p->action == ICS_ADMIN_VM_MIGRATE ? p->node : NULL, p->wait_s, error);
}

static json_t *managed_console(gpointer self, const char *ref, GError **error)
{
	g_autofree char *uuid = ics_admin_vm_uuid(self, ref, error);
	g_autofree char *path = NULL;

	if (uuid == NULL)
		return NULL;
	path = g_strdup_printf("/api/v1/vms/%s/console", uuid);
	return ics_rest_call(self, "GET", path, NULL, NULL, error);
}

const IcsAdminVmOps ics_admin_vm_managed_ops = {
	.name = "manager",
	.list = managed_list,
	.show = managed_show,
	.define = managed_define,
	.remove = managed_remove,
	.power = managed_power,
	.console = managed_console,
};
