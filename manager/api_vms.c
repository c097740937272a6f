/*
 * api_vms.c: /api/v1/vms -- the VM inventory and its power operations.
 *
 * Create and update validate the definition with vmdef, then, in one
 * transaction, write the row and (with a cluster adapter) define the VM in
 * the cluster; a cluster refusal rolls the row back.  Power operations
 * become tasks (202 with the task) run by the adapter; without an adapter
 * they are 503.  Callers whose VM permissions are limited to owned VMs
 * (vm_manager) see, change and power only their own and cannot give a VM
 * to someone else; other VMs are reported as absent.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/log.h"
#include "ics/manager/users.h"
#include "ics/manager/vm_inventory.h"
#include "ics/manager/vm_paths.h"

#include "api.h"

/* The {uuid} path parameter, checked and brought to the lower case every
 * stored uuid has (RFC 4122 text compares case-insensitively). */
static gboolean uuid_param(IcsRequest *req, const char **uuid, GError **error)
{
	char *v = g_hash_table_lookup(req->params, "uuid");

	if (v == NULL || !g_uuid_string_is_valid(v))
		return ics_error_invalid(error, "VM id must be a UUID");
	for (char *c = v; *c; c++)
		*c = g_ascii_tolower(*c);
	*uuid = v;
	return TRUE;
}

/* In a transaction or a read (the caller's): NOT_FOUND unless the principal
 * holds the route's object permission (authz_rules.c) on the VM. */
static gboolean vm_access(IcsManager *m, const IcsRequest *req, const char *uuid, gint64 *owner,
			  GError **error)
{
	const char *perm = ics_api_object_permission(req);
	gint64 o = 0;

	g_assert(perm != NULL);
	if (!ics_vm_inventory_owner(m->store, uuid, &o, error))
		return FALSE;
	if (!ics_principal_can_on(req->principal, perm, o)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "VM %s does not exist", uuid);
		return FALSE;
	}
	if (owner)
		*owner = o;
	return TRUE;
}

/* vm_access() in a read of its own, for handlers that write nothing. */
static gboolean vm_access_read(IcsManager *m, const IcsRequest *req, const char *uuid,
			       GError **error)
{
	gboolean ok;

	ics_store_read_begin(m->store);
	ok = vm_access(m, req, uuid, NULL, error);
	ics_store_read_end(m->store);
	return ok;
}

/* May the caller name the host paths of @vm (authz_rules.c: never-path,
 * host-path, foreign-disk)?  The roots are [security] vm_path_roots, and
 * the cluster's pools when a path lies outside those. */
static gboolean paths_allowed(IcsManager *m, const IcsRequest *req, const IcsVmMeta *vm,
			      GError **error)
{
	IcsVmPathPolicy pol = { (const char *const *)m->cfg.vm_path_roots, m->cfg.state_dir };
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) roots = NULL;
	g_autoptr(json_t) pools = NULL;
	const char *rule = NULL;

	if (ics_vm_paths_check(m->store, &pol, req->principal, vm, &rule, &err))
		return TRUE;
	if (m->cluster == NULL || m->cluster->pools == NULL || g_strcmp0(rule, "host-path") != 0 ||
	    (pools = m->cluster->pools(m->cluster->self, NULL)) == NULL) {
		g_propagate_error(error, g_steal_pointer(&err));
		return FALSE;
	}
	roots = g_ptr_array_new();
	for (guint i = 0; m->cfg.vm_path_roots && m->cfg.vm_path_roots[i]; i++)
		g_ptr_array_add(roots, m->cfg.vm_path_roots[i]);
	for (size_t i = 0; i < json_array_size(pools); i++) {
		const char *path =
			json_string_value(json_object_get(json_array_get(pools, i), "path"));

		if (path && g_path_is_absolute(path) && strcmp(path, "/") != 0)
			g_ptr_array_add(roots, (gpointer)path);
	}
	g_ptr_array_add(roots, NULL);
	pol.roots = (const char *const *)roots->pdata;
	return ics_vm_paths_check(m->store, &pol, req->principal, vm, NULL, error);
}

/* The owner id a body's "owner" names (the caller when absent). */
static gboolean resolve_owner(IcsManager *m, const IcsRequest *req, const json_t *body,
			      gint64 *owner, GError **error)
{
	const char *name = json_string_value(json_object_get(body, "owner"));
	g_autoptr(IcsUser) user = NULL;

	*owner = req->principal->user_id;
	if (name == NULL)
		return TRUE;
	if (!g_str_equal(name, req->principal->name) &&
	    !ics_field_rule_check(req->principal, "give-vm", "owner", error))
		return FALSE;
	user = ics_user_get(m->store, name, error);
	if (user == NULL) {
		(*error)->code = ICS_ERROR_INVALID_ARGUMENT;
		return FALSE;
	}
	*owner = user->id;
	return TRUE;
}

static gboolean list_vms(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *after = ics_request_query(req, "after");
	g_autofree char *after_lower = NULL;
	gint64 limit;
	GString *out;

	if (!ics_api_limit(req, &limit, error))
		return FALSE;
	if (after && !g_uuid_string_is_valid(after))
		return ics_error_invalid(error,
					 "after must be the uuid of the previous page's last VM");
	if (after)
		after = after_lower = g_ascii_strdown(after, -1);
	ics_store_read_begin(m->store);
	out = ics_vm_inventory_list(m->store, after, limit,
				    ics_api_owner_filter(req->principal, "vm.read"), error);
	ics_store_read_end(m->store);
	if (out == NULL)
		return FALSE;
	resp->status = 200;
	resp->content_type = g_strdup("application/json");
	resp->text_len = out->len;
	resp->text = g_string_free(out, FALSE);
	return TRUE;
}

static void publish(IcsManager *m, const char *type, gint64 owner, const char *uuid)
{
	ics_events_publish(m->events, type, "vm.read", owner, json_pack("{s:s}", "uuid", uuid));
}

/* The inventory's part of a create, in the caller's transaction. */
static gboolean insert_vm(IcsManager *m, IcsRequest *req, const json_t *body, const IcsVmMeta *vm,
			  gint64 *owner, GError **error)
{
	return resolve_owner(m, req, body, owner, error) &&
	       ics_vm_inventory_insert(m->store, vm, *owner, error);
}

/*
 * With a cluster, the pool and CIB writes run outside the database's write
 * transaction, so that creates made at once share CIB updates (the cluster
 * adapter's group commit) instead of queueing behind the database lock:
 * the inventory is checked in a transaction that is rolled back, the VM
 * defined in the cluster, then inserted for good.  A uuid being created is
 * refused to a second create (CONFLICT) until the first ends; if the final
 * insert still fails (a name taken meanwhile), the cluster definition is
 * removed again.
 */
static gboolean define_in_cluster(IcsManager *m, IcsRequest *req, const json_t *body,
				  const IcsVmMeta *vm, GError **error)
{
	gint64 owner;
	gboolean ok;

	if (!ics_store_begin(m->store, error))
		return FALSE;
	ok = insert_vm(m, req, body, vm, &owner, error);
	ics_store_rollback(m->store);
	if (!ok)
		return FALSE;
	if (!m->cluster->define_vm(m->cluster->self, vm, error)) {
		ics_error_prefix(error, "VM \"%s\": cluster: ", vm->name);
		return FALSE;
	}
	return TRUE;
}

/* Claim @uuid for one create (FALSE: another has it), or release it. */
static gboolean creating(IcsManager *m, const char *uuid, gboolean claim)
{
	gboolean ok;

	g_mutex_lock(&m->creating_lock);
	ok = claim ? g_hash_table_add(m->creating, g_strdup(uuid))
		   : g_hash_table_remove(m->creating, uuid);
	g_mutex_unlock(&m->creating_lock);
	return ok;
}

static gboolean create_vm(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autoptr(json_t) body = ics_api_body(req, &ics_schema_vm_create, error);
	g_autoptr(IcsVmMeta) vm = NULL;
	gboolean defined = FALSE;
	gint64 owner;
	json_t *out;

	if (body == NULL)
		return FALSE;
	/* A caller who sees only its own VMs does not choose the uuid: a 409
	 * on a uuid it cannot see would tell it that VM exists. */
	if (json_object_get(json_object_get(body, "definition"), "uuid") &&
	    ics_principal_scope(req->principal, "vm.read") != ICS_SCOPE_ALL)
		return ics_error_invalid(error, "the uuid of a new VM is chosen by the manager for "
						"users limited to their own VMs; leave it out");
	vm = ics_vm_inventory_validate(json_object_get(body, "definition"), error);
	if (vm == NULL || !paths_allowed(m, req, vm, error))
		return FALSE;
	req->audit_object_id = g_strdup(vm->uuid);
	if (m->cluster) {
		if (!creating(m, vm->uuid, TRUE)) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "VM %s is being created by another request", vm->uuid);
			return FALSE;
		}
		defined = define_in_cluster(m, req, body, vm, error);
		if (!defined)
			goto fail_cluster;
	}
	if (!ics_store_begin(m->store, error))
		goto fail_cluster;
	if (!insert_vm(m, req, body, vm, &owner, error))
		goto fail;
	out = ics_vm_inventory_get(m->store, vm->uuid, error);
	if (out == NULL)
		goto fail;
	if (!ics_store_commit(m->store, error)) {
		json_decref(out);
		goto fail_cluster;
	}
	if (m->cluster)
		creating(m, vm->uuid, FALSE);
	publish(m, "vm.created", owner, vm->uuid);
	ics_response_json(resp, 201, out);
	return TRUE;
fail:
	ics_store_rollback(m->store);
fail_cluster:
	if (m->cluster) {
		g_autoptr(GError) undo = NULL;

		if (defined && !m->cluster->undefine_vm(m->cluster->self, vm->uuid, &undo))
			ics_warning("VM %s: removing it from the cluster after a failed create: %s",
				    vm->uuid, undo->message);
		creating(m, vm->uuid, FALSE);
	}
	return FALSE;
}

static gboolean get_vm(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *uuid;
	json_t *out = NULL;

	if (!uuid_param(req, &uuid, error))
		return FALSE;
	ics_store_read_begin(m->store);
	if (vm_access(m, req, uuid, NULL, error))
		out = ics_vm_inventory_get(m->store, uuid, error);
	ics_store_read_end(m->store);
	if (out == NULL)
		return FALSE;
	if (m->cluster && m->cluster->vm_status) {
		g_autofree char *state = NULL, *host = NULL;
		g_autoptr(GError) err = NULL;

		if (m->cluster->vm_status(m->cluster->self, uuid, &state, &host, &err))
			json_object_set_new(out, "runtime",
					    json_pack("{s:s, s:s?}", "state", state, "host", host));
	}
	ics_response_json(resp, 200, out);
	return TRUE;
}

static gboolean update_vm(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autoptr(json_t) body = NULL;
	g_autoptr(IcsVmMeta) vm = NULL;
	const char *uuid;
	json_t *def, *out;
	gint64 owner;

	if (!uuid_param(req, &uuid, error))
		return FALSE;
	body = ics_api_body(req, &ics_schema_vm_update, error);
	if (body == NULL)
		return FALSE;
	def = json_object_get(body, "definition");
	if (def) {
		g_autoptr(json_t) copy = json_deep_copy(def);
		const char *given = json_string_value(json_object_get(copy, "uuid"));

		if (given && g_ascii_strcasecmp(given, uuid) != 0)
			return ics_error_invalid(
				error, "definition uuid %s does not match the VM %s", given, uuid);
		json_object_set_new(copy, "uuid", json_string(uuid));
		vm = ics_vm_inventory_validate(copy, error);
		if (vm == NULL || !paths_allowed(m, req, vm, error))
			return FALSE;
	}
	if (!ics_store_begin(m->store, error))
		return FALSE;
	if (!vm_access(m, req, uuid, &owner, error))
		goto fail;
	if (vm && !ics_vm_inventory_update(m->store, vm, error))
		goto fail;
	if (json_object_get(body, "owner")) {
		if (!resolve_owner(m, req, body, &owner, error) ||
		    !ics_vm_inventory_set_owner(m->store, uuid, owner, error))
			goto fail;
	}
	if (vm && m->cluster && !m->cluster->define_vm(m->cluster->self, vm, error)) {
		ics_error_prefix(error, "VM \"%s\": cluster: ", vm->name);
		goto fail;
	}
	out = ics_vm_inventory_get(m->store, uuid, error);
	if (out == NULL)
		goto fail;
	if (!ics_store_commit(m->store, error)) {
		json_decref(out);
		return FALSE;
	}
	publish(m, "vm.updated", owner, uuid);
	ics_response_json(resp, 200, out);
	return TRUE;
fail:
	ics_store_rollback(m->store);
	return FALSE;
}

static gboolean delete_vm(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *uuid;
	gint64 owner;

	if (!uuid_param(req, &uuid, error))
		return FALSE;
	if (!ics_store_begin(m->store, error))
		return FALSE;
	if (!vm_access(m, req, uuid, &owner, error) ||
	    !ics_vm_inventory_delete(m->store, uuid, error))
		goto fail;
	if (m->cluster && !m->cluster->undefine_vm(m->cluster->self, uuid, error)) {
		ics_error_prefix(error, "VM %s: cluster: ", uuid);
		goto fail;
	}
	if (!ics_store_commit(m->store, error))
		return FALSE;
	publish(m, "vm.deleted", owner, uuid);
	resp->status = 204;
	return TRUE;
fail:
	ics_store_rollback(m->store);
	return FALSE;
}

/* ---- power operations as tasks ----------------------------------------- */

static void task_progress(void *data, guint percent, const char *message)
{
	ics_task_progress(data, percent, message);
}

static json_t *run_power(IcsTaskContext *ctx, const json_t *params, GError **error)
{
	IcsManager *m = ics_task_data(ctx);
	const IcsClusterOps *ops = m->cluster;
	const char *uuid = ics_task_object_id(ctx);
	const char *op = json_string_value(json_object_get(params, "op"));
	const volatile gint *cancel = ics_task_cancel_flag(ctx);
	gboolean ok;

	if (ops == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE, "no cluster adapter");
		return NULL;
	}
	ics_task_progress(ctx, 10, op);
	if (g_strcmp0(op, "start") == 0)
		ok = ops->start_vm(ops->self, uuid, cancel, error);
	else if (g_strcmp0(op, "stop") == 0)
		ok = ops->stop_vm(ops->self, uuid, json_is_true(json_object_get(params, "force")),
				  cancel, error);
	else if (g_strcmp0(op, "reboot") == 0 && ops->reboot_vm)
		ok = ops->reboot_vm(ops->self, uuid, error);
	else if (g_strcmp0(op, "reboot") == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "this cluster adapter cannot reboot VMs");
		ok = FALSE;
	} else if (g_strcmp0(op, "migrate") == 0)
		ok = ops->migrate_vm(ops->self, uuid,
				     json_string_value(json_object_get(params, "target_host")),
				     task_progress, ctx, cancel, error);
	else
		ok = ics_error_invalid(error, "unknown power operation");
	if (!ok)
		return NULL;
	return json_pack("{s:s, s:s}", "uuid", uuid, "op", op);
}

void ics_vm_tasks_register(IcsManager *m)
{
	/* Not idempotent: after a restart the cluster's state is read again
	 * rather than a half-done power operation repeated. */
	m->vm_power_kind = (IcsTaskKind){ "vm.power", run_power, FALSE, m };
	ics_task_runner_register(m->tasks, &m->vm_power_kind);
}

static gboolean power(IcsManager *m, IcsRequest *req, IcsResponse *resp, const char *op,
		      json_t *params, GError **error)
{
	const char *uuid;
	gint64 owner;

	if (!uuid_param(req, &uuid, error))
		return FALSE;
	if (m->cluster == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "no cluster adapter: this manager keeps the inventory only and cannot "
			    "%s VMs",
			    op);
		return FALSE;
	}
	json_object_set_new(params, "op", json_string(op));
	if (!ics_store_begin(m->store, error))
		return FALSE;
	if (!vm_access(m, req, uuid, &owner, error)) {
		ics_store_rollback(m->store);
		return FALSE;
	}
	return ics_api_task_accepted(m, resp, "vm.power", "vm", uuid, owner, params, error);
}

static const IcsField no_fields[] = { { 0 } };
static const IcsSchema start_schema = { "start request", no_fields };

static gboolean start_vm(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autoptr(json_t) params = json_object();

	if (req->body_len) {
		g_autoptr(json_t) body = ics_api_body(req, &start_schema, error);

		if (body == NULL)
			return FALSE;
	}
	return power(m, req, resp, "start", params, error);
}

static gboolean stop_vm(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *force = ics_request_query(req, "force");
	g_autoptr(json_t) params = json_object();

	if (force && !g_str_equal(force, "true") && !g_str_equal(force, "false"))
		return ics_error_invalid(error, "force must be true or false");
	json_object_set_new(params, "force", json_boolean(force && g_str_equal(force, "true")));
	return power(m, req, resp, "stop", params, error);
}

static gboolean migrate_vm(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autoptr(json_t) body = ics_api_body(req, &ics_schema_vm_migrate, error);

	if (body == NULL)
		return FALSE;
	return power(m, req, resp, "migrate", body, error);
}

static gboolean reboot_vm(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autoptr(json_t) params = json_object();

	if (req->body_len) {
		g_autoptr(json_t) body = ics_api_body(req, &start_schema, error);

		if (body == NULL)
			return FALSE;
	}
	return power(m, req, resp, "reboot", params, error);
}

/* Where the running VM's console is (host, libvirt URI, graphics and serial
 * devices of the live domain).  Needs vm.power: a console controls the VM. */
static gboolean console_vm(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *uuid;
	json_t *out;

	if (!uuid_param(req, &uuid, error) || !vm_access_read(m, req, uuid, error))
		return FALSE;
	if (m->cluster == NULL || m->cluster->vm_console == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "no cluster adapter: this manager keeps the inventory only");
		return FALSE;
	}
	out = m->cluster->vm_console(m->cluster->self, uuid, error);
	if (out == NULL)
		return FALSE;
	json_object_set_new(out, "uuid", json_string(uuid));
	ics_response_json(resp, 200, out);
	return TRUE;
}

/* The event stream of one VM: its inventory changes, power tasks and the
 * cluster's view of it (vm.state: running where, stopped, failed). */
static gboolean events_vm(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *uuid;

	if (!uuid_param(req, &uuid, error) || !vm_access_read(m, req, uuid, error))
		return FALSE;
	return ics_api_event_stream(m, req, resp, uuid, error);
}

const IcsApiRoute ics_api_vm_routes[] = {
	{ "GET", "/api/v1/vms", list_vms, 0, NULL, NULL, NULL },
	{ "POST", "/api/v1/vms", create_vm, ICS_API_MUTATING, "vm.create", "vm", NULL },
	{ "GET", "/api/v1/vms/{uuid}", get_vm, 0, NULL, NULL, NULL },
	{ "PUT", "/api/v1/vms/{uuid}", update_vm, ICS_API_MUTATING, "vm.update", "vm", "uuid" },
	{ "DELETE", "/api/v1/vms/{uuid}", delete_vm, ICS_API_MUTATING, "vm.delete", "vm", "uuid" },
	{ "POST", "/api/v1/vms/{uuid}/start", start_vm, ICS_API_MUTATING, "vm.start", "vm",
	  "uuid" },
	{ "POST", "/api/v1/vms/{uuid}/stop", stop_vm, ICS_API_MUTATING, "vm.stop", "vm", "uuid" },
	{ "POST", "/api/v1/vms/{uuid}/migrate", migrate_vm, ICS_API_MUTATING, "vm.migrate", "vm",
	  "uuid" },
	{ "POST", "/api/v1/vms/{uuid}/reboot", reboot_vm, ICS_API_MUTATING, "vm.reboot", "vm",
	  "uuid" },
	{ "GET", "/api/v1/vms/{uuid}/console", console_vm, 0, NULL, NULL, NULL },
	{ "GET", "/api/v1/vms/{uuid}/events", events_vm, 0, NULL, NULL, NULL },
	{ 0 },
};
