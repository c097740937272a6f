/*
 * api_volumes.c: /api/v1/pools/{pool}/volumes -- disk volumes on the
 * cluster's pools (formats, provisioning and the libvirt side are in
 * ics/manager/volumes.h).
 *
 * The pool is looked up in the cluster adapter's pool list at each request
 * (its path and the nodes it is active on), so a manager without an
 * adapter answers 503 like the pool routes.  Everything the client can get
 * wrong is checked before libvirt is asked: names (a file name, no
 * traversal), sizes, format, provisioning; a resize that does not grow is
 * 409 with the current size.  A thin volume is created within the request
 * (201); a thick one, and every resize, is a task (202): reserving blocks
 * can take minutes on a file system without fallocate.  A volume that a
 * VM definition uses as a disk or CD-ROM -- in the manager's inventory or
 * in the pool's own .ics/vms/ -- is not deleted (409 naming the VMs).
 * Reading needs volume.read, changing volume.write.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/manager/volumes.h"
#include "ics/vmdef.h"

#include "api.h"

static const IcsField volume_create_fields[] = {
	{ "name", ICS_FIELD_NAME, TRUE, 0, 0 },
	{ "capacity", ICS_FIELD_STRING, TRUE, 1, 32 },
	{ "format", ICS_FIELD_STRING, FALSE, 1, 16 },
	{ "provisioning", ICS_FIELD_STRING, FALSE, 1, 16 },
	{ 0 },
};
static const IcsSchema volume_create_schema = { "volume", volume_create_fields };

static const IcsField volume_resize_fields[] = {
	{ "capacity", ICS_FIELD_STRING, TRUE, 1, 32 },
	{ 0 },
};
static const IcsSchema volume_resize_schema = { "volume resize", volume_resize_fields };

/* What a request names: the pool (resolved through the adapter) and, for
 * routes under a volume, its name. */
typedef struct {
	char *pool;
	char *path;
	char *host;
	IcsVolumePool where;
} PoolRef;

static void pool_ref_clear(PoolRef *r)
{
	g_free(r->pool);
	g_free(r->path);
	g_free(r->host);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PoolRef, pool_ref_clear)

static gboolean resolve_pool(IcsManager *m, const char *name, PoolRef *ref, GError **error)
{
	g_autoptr(json_t) pools = NULL;
	size_t i;
	json_t *p;

	if (!ics_name_check("pool name", name, error))
		return FALSE;
	if (m->cluster == NULL || m->cluster->pools == NULL || m->volumes == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "no cluster adapter: this manager keeps the inventory only and knows "
			    "no pools");
		return FALSE;
	}
	pools = m->cluster->pools(m->cluster->self, error);
	if (pools == NULL)
		return FALSE;
	json_array_foreach(pools, i, p)
	{
		const char *path = json_string_value(json_object_get(p, "path"));

		if (g_strcmp0(json_string_value(json_object_get(p, "name")), name) != 0)
			continue;
		if (path == NULL || !g_path_is_absolute(path)) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
				    "pool %s has no directory in the cluster configuration", name);
			return FALSE;
		}
		ref->pool = g_strdup(name);
		ref->path = g_strdup(path);
		ref->host = g_strdup(
			json_string_value(json_array_get(json_object_get(p, "active_on"), 0)));
		ref->where = (IcsVolumePool){ ref->pool, ref->path, ref->host };
		return TRUE;
	}
	g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "pool %s is not a pool of the cluster",
		    name);
	return FALSE;
}

static gboolean request_pool(IcsManager *m, IcsRequest *req, PoolRef *ref, const char **volume,
			     GError **error)
{
	if (volume) {
		*volume = ics_request_param(req, "volume");
		if (!ics_volume_name_check(*volume, error))
			return FALSE;
		req->audit_object_id =
			g_strdup_printf("%s/%s", ics_request_param(req, "pool"), *volume);
	}
	return resolve_pool(m, ics_request_param(req, "pool"), ref, error);
}

/* ---- who uses a volume ------------------------------------------------- */

static void add_users_of(GPtrArray *users, const IcsVmMeta *vm, const char *path)
{
	gboolean used = g_strcmp0(vm->cdrom, path) == 0;

	for (guint i = 0; !used && vm->disks && i < vm->disks->len; i++)
		used = g_strcmp0(((IcsVmDisk *)vm->disks->pdata[i])->path, path) == 0;
	if (used && !g_ptr_array_find_with_equal_func(users, vm->name, g_str_equal, NULL))
		g_ptr_array_add(users, g_strdup(vm->name));
}

/* The names of the VMs whose definition uses @path: the manager's inventory
 * and the VMs defined on the pool itself (when its .ics/vms/ is readable
 * here). */
static GPtrArray *volume_users(IcsManager *m, const PoolRef *ref, const char *path, GError **error)
{
	g_autoptr(GPtrArray) users = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) uuids = NULL;
	g_autoptr(GError) ignored = NULL;
	int rc;

	ics_store_read_begin(m->store);
	{
		g_autoptr(IcsStmt) st = ics_store_stmt(
			m->store,
			"SELECT name FROM vms WHERE json_extract(definition, '$.cdrom') = ?1"
			" OR EXISTS (SELECT 1 FROM json_each(vms.definition, '$.disks') d"
			" WHERE json_extract(d.value, '$.path') = ?1) ORDER BY name",
			error);

		if (st == NULL) {
			ics_store_read_end(m->store);
			return NULL;
		}
		ics_stmt_bind_text(st, 1, path);
		while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW)
			g_ptr_array_add(users, g_strdup(ics_stmt_text(st, 0)));
	}
	ics_store_read_end(m->store);
	if (rc != SQLITE_DONE)
		return NULL;
	uuids = ics_vm_store_list(ref->path, &ignored);
	for (guint i = 0; uuids && i < uuids->len; i++) {
		g_autoptr(IcsVmMeta) vm = ics_vm_store_load(ref->path, uuids->pdata[i], NULL);

		if (vm)
			add_users_of(users, vm, path);
	}
	return g_steal_pointer(&users);
}

/* ---- routes -------------------------------------------------------------- */

/* An event for those who may read volumes (a task's end is its own
 * "task.updated"). */
static void publish(IcsManager *m, const char *type, const char *pool, const char *name)
{
	ics_events_publish(m->events, type, "volume.read", 0,
			   json_pack("{s:s, s:s}", "pool", pool, "name", name));
}

static gboolean list_volumes(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_auto(PoolRef) ref = { 0 };
	json_t *items;

	if (!request_pool(m, req, &ref, NULL, error))
		return FALSE;
	items = ics_volumes_list(m->volumes, &ref.where, error);
	if (items == NULL)
		return FALSE;
	ics_response_json(resp, 200, json_pack("{s:o}", "items", items));
	return TRUE;
}

static gboolean get_volume(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_auto(PoolRef) ref = { 0 };
	g_autoptr(GPtrArray) users = NULL;
	const char *name;
	json_t *out, *used_by;

	if (!request_pool(m, req, &ref, &name, error))
		return FALSE;
	out = ics_volumes_get(m->volumes, &ref.where, name, error);
	if (out == NULL)
		return FALSE;
	users = volume_users(m, &ref, json_string_value(json_object_get(out, "path")), error);
	if (users == NULL) {
		json_decref(out);
		return FALSE;
	}
	used_by = json_array();
	for (guint i = 0; i < users->len; i++)
		json_array_append_new(used_by, json_string(users->pdata[i]));
	json_object_set_new(out, "used_by", used_by);
	ics_response_json(resp, 200, out);
	return TRUE;
}

/* Queue a volume task (202 with the task). */
static gboolean queue_task(IcsManager *m, IcsRequest *req, IcsResponse *resp, const char *kind,
			   const char *object_id, const json_t *params, GError **error)
{
	if (!ics_store_begin(m->store, error))
		return FALSE;
	return ics_api_task_accepted(m, resp, kind, "volume", object_id, req->principal->user_id,
				     params, error);
}

static gboolean create_volume(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autoptr(json_t) body = ics_api_body(req, &volume_create_schema, error);
	g_auto(PoolRef) ref = { 0 };
	IcsVolumeSpec spec = { 0 };
	json_t *out;

	if (body == NULL)
		return FALSE;
	spec.name = json_string_value(json_object_get(body, "name"));
	spec.format = json_string_value(json_object_get(body, "format"));
	spec.provisioning = json_string_value(json_object_get(body, "provisioning"));
	if (spec.format == NULL)
		spec.format = "qcow2";
	if (spec.provisioning == NULL)
		spec.provisioning = "thin";
	req->audit_object_id = g_strdup_printf("%s/%s", ics_request_param(req, "pool"), spec.name);
	if (!ics_volume_name_check(spec.name, error) ||
	    !ics_volume_format_check(spec.format, error) ||
	    !ics_volume_provisioning_check(spec.provisioning, error) ||
	    !ics_volume_size_parse(json_string_value(json_object_get(body, "capacity")),
				   &spec.capacity, error) ||
	    !request_pool(m, req, &ref, NULL, error))
		return FALSE;
	if (g_str_equal(spec.provisioning, "thick-lazy")) {
		g_autoptr(json_t) have = ics_volumes_get(m->volumes, &ref.where, spec.name, error);
		g_autoptr(json_t) params = NULL;

		/* Refused now rather than by the task. */
		if (have) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "pool %s already has a file named %s", ref.pool, spec.name);
			return FALSE;
		}
		if (!g_error_matches(*error, ICS_ERROR, ICS_ERROR_NOT_FOUND))
			return FALSE;
		g_clear_error(error);
		params = json_pack("{s:s, s:s, s:s, s:s, s:I}", "pool", ref.pool, "name", spec.name,
				   "format", spec.format, "provisioning", spec.provisioning,
				   "capacity_bytes", (json_int_t)spec.capacity);

		return queue_task(m, req, resp, "volume.create", req->audit_object_id, params,
				  error);
	}
	out = ics_volumes_create(m->volumes, &ref.where, &spec, error);
	if (out == NULL)
		return FALSE;
	publish(m, "volume.created", ref.pool, spec.name);
	ics_response_json(resp, 201, out);
	return TRUE;
}

static gboolean resize_volume(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_autoptr(json_t) body = ics_api_body(req, &volume_resize_schema, error);
	g_autoptr(json_t) current = NULL, params = NULL;
	g_auto(PoolRef) ref = { 0 };
	const char *name;
	guint64 capacity, have;

	if (body == NULL ||
	    !ics_volume_size_parse(json_string_value(json_object_get(body, "capacity")), &capacity,
				   error) ||
	    !request_pool(m, req, &ref, &name, error))
		return FALSE;
	current = ics_volumes_get(m->volumes, &ref.where, name, error);
	if (current == NULL)
		return FALSE;
	have = (guint64)json_integer_value(json_object_get(current, "capacity_bytes"));
	if (capacity <= have) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "volume %s on pool %s is %" G_GUINT64_FORMAT
			    " bytes; volumes only grow, and %" G_GUINT64_FORMAT
			    " bytes is not larger (shrinking would cut the guest's file system)",
			    name, ref.pool, have, capacity);
		return FALSE;
	}
	params = json_pack("{s:s, s:s, s:I}", "pool", ref.pool, "name", name, "capacity_bytes",
			   (json_int_t)capacity);
	return queue_task(m, req, resp, "volume.resize", req->audit_object_id, params, error);
}

static gboolean delete_volume(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	g_auto(PoolRef) ref = { 0 };
	g_autoptr(GPtrArray) users = NULL;
	g_autofree char *path = NULL;
	const char *name;

	if (!request_pool(m, req, &ref, &name, error))
		return FALSE;
	path = g_build_filename(ref.path, name, NULL);
	users = volume_users(m, &ref, path, error);
	if (users == NULL)
		return FALSE;
	if (users->len) {
		g_ptr_array_add(users, NULL);
		g_autofree char *names = g_strjoinv(", ", (char **)users->pdata);

		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "volume %s on pool %s is a disk of VM %s; remove it from the VM "
			    "definition first",
			    name, ref.pool, names);
		return FALSE;
	}
	if (!ics_volumes_delete(m->volumes, &ref.where, name, error))
		return FALSE;
	publish(m, "volume.deleted", ref.pool, name);
	resp->status = 204;
	return TRUE;
}

/* ---- tasks --------------------------------------------------------------- */

static json_t *run_volume_task(IcsTaskContext *ctx, const json_t *params, GError **error)
{
	IcsManager *m = ics_task_data(ctx);
	const char *pool = json_string_value(json_object_get(params, "pool"));
	const char *name = json_string_value(json_object_get(params, "name"));
	guint64 capacity = (guint64)json_integer_value(json_object_get(params, "capacity_bytes"));
	g_auto(PoolRef) ref = { 0 };

	if (!resolve_pool(m, pool, &ref, error))
		return NULL;
	if (json_object_get(params, "format")) {
		IcsVolumeSpec spec = {
			.name = name,
			.format = json_string_value(json_object_get(params, "format")),
			.provisioning = json_string_value(json_object_get(params, "provisioning")),
			.capacity = capacity,
		};

		ics_task_progress(ctx, 10, "creating");
		return ics_volumes_create(m->volumes, &ref.where, &spec, error);
	}
	ics_task_progress(ctx, 10, "resizing");
	return ics_volumes_resize(m->volumes, &ref.where, name, capacity, error);
}

void ics_volume_tasks_register(IcsManager *m)
{
	/* Not idempotent: a creation interrupted by a restart leaves a file
	 * whose allocation is unknown; the task fails and the caller decides. */
	m->volume_create_kind = (IcsTaskKind){ "volume.create", run_volume_task, FALSE, m };
	m->volume_resize_kind = (IcsTaskKind){ "volume.resize", run_volume_task, FALSE, m };
	ics_task_runner_register(m->tasks, &m->volume_create_kind);
	ics_task_runner_register(m->tasks, &m->volume_resize_kind);
}

const IcsApiRoute ics_api_volume_routes[] = {
	{ "GET", "/api/v1/pools/{pool}/volumes", list_volumes, 0, NULL, NULL, NULL },
	{ "POST", "/api/v1/pools/{pool}/volumes", create_volume, ICS_API_MUTATING, "volume.create",
	  "volume", NULL },
	{ "GET", "/api/v1/pools/{pool}/volumes/{volume}", get_volume, 0, NULL, NULL, NULL },
	{ "DELETE", "/api/v1/pools/{pool}/volumes/{volume}", delete_volume, ICS_API_MUTATING,
	  "volume.delete", "volume", NULL },
	{ "POST", "/api/v1/pools/{pool}/volumes/{volume}/resize", resize_volume, ICS_API_MUTATING,
	  "volume.resize", "volume", NULL },
	{ 0 },
};
