/*
 * api_vms.c: /api/v1/vms -- the VM inventory and its power operations.
 *
 * Create, update and delete parse and validate the request and hand it to
 * the VM write service (vm_service.c), which authorizes the object and the
 * fields, writes the cluster then the inventory, and undoes the first when
 * the second fails.  Power operations
 * become tasks (202 with the task) run by the adapter; without an adapter
 * they are 503.  Callers whose VM permissions are limited to owned VMs
 * (vm_manager) see, change and power only their own and cannot give a VM
 * to someone else; other VMs are reported as absent.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/manager/backup_repos.h"
#include "ics/log.h"
#include "ics/manager/users.h"
#include "ics/manager/vm_inventory.h"
#include "ics/manager/vm_service.h"

#include "api.h"

/* A page's runtime, from one view of the cluster. */
typedef struct {
	const IcsClusterOps *ops;
	gpointer view;
} RuntimeRows;

static void append_runtime(const char *uuid, GString *out, gpointer data)
{
	RuntimeRows *rows = data;
	IcsVmRuntime rt;

	if (rows->ops->vm_view_get(rows->view, uuid, &rt))
		ics_vm_inventory_append_runtime(out, rt.state, rt.host, rt.pool, rt.resource);
}

static gboolean list_vms(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *after = ics_request_query(req, "after");
	g_autofree char *after_lower = NULL;
	RuntimeRows rows = { 0 };
	gint64 limit;
	GString *out;

	if (!ics_api_limit(req, &limit, error))
		return FALSE;
	if (after && !g_uuid_string_is_valid(after))
		return ics_error_invalid(error,
					 "after must be the uuid of the previous page's last VM");
	if (after)
		after = after_lower = g_ascii_strdown(after, -1);
	if (m->cluster && m->cluster->vm_view && m->cluster->vm_view_get &&
	    m->cluster->vm_view_release)
		rows = (RuntimeRows){ m->cluster, m->cluster->vm_view(m->cluster->self) };
	ics_store_read_begin(m->store);
	out = ics_vm_inventory_list(m->store, after, limit,
				    ics_api_owner_filter(req->principal, "vm.read"),
				    rows.view ? append_runtime : NULL, &rows, error);
	ics_store_read_end(m->store);
	if (rows.view)
		m->cluster->vm_view_release(rows.view);
	if (out == NULL)
		return FALSE;
	resp->status = 200;
	resp->content_type = g_strdup("application/json");
	resp->text_len = out->len;
	resp->text = g_string_free(out, FALSE);
	return TRUE;
}

static gboolean create_vm(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autoptr(json_t) body = ics_api_body(req, &ics_schema_vm_create, error);
	g_autoptr(IcsVmMeta) vm = NULL;
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
	if (vm == NULL)
		return FALSE;
	req->audit_object_id = g_strdup(vm->uuid);
	out = ics_vm_service_create(m->vms, req->principal, vm,
				    json_string_value(json_object_get(body, "owner")), error);
	if (out == NULL)
		return FALSE;
	ics_response_json(resp, 201, out);
	return TRUE;
}

/* What a failed lease read tells the client (the adapter's message names
 * paths on the pool: it goes to the log only). */
static const char *lease_error_text(int code)
{
	switch (code) {
	case ICS_ERROR_NOT_FOUND:
		return "the VM is not in the cluster";
	case ICS_ERROR_CONFLICT:
	case ICS_ERROR_PARSE:
	case ICS_ERROR_INVALID_ARGUMENT:
		return "the lease slot is not this VM's";
	default:
		return "the pool cannot be read now";
	}
}

/* The VM's lease holder, read from the slot its definition names
 * (cluster_lease.c); why not, in a few words, when it cannot be read (the
 * adapter's message stays in the log: it names paths on the pool). */
static void add_lease(IcsManager *m, const char *uuid, json_t *out)
{
	json_t *offset = json_object_get(
		json_object_get(json_object_get(out, "definition"), "lease"), "offset");
	g_autoptr(GError) lerr = NULL;
	json_t *lease = NULL;

	if (!json_is_integer(offset) || json_integer_value(offset) <= 0) {
		json_object_set_new(out, "lease_error", json_string("the VM has no lease"));
		return;
	}
	lease = m->cluster->vm_lease(m->cluster->self, uuid, (guint64)json_integer_value(offset),
				     &lerr);
	if (lease) {
		json_object_set_new(out, "lease", lease);
		return;
	}
	ics_info("VM %s: lease not read: %s", uuid, lerr->message);
	json_object_set_new(out, "lease_error", json_string(lease_error_text(lerr->code)));
}

static gboolean get_vm(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *uuid;
	json_t *out = NULL;

	if (!ics_api_vm_uuid(req, &uuid, error))
		return FALSE;
	ics_store_read_begin(m->store);
	if (ics_api_vm_access(m, req, uuid, NULL, error))
		out = ics_vm_inventory_get(m->store, uuid, error);
	ics_store_read_end(m->store);
	if (out == NULL)
		return FALSE;
	if (m->cluster && m->cluster->vm_view && m->cluster->vm_view_get &&
	    m->cluster->vm_view_release) {
		gpointer view = m->cluster->vm_view(m->cluster->self);
		IcsVmRuntime rt;

		if (view && m->cluster->vm_view_get(view, uuid, &rt))
			json_object_set_new(out, "runtime",
					    json_pack("{s:s, s:s?, s:s?, s:s?}", "state", rt.state,
						      "host", rt.host, "pool", rt.pool, "resource",
						      rt.resource));
		if (view)
			m->cluster->vm_view_release(view);
	} else if (m->cluster && m->cluster->vm_status) {
		g_autofree char *state = NULL, *host = NULL;
		g_autoptr(GError) err = NULL;

		if (m->cluster->vm_status(m->cluster->self, uuid, &state, &host, &err))
			json_object_set_new(out, "runtime",
					    json_pack("{s:s, s:s?}", "state", state, "host", host));
	}
	if (m->cluster && m->cluster->vm_lease)
		add_lease(m, uuid, out);
	ics_response_json(resp, 200, out);
	return TRUE;
}

static gboolean update_vm(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autoptr(json_t) body = NULL;
	g_autoptr(IcsVmMeta) vm = NULL;
	const char *uuid;
	json_t *def, *out;

	if (!ics_api_vm_uuid(req, &uuid, error))
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
		if (vm == NULL)
			return FALSE;
	}
	out = ics_vm_service_update(m->vms, req->principal, uuid, ics_api_object_permission(req),
				    vm, json_string_value(json_object_get(body, "owner")), error);
	if (out == NULL)
		return FALSE;
	ics_response_json(resp, 200, out);
	return TRUE;
}

static gboolean delete_vm(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *uuid;
	gboolean idle;

	if (!ics_api_vm_uuid(req, &uuid, error))
		return FALSE;
	/* one queued now fails cleanly when it finds the VM gone; one running
	 * would copy (or write) disks being deleted */
	ics_store_read_begin(m->store);
	idle = ics_backup_none_pending(m->store, uuid,
				       "cancel it or delete the VM when it has ended", error);
	ics_store_read_end(m->store);
	if (!idle || !ics_vm_service_delete(m->vms, req->principal, uuid,
					    ics_api_object_permission(req), error))
		return FALSE;
	resp->status = 204;
	return TRUE;
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

	if (!ics_api_vm_uuid(req, &uuid, error))
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
	if (!ics_api_vm_access(m, req, uuid, &owner, error) ||
	    (g_str_equal(op, "start") &&
	     !ics_backup_task_none(m->store, "vm.restore", uuid,
				   "start the VM when it has ended", error))) {
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

	if (!ics_api_vm_uuid(req, &uuid, error) || !ics_api_vm_access_read(m, req, uuid, error))
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

	if (!ics_api_vm_uuid(req, &uuid, error) || !ics_api_vm_access_read(m, req, uuid, error))
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
