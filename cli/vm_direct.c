/*
 * vm_direct.c: the "direct" backend of `ics-admin vm` -- VM definitions on
 * the pool, lease slots and the CIB, without a manager (see vm_backend.h).
 *
 * define is three steps that each leave something behind: a lease slot,
 * the definition directory, and the VM's CIB objects (primitive and both
 * constraints) in one CIB update -- the update ics-managerd sends, built by
 * vmpool, under the resource id vmpool's rule gives the VM's name.  Nothing
 * may be left half-created: when the CIB update fails, the pool steps are
 * undone.  Undo failures are reported as warnings next to the original
 * error; the original error is what the caller sees.  Names are unique in
 * the cluster: define looks for the name on every pool of the pools
 * directory, the target pool and every pool a VM primitive of the CIB
 * names.
 *
 * A VM's primitive is the one whose "uuid" parameter is the VM's
 * (ics_cib_vm_find()), whatever its id: ids given by crm or pcs users and
 * the "vm-<uuid>" of older CIBs work alike.  The state of a VM is never
 * cached: it is read from crm_mon at each call.
 */
#include "config.h"

#include "vm_backend.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"
#include "ics/lock.h"
#include "ics/vm_on_pool.h"
#include "ics/xml.h"

void ics_admin_vm_free(IcsAdminVm *vm)
{
	if (vm == NULL)
		return;
	g_free(vm->pool_path);
	ics_vm_meta_free(vm->meta);
	g_free(vm);
}

void ics_admin_define_clear(IcsAdminDefine *req)
{
	if (req->definition)
		json_decref(req->definition);
	g_free(req->pool_path);
	g_free(req->pool_name);
	memset(req, 0, sizeof(*req));
}

static char *pool_canonical(const char *path)
{
	return g_canonicalize_filename(path, NULL);
}

static gint cmp_str_ptr(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

GPtrArray *ics_admin_pools(IcsAdmin *adm, GError **error)
{
	g_autoptr(GPtrArray) pools = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GDir) dir = NULL;
	const char *dirname = adm->pools_dir;
	const char *e;

	if (adm->pool) {
		g_ptr_array_add(pools, pool_canonical(adm->pool));
		return g_steal_pointer(&pools);
	}
	if (dirname == NULL)
		dirname = g_getenv("ICS_POOLS_DIR");
	if (dirname == NULL)
		dirname = ICS_ADMIN_POOLS_DIR;
	dir = g_dir_open(dirname, 0, NULL);
	if (dir == NULL)
		return g_steal_pointer(&pools); /* no pools here: nothing defined */
	while ((e = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = g_build_filename(dirname, e, NULL);
		g_autofree char *pj = g_build_filename(path, ".ics", "pool.json", NULL);

		if (g_file_test(pj, G_FILE_TEST_IS_REGULAR))
			g_ptr_array_add(pools, pool_canonical(path));
	}
	g_ptr_array_sort(pools, cmp_str_ptr);
	(void)error;
	return g_steal_pointer(&pools);
}

static gboolean looks_like_uuid(const char *s)
{
	return strlen(s) == 36 && g_uuid_string_is_valid(s);
}

/* Add the VMs defined on @pool to @vms; definitions that do not load are
 * skipped with a warning (they cannot be resolved by name anyway). */
static gboolean pool_vms(const char *pool, GPtrArray *vms, GError **error)
{
	g_autoptr(GPtrArray) uuids = ics_vm_store_list(pool, error);

	if (uuids == NULL)
		return FALSE;
	for (guint j = 0; j < uuids->len; j++) {
		g_autoptr(GError) le = NULL;
		IcsVmMeta *m = ics_vm_store_load(pool, uuids->pdata[j], &le);
		IcsAdminVm *vm;

		if (m == NULL) {
			g_printerr("ics-admin: warning: %s\n", le->message);
			continue;
		}
		vm = g_new0(IcsAdminVm, 1);
		vm->pool_path = g_strdup(pool);
		vm->meta = m;
		g_ptr_array_add(vms, vm);
	}
	return TRUE;
}

/* Every VM on the scanned pools. */
static GPtrArray *all_vms(IcsAdmin *adm, GError **error)
{
	g_autoptr(GPtrArray) pools = ics_admin_pools(adm, error);
	g_autoptr(GPtrArray) vms = g_ptr_array_new_with_free_func((GDestroyNotify)ics_admin_vm_free);

	if (pools == NULL)
		return NULL;
	for (guint i = 0; i < pools->len; i++) {
		g_autoptr(GError) e = NULL;

		if (pool_vms(pools->pdata[i], vms, &e))
			continue;
		if (adm->pool) {
			g_propagate_error(error, g_steal_pointer(&e));
			return NULL;
		}
		g_printerr("ics-admin: warning: %s\n", e->message);
	}
	return g_steal_pointer(&vms);
}

IcsAdminVm *ics_admin_vm_resolve(IcsAdmin *adm, const char *ref, GError **error)
{
	g_autoptr(GPtrArray) vms = all_vms(adm, error);
	gboolean by_uuid = looks_like_uuid(ref);
	IcsAdminVm *found = NULL;
	guint nfound = 0;

	if (vms == NULL)
		return NULL;
	for (guint i = 0; i < vms->len; i++) {
		IcsAdminVm *vm = vms->pdata[i];
		gboolean match = by_uuid ? g_ascii_strcasecmp(vm->meta->uuid, ref) == 0
					 : strcmp(vm->meta->name, ref) == 0;

		if (match) {
			if (nfound++ == 0)
				found = vm;
		}
	}
	if (nfound == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "vm \"%s\": not defined on %s", ref,
			    adm->pool ? adm->pool : "any pool (use --pool PATH)");
		return NULL;
	}
	if (nfound > 1) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "vm \"%s\": %u VMs have this name; use the uuid", ref, nfound);
		return NULL;
	}
	g_ptr_array_set_free_func(vms, NULL);
	for (guint i = 0; i < vms->len; i++)
		if (vms->pdata[i] != found)
			ics_admin_vm_free(vms->pdata[i]);
	return found;
}

static json_t *record_new(const IcsVmMeta *m, const char *pool, const char *state, const char *node,
			  const char *rsc)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s?, s:s?}", "uuid", m->uuid, "name",
			 m->name, "pool", pool, "vcpus", (json_int_t)m->vcpus, "memory_mib",
			 (json_int_t)m->memory_mib, "state", state, "node", node, "resource", rsc);
}

/* The id of VM @uuid's primitive in the CIB (*rsc, NULL when it has none). */
static gboolean vm_resource(IcsAdmin *adm, const char *uuid, char **rsc, GError **error)
{
	g_autoptr(xmlDoc) res = ics_cib_query(&adm->cib, "resources", error);

	*rsc = NULL;
	if (res == NULL)
		return FALSE;
	*rsc = ics_cib_vm_find_id(res, uuid);
	return TRUE;
}

/* As vm_resource(), NOT_FOUND when the VM has no primitive. */
static char *require_resource(IcsAdmin *adm, const IcsAdminVm *vm, GError **error)
{
	char *rsc = NULL;

	if (!vm_resource(adm, vm->meta->uuid, &rsc, error))
		return NULL;
	if (rsc == NULL)
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "vm \"%s\": defined on pool %s but has no primitive in the CIB "
			    "(undefine it and define it again)",
			    vm->meta->name, vm->pool_path);
	return rsc;
}

/* The pools the CIB's ocf:ics:vm primitives name (parameter "pool"). */
static void cib_vm_pools(xmlDoc *conf, GPtrArray *pools)
{
	g_autoptr(xmlXPathContext) ctx = xmlXPathNewContext(conf);
	g_autoptr(xmlXPathObject) res = xmlXPathEvalExpression(
		BAD_CAST "//primitive[@class='ocf' and @provider='ics' and @type='vm']"
			 "/instance_attributes/nvpair[@name='pool']/@value",
		ctx);

	for (int i = 0; res && res->nodesetval && i < res->nodesetval->nodeNr; i++) {
		g_autoptr(xmlChar) v = xmlNodeGetContent(res->nodesetval->nodeTab[i]);

		if (v && g_path_is_absolute((const char *)v))
			g_ptr_array_add(pools, pool_canonical((const char *)v));
	}
}

/* Every VM a new VM's name and uuid must not repeat: those on the pools of
 * the pools directory, on @target and on every pool a VM primitive of the
 * CIB (@conf) names; each pool once.  A pool the CIB names that cannot be
 * read here is a warning (its names are not checked). */
static GPtrArray *vms_everywhere(IcsAdmin *adm, const char *target, xmlDoc *conf, GError **error)
{
	IcsAdmin scan = *adm;
	g_autoptr(GPtrArray) pools = NULL;
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) vms =
		g_ptr_array_new_with_free_func((GDestroyNotify)ics_admin_vm_free);

	scan.pool = NULL;
	pools = ics_admin_pools(&scan, error);
	if (pools == NULL)
		return NULL;
	g_ptr_array_add(pools, g_strdup(target));
	cib_vm_pools(conf, pools);
	for (guint i = 0; i < pools->len; i++) {
		const char *pool = pools->pdata[i];
		g_autoptr(GError) e = NULL;

		if (!g_hash_table_add(seen, (gpointer)pool))
			continue;
		if (pool_vms(pool, vms, &e))
			continue;
		if (strcmp(pool, target) == 0) {
			g_propagate_error(error, g_steal_pointer(&e));
			return NULL;
		}
		g_printerr("ics-admin: warning: the names of the VMs on pool %s are not checked: "
			   "%s\n",
			   pool, e->message);
	}
	return g_steal_pointer(&vms);
}

static void warn_undo(const char *what, GError *e)
{
	g_printerr("ics-admin: warning: undo of %s failed: %s\n", what, e->message);
}

/* Delete a CIB object; absent is fine. */
static gboolean cib_delete_quiet(IcsAdmin *adm, const char *scope, const char *tag,
				 const char *id, GError **error)
{
	g_autoptr(GError) e = NULL;

	if (ics_cib_delete(&adm->cib, scope, tag, id, &e))
		return TRUE;
	if (g_error_matches(e, ICS_ERROR, ICS_ERROR_NOT_FOUND))
		return TRUE;
	g_propagate_error(error, g_steal_pointer(&e));
	return FALSE;
}

json_t *ics_admin_vm_define(IcsAdmin *adm, const IcsAdminDefine *req, GError **error)
{
	g_autoptr(IcsVmMeta) draft = NULL;
	g_autoptr(IcsVmMeta) m = NULL;
	g_autoptr(IcsPool) pool = NULL;
	g_autoptr(GPtrArray) vms = NULL;
	g_autoptr(GError) e = NULL;
	g_autoptr(xmlDoc) conf = NULL;
	g_autoptr(xmlDoc) update = NULL;
	g_autofree char *rsc = NULL;
	g_autofree char *pool_path = pool_canonical(req->pool_path);
	IcsCibVmSpec spec = { 0 };
	const IcsCibVmSpec *specs[1];
	json_t *record;
	gboolean slot_new = FALSE, saved = FALSE;

	/* Everything that needs no pool first: a bad definition touches nothing. */
	draft = ics_vm_meta_from_json(req->definition, NULL, error);
	if (draft == NULL)
		return NULL;
	pool = ics_pool_open(pool_path, NULL, error);
	if (pool == NULL)
		return NULL;
	conf = ics_cib_query(&adm->cib, "configuration", error);
	if (conf == NULL)
		return NULL;
	vms = vms_everywhere(adm, pool_path, conf, error);
	if (vms == NULL)
		return NULL;
	for (guint i = 0; i < vms->len; i++) {
		IcsAdminVm *vm = vms->pdata[i];

		if (strcmp(vm->meta->uuid, draft->uuid) == 0) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "vm %s: already defined on pool %s", draft->uuid, vm->pool_path);
			return NULL;
		}
		if (strcmp(vm->meta->name, draft->name) == 0) {
			g_set_error(
				error, ICS_ERROR, ICS_ERROR_CONFLICT,
				"vm \"%s\": the name is taken by vm %s on pool %s (VM names are "
				"unique in the cluster, whatever the pool)",
				draft->name, vm->meta->uuid, vm->pool_path);
			return NULL;
		}
	}

	/* A primitive left without its definition would be merged into, not
	 * created: refuse it, as the manager does. */
	{
		g_autofree char *id = ics_cib_vm_find_id(conf, draft->uuid);

		if (id) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "vm %s: resource %s is already in the CIB without a definition on "
				    "a pool; remove it first (crm configure delete %s)",
				    draft->uuid, id, id);
			return NULL;
		}
	}
	/* The primitive's id: the name, unless the CIB has it already. */
	{
		g_autoptr(GHashTable) taken = ics_cib_ids(conf);

		rsc = ics_cib_vm_resource_id(draft->name, draft->uuid, taken, error);
		if (rsc == NULL)
			return NULL;
	}

	/* Steps 1-2: the lease slot and the definition on the pool. */
	m = ics_vm_pool_save(pool, req->definition, &slot_new, error);
	if (m == NULL) {
		ics_error_prefix(error, "vm \"%s\": ", draft->name);
		return NULL;
	}
	saved = TRUE;

	/* Step 3: the primitive and its constraints, in one CIB update (the
	 * one the manager sends too): Pacemaker sees the VM with its
	 * constraints or not at all, so it may be created already started. */
	spec.uuid = m->uuid;
	spec.rsc_id = rsc;
	spec.name = m->name;
	spec.pool_path = pool_path;
	spec.pool_name = ics_pool_name(pool);
	spec.vcpus = m->vcpus;
	spec.memory_mib = m->memory_mib;
	spec.start = req->start;
	spec.migration_unsafe = req->migration_unsafe == ICS_ADMIN_UNSAFE_AUTO
					? !ics_pool_is_cluster_fs(pool_path)
					: req->migration_unsafe == ICS_ADMIN_UNSAFE_YES;
	specs[0] = &spec;
	update = ics_cib_vms_configuration(specs, 1);
	if (!ics_cib_modify_create(&adm->cib, "configuration", update, &e))
		goto undo;

	record = record_new(m, pool_path, req->start ? "Started" : "Stopped", NULL, rsc);
	json_object_set_new(record, "definition", ics_vm_meta_to_json(m));
	return record;

undo:
	if (saved) {
		g_autoptr(GError) ue = NULL;

		if (!ics_vm_pool_remove(pool, draft->uuid, slot_new, &ue))
			warn_undo("the definition and its lease slot", ue);
	}
	ics_error_prefix(&e, "vm \"%s\": ", draft->name);
	g_propagate_error(error, g_steal_pointer(&e));
	return NULL;
}

/* The role and node of resource @rsc from crm_mon; role "not-in-cib" when
 * @rsc is NULL or unknown. */
static gboolean vm_state(IcsAdmin *adm, const char *rsc, char **role, char **node, GError **error)
{
	g_autoptr(xmlDoc) st = ics_cib_status(&adm->cib, error);

	if (st == NULL)
		return FALSE;
	if (rsc == NULL || !ics_cib_resource_state(st, rsc, role, node))
		*role = g_strdup("not-in-cib");
	return TRUE;
}

/* Poll crm_mon until the VM is running (on @node when not NULL) or stopped. */
static gboolean wait_state(IcsAdmin *adm, const IcsAdminVm *vm, const char *rsc, gboolean running,
			   const char *node, guint wait_s, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)wait_s * G_USEC_PER_SEC;
	guint poll_ms = adm->poll_ms ? adm->poll_ms : 1000;

	for (;;) {
		g_autofree char *role = NULL;
		g_autofree char *on = NULL;
		gboolean done;

		if (!vm_state(adm, rsc, &role, &on, error))
			return FALSE;
		if (running)
			done = on != NULL && strcmp(role, "Started") == 0 &&
			       (node == NULL || strcmp(on, node) == 0);
		else
			done = on == NULL;
		if (done)
			return TRUE;
		if (g_get_monotonic_time() >= deadline) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_TIMEOUT,
				    "vm \"%s\": not %s%s%s after %u s (now %s%s%s); see crm_mon",
				    vm->meta->name, running ? "running" : "stopped",
				    node ? " on " : "", node ? node : "", wait_s, role,
				    on ? " on " : "", on ? on : "");
			return FALSE;
		}
		g_usleep((gulong)poll_ms * 1000);
	}
}

gboolean ics_admin_vm_set_running(IcsAdmin *adm, const char *ref, gboolean running, guint wait_s,
				  GError **error)
{
	g_autoptr(IcsAdminVm) vm = ics_admin_vm_resolve(adm, ref, error);
	g_autofree char *rsc = NULL;

	if (vm == NULL)
		return FALSE;
	rsc = require_resource(adm, vm, error);
	if (rsc == NULL)
		return FALSE;
	if (!ics_cib_set_target_role(&adm->cib, rsc, running ? "Started" : "Stopped", error)) {
		ics_error_prefix(error, "vm \"%s\": ", vm->meta->name);
		return FALSE;
	}
	return wait_s == 0 || wait_state(adm, vm, rsc, running, NULL, wait_s, error);
}

gboolean ics_admin_vm_migrate(IcsAdmin *adm, const char *ref, const char *node,
			      gboolean keep_constraint, guint wait_s, GError **error)
{
	g_autoptr(IcsAdminVm) vm = ics_admin_vm_resolve(adm, ref, error);
	g_autofree char *rsc = NULL;
	g_autofree char *role = NULL;
	g_autofree char *on = NULL;

	if (vm == NULL)
		return FALSE;
	rsc = require_resource(adm, vm, error);
	if (rsc == NULL || !vm_state(adm, rsc, &role, &on, error))
		return FALSE;
	if (on == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "vm \"%s\": not running (%s); start it first", vm->meta->name, role);
		return FALSE;
	}
	if (strcmp(on, node) == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT, "vm \"%s\": already runs on %s",
			    vm->meta->name, node);
		return FALSE;
	}
	{
		g_autoptr(xmlDoc) st = ics_cib_status(&adm->cib, error);

		if (st == NULL)
			return FALSE;
		if (!ics_cib_node_usable(st, node, error)) {
			ics_error_prefix(error, "vm \"%s\": ", vm->meta->name);
			return FALSE;
		}
	}
	if (!ics_cib_move(&adm->cib, rsc, node, error)) {
		ics_error_prefix(error, "vm \"%s\": move to %s: ", vm->meta->name, node);
		return FALSE;
	}
	if (wait_s == 0)
		return TRUE;
	if (!wait_state(adm, vm, rsc, TRUE, node, wait_s, error)) {
		g_printerr("ics-admin: the move constraint of %s stays; 'crm_resource --clear -r %s' "
			   "removes it\n",
			   rsc, rsc);
		return FALSE;
	}
	if (!keep_constraint && !ics_cib_clear(&adm->cib, rsc, error)) {
		ics_error_prefix(error, "vm \"%s\": migrated, but clearing the move constraint: ",
				 vm->meta->name);
		return FALSE;
	}
	return TRUE;
}

gboolean ics_admin_vm_undefine(IcsAdmin *adm, const char *ref, gboolean force, guint wait_s,
			       GError **error)
{
	g_autoptr(IcsAdminVm) vm = ics_admin_vm_resolve(adm, ref, error);
	g_autoptr(IcsPool) pool = NULL;
	g_autoptr(GError) e = NULL;
	g_autofree char *rsc = NULL;
	g_autofree char *role = NULL;
	g_autofree char *on = NULL;

	if (vm == NULL)
		return FALSE;
	if (!vm_resource(adm, vm->meta->uuid, &rsc, error) ||
	    !vm_state(adm, rsc, &role, &on, error))
		return FALSE;
	if (on != NULL) {
		if (!force) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_BUSY,
				    "vm \"%s\": running on %s; stop it first or use --force",
				    vm->meta->name, on);
			return FALSE;
		}
		/* The lease must be free before its slot can be reused. */
		if (!ics_cib_set_target_role(&adm->cib, rsc, "Stopped", error) ||
		    !wait_state(adm, vm, rsc, FALSE, NULL,
				wait_s ? wait_s : ICS_ADMIN_DEFAULT_WAIT_S, error)) {
			ics_error_prefix(error, "vm \"%s\": stop before undefine: ", vm->meta->name);
			return FALSE;
		}
	}
	pool = ics_pool_open(vm->pool_path, NULL, error);
	if (pool == NULL)
		return FALSE;

	/* Every constraint naming it (ours, crm_resource's cli-*, the
	 * user's), then the primitive. */
	if (rsc && strcmp(role, "not-in-cib") != 0 && !ics_cib_clear(&adm->cib, rsc, &e)) {
		g_printerr("ics-admin: warning: vm \"%s\": %s\n", vm->meta->name, e->message);
		g_clear_error(&e);
	}
	if (rsc && (!ics_cib_delete_constraints_of(&adm->cib, rsc, error) ||
		    !cib_delete_quiet(adm, "resources", "primitive", rsc, error))) {
		ics_error_prefix(error, "vm \"%s\": ", vm->meta->name);
		return FALSE;
	}
	if (!ics_slot_release(pool, vm->meta->uuid, FALSE, &e)) {
		if (!g_error_matches(e, ICS_ERROR, ICS_ERROR_NOT_FOUND)) {
			ics_error_prefix(&e, "vm \"%s\": removed from the CIB, but ", vm->meta->name);
			g_propagate_error(error, g_steal_pointer(&e));
			return FALSE;
		}
		g_clear_error(&e);
	}
	if (!ics_vm_store_delete(vm->pool_path, vm->meta->uuid, error)) {
		ics_error_prefix(error, "vm \"%s\": ", vm->meta->name);
		return FALSE;
	}
	return TRUE;
}

/* The value of instance attribute @name of a primitive node. */
static char *prim_param(xmlNode *prim, const char *name)
{
	for (xmlNode *set = prim->children; set; set = set->next) {
		if (set->type != XML_ELEMENT_NODE ||
		    !xmlStrEqual(set->name, BAD_CAST "instance_attributes"))
			continue;
		for (xmlNode *nv = set->children; nv; nv = nv->next) {
			g_autoptr(xmlChar) n = NULL;

			if (nv->type != XML_ELEMENT_NODE)
				continue;
			n = xmlGetProp(nv, BAD_CAST "name");
			if (n && xmlStrEqual(n, BAD_CAST name)) {
				g_autoptr(xmlChar) v = xmlGetProp(nv, BAD_CAST "value");

				return v ? g_strdup((const char *)v) : NULL;
			}
		}
	}
	return NULL;
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

json_t *ics_admin_vm_list(IcsAdmin *adm, GError **error)
{
	g_autoptr(xmlDoc) cfg = ics_cib_query(&adm->cib, "resources", error);
	g_autoptr(xmlDoc) st = NULL;
	g_autoptr(xmlXPathContext) ctx = NULL;
	g_autoptr(xmlXPathObject) prims = NULL;
	g_autoptr(GPtrArray) vms = NULL;
	g_autoptr(GPtrArray) recs = g_ptr_array_new();
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autofree char *only_pool = adm->pool ? pool_canonical(adm->pool) : NULL;
	json_t *out;

	if (cfg == NULL)
		return NULL;
	st = ics_cib_status(&adm->cib, error);
	if (st == NULL)
		return NULL;
	vms = all_vms(adm, error);
	if (vms == NULL)
		return NULL;
	ctx = xmlXPathNewContext(cfg);
	prims = xmlXPathEvalExpression(
		BAD_CAST "//primitive[@class='ocf' and @provider='ics' and @type='vm']", ctx);
	for (int i = 0; prims && prims->nodesetval && i < prims->nodesetval->nodeNr; i++) {
		xmlNode *p = prims->nodesetval->nodeTab[i];
		g_autoptr(xmlChar) id = xmlGetProp(p, BAD_CAST "id");
		g_autofree char *uuid = prim_param(p, "uuid");
		g_autofree char *pool = prim_param(p, "pool");
		g_autofree char *role = NULL;
		g_autofree char *node = NULL;
		const IcsAdminVm *vm = NULL;
		json_t *r;

		if (uuid == NULL || pool == NULL)
			continue;
		if (only_pool && strcmp(only_pool, pool) != 0)
			continue;
		if (!ics_cib_resource_state(st, (const char *)id, &role, &node))
			role = g_strdup("Unknown");
		for (guint j = 0; j < vms->len && vm == NULL; j++) {
			const IcsAdminVm *v = vms->pdata[j];

			if (g_ascii_strcasecmp(v->meta->uuid, uuid) == 0)
				vm = v;
		}
		if (vm == NULL) {
			/* The pool may lie outside the pools dir: look there too. */
			g_autoptr(IcsVmMeta) m = ics_vm_store_load(pool, uuid, NULL);

			if (m)
				r = record_new(m, pool, role, node, (const char *)id);
			else
				r = json_pack("{s:s, s:s?, s:s, s:n, s:n, s:s, s:s?, s:s?}", "uuid",
					      uuid, "name", NULL, "pool", pool, "vcpus",
					      "memory_mib", "state", role, "node", node, "resource",
					      (const char *)id);
		} else {
			r = record_new(vm->meta, pool, role, node, (const char *)id);
		}
		g_hash_table_add(seen, g_ascii_strdown(uuid, -1));
		g_ptr_array_add(recs, r);
	}
	for (guint j = 0; j < vms->len; j++) {
		const IcsAdminVm *v = vms->pdata[j];

		if (!g_hash_table_contains(seen, v->meta->uuid))
			g_ptr_array_add(
				recs, record_new(v->meta, v->pool_path, "not-in-cib", NULL, NULL));
	}
	g_ptr_array_sort(recs, cmp_record);
	out = json_array();
	for (guint i = 0; i < recs->len; i++)
		json_array_append_new(out, recs->pdata[i]);
	return out;
}

json_t *ics_admin_vm_show(IcsAdmin *adm, const char *ref, GError **error)
{
	g_autoptr(IcsAdminVm) vm = ics_admin_vm_resolve(adm, ref, error);
	g_autofree char *rsc = NULL;
	g_autofree char *role = NULL;
	g_autofree char *node = NULL;
	json_t *r;

	if (vm == NULL)
		return NULL;
	if (!vm_resource(adm, vm->meta->uuid, &rsc, error) ||
	    !vm_state(adm, rsc, &role, &node, error))
		return NULL;
	r = record_new(vm->meta, vm->pool_path, role, node, rsc);
	json_object_set_new(r, "definition", ics_vm_meta_to_json(vm->meta));
	return r;
}
