/*
 * vm_mirror.c: the inventory follows the cluster (see
 * ics/manager/vm_mirror.h).
 *
 * The worker takes work items from one queue, in order: a VM change (look
 * at that VM again when it appeared or went, then publish vm.state), a full
 * pass, a flush marker, the stop marker.  Every half second, between items
 * however many there are, the pools' definitions are listed (pool_scan:
 * a readdir per pool) and, every period, a full pass runs.  Each VM is mirrored in
 * its own short write transaction, so the API never waits behind a whole
 * pass.
 *
 * Looking at one VM: the cluster's entry (ops->vm: primitive + pool
 * definition) decides.  A definition that validates and a primitive: the
 * row takes it (inserted or updated when it differs).  Anything wrong: a
 * broken row with the entry's reason.  No entry (NOT_FOUND): the row goes,
 * if it stands for a VM of the cluster.  A VM the write service has
 * claimed is skipped: its own write is on the way, and it will be looked
 * at again by the change its write causes or the next pass.  A name
 * already used by another VM makes the newcomer broken under a name of its
 * own ("<name>.<uuid prefix>") -- two VMs must never share a name, but
 * neither may hide the other.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"
#include "ics/log.h"
#include "ics/manager/request_schema.h"
#include "ics/manager/vm_inventory.h"
#include "ics/manager/vm_mirror.h"

typedef enum { ITEM_CHANGE, ITEM_FULL, ITEM_FLUSH, ITEM_STOP } ItemKind;

typedef struct {
	ItemKind kind;
	char *uuid, *state, *host, *old_state, *old_host;
	/* ITEM_FLUSH: set under the mirror's flush_lock when reached */
	gboolean *reached;
} Item;

/* How often the pools' definitions are listed (a readdir per pool): a
 * definition removed after its primitive (ics-admin vm delete) is gone
 * from the API this long after at most. */
#define POOL_SCAN_US (G_USEC_PER_SEC / 2)

struct IcsVmMirror {
	IcsStore *store;
	IcsEvents *events;
	const IcsClusterOps *cluster;
	IcsVmService *writes;
	guint period_s;
	/* Worker thread only: the uuids of the last pool listing (NULL: none
	 * yet), and when the next full pass is due. */
	GHashTable *pool_uuids;
	gint64 next_full_us, next_scan_us;
	GAsyncQueue *queue; /* Item* */
	GThread *thread;
	GMutex flush_lock;
	GCond flushed;
};

static void item_free(Item *it)
{
	g_free(it->uuid);
	g_free(it->state);
	g_free(it->host);
	g_free(it->old_state);
	g_free(it->old_host);
	g_free(it);
}

/* ---- one VM ------------------------------------------------------------ */

static gint64 owner_of(IcsVmMirror *mr, const char *uuid)
{
	g_autoptr(GError) err = NULL;
	gint64 owner = 0;

	ics_store_read_begin(mr->store);
	if (!ics_vm_inventory_owner(mr->store, uuid, &owner, &err))
		owner = 0;
	ics_store_read_end(mr->store);
	return owner;
}

static void publish(IcsVmMirror *mr, const char *type, gint64 owner, const char *uuid)
{
	ics_events_publish(mr->events, type, "vm.read", owner, json_pack("{s:s}", "uuid", uuid));
}

/* A name of its own for a VM whose name another VM has. */
static char *own_name(const char *name, const char *uuid)
{
	g_autofree char *base = g_strndup(name, 52);

	return g_strdup_printf("%s.%.8s", base, uuid);
}

/* The name a broken VM shows under (the caller holds a reader): its own
 * when it is free, else that of its definition or its primitive with its
 * uuid's first characters, else "broken-<uuid prefix>". */
static char *broken_name(IcsVmMirror *mr, const char *uuid, const IcsVmMeta *vm,
			 const json_t *entry)
{
	const char *cands[] = {
		vm ? vm->name : NULL,
		json_string_value(json_object_get(json_object_get(entry, "definition"), "name")),
		json_string_value(json_object_get(entry, "resource")),
	};

	for (guint i = 0; i < G_N_ELEMENTS(cands); i++) {
		g_autofree char *holder = NULL;

		if (cands[i] == NULL || !ics_name_check("VM name", cands[i], NULL))
			continue;
		holder = ics_vm_inventory_uuid_of(mr->store, cands[i], NULL);
		if (holder == NULL || strcmp(holder, uuid) == 0)
			return g_strdup(cands[i]);
		return own_name(cands[i], uuid);
	}
	return g_strdup_printf("broken-%.8s", uuid);
}

/* Write what the cluster says of one VM; what changed in *what (an event
 * type, or NULL when nothing did). */
static gboolean put(IcsVmMirror *mr, const char *uuid, const json_t *entry, const char **what,
		    GError **error)
{
	const char *reason = json_string_value(json_object_get(entry, "error"));
	const json_t *def = json_object_get(entry, "definition");
	g_autoptr(IcsVmMeta) vm = NULL;
	g_autoptr(GError) verr = NULL;
	g_autofree char *why = NULL, *name = NULL, *other = NULL;
	gboolean existed, ok;
	gint64 owner;

	*what = NULL;
	if (reason == NULL && def) {
		vm = ics_vm_meta_from_json(def, NULL, &verr);
		if (vm && !ics_name_check("VM name", vm->name, &verr))
			g_clear_pointer(&vm, ics_vm_meta_free);
		if (vm == NULL)
			reason = why = g_strdup_printf("its definition cannot be used: %s",
						       verr->message);
	}
	ics_store_read_begin(mr->store);
	existed = ics_vm_inventory_owner(mr->store, uuid, &owner, NULL);
	if (vm) {
		other = ics_vm_inventory_uuid_of(mr->store, vm->name, NULL);
		if (other && strcmp(other, uuid) == 0)
			g_clear_pointer(&other, g_free);
	}
	if (vm && other)
		reason = why = g_strdup_printf("its name \"%s\" is also VM %s's; rename one",
					       vm->name, other);
	if (reason) {
		name = broken_name(mr, uuid, vm, entry);
		ok = !ics_vm_inventory_broken_as(mr->store, uuid, name, reason);
	} else {
		ok = ics_vm_inventory_differs(mr->store, vm, NULL);
	}
	ics_store_read_end(mr->store);
	if (!ok)
		return TRUE; /* the row says what the cluster says */
	if (!ics_store_begin(mr->store, error))
		return FALSE;
	if (reason) {
		ok = ics_vm_inventory_put_broken(mr->store, uuid, name, reason, error);
	} else {
		ok = ics_vm_inventory_put_cluster(mr->store, vm, error);
	}
	if (!ok) {
		ics_store_rollback(mr->store);
		return FALSE;
	}
	if (!ics_store_commit(mr->store, error))
		return FALSE;
	*what = existed ? "vm.updated" : "vm.created";
	if (reason)
		ics_warning("VM %s (%s) is broken: %s", uuid, name, reason);
	else
		ics_info("VM %s (%s) %s from the cluster", uuid, vm->name,
			 existed ? "updated" : "adopted");
	return TRUE;
}

/* The VM is gone from the cluster: so is its row (if it stood for it). */
static gboolean drop(IcsVmMirror *mr, const char *uuid, const char **what, GError **error)
{
	g_autoptr(IcsStmt) st = NULL;
	gint64 n;

	*what = NULL;
	if (!ics_store_begin(mr->store, error))
		return FALSE;
	st = ics_store_stmt(mr->store, "DELETE FROM vms WHERE uuid = ? AND in_cluster", error);
	if (st == NULL) {
		ics_store_rollback(mr->store);
		return FALSE;
	}
	ics_stmt_bind_text(st, 1, uuid);
	if (!ics_stmt_run(st, error)) {
		ics_store_rollback(mr->store);
		return FALSE;
	}
	n = ics_store_changes(mr->store);
	ics_stmt_release(g_steal_pointer(&st));
	if (!ics_store_commit(mr->store, error))
		return FALSE;
	if (n > 0) {
		*what = "vm.deleted";
		ics_info("VM %s is gone from the cluster: removed from the inventory", uuid);
	}
	return TRUE;
}

/* Look at VM @uuid again; @entry: what the cluster says (NULL: ask). */
static void mirror_one(IcsVmMirror *mr, const char *uuid, const json_t *entry)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(json_t) asked = NULL;
	const char *what = NULL;
	gint64 owner;
	gboolean ok;

	if (mr->cluster == NULL || mr->cluster->vm == NULL ||
	    ics_vm_service_busy(mr->writes, uuid))
		return;
	owner = owner_of(mr, uuid);
	if (entry == NULL) {
		asked = mr->cluster->vm(mr->cluster->self, uuid, &err);
		if (asked == NULL && !g_error_matches(err, ICS_ERROR, ICS_ERROR_NOT_FOUND)) {
			ics_warning("mirror: VM %s: %s", uuid, err->message);
			return;
		}
		g_clear_error(&err);
		entry = asked;
	}
	ok = entry ? put(mr, uuid, entry, &what, &err) : drop(mr, uuid, &what, &err);
	if (!ok) {
		ics_warning("mirror: VM %s: %s", uuid, err->message);
		return;
	}
	if (what)
		publish(mr, what, g_str_equal(what, "vm.deleted") ? owner : owner_of(mr, uuid),
			uuid);
}

/* ---- a full pass ---------------------------------------------------------- */

static void full_pass(IcsVmMirror *mr)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(json_t) vms = NULL;
	g_autoptr(GHashTable) rows = NULL;
	GHashTableIter it;
	gpointer key;
	json_t *e;
	size_t i;

	if (mr->cluster == NULL || mr->cluster->vms == NULL)
		return;
	vms = mr->cluster->vms(mr->cluster->self, &err);
	if (vms == NULL) {
		ics_warning("mirror: cannot list the cluster's VMs: %s", err->message);
		return;
	}
	ics_store_read_begin(mr->store);
	rows = ics_vm_inventory_cluster_uuids(mr->store, &err);
	ics_store_read_end(mr->store);
	if (rows == NULL) {
		ics_warning("mirror: %s", err->message);
		return;
	}
	json_array_foreach(vms, i, e)
	{
		const char *uuid = json_string_value(json_object_get(e, "uuid"));

		if (uuid == NULL)
			continue;
		g_hash_table_remove(rows, uuid);
		mirror_one(mr, uuid, e);
	}
	/* What is left is no longer in the cluster. */
	g_hash_table_iter_init(&it, rows);
	while (g_hash_table_iter_next(&it, &key, NULL))
		mirror_one(mr, key, NULL);
}

/* ---- the worker ------------------------------------------------------------ */

static void handle(IcsVmMirror *mr, Item *it)
{
	gint64 owner;

	switch (it->kind) {
	case ITEM_FULL:
		full_pass(mr);
		return;
	case ITEM_CHANGE:
		/* A primitive appeared or went: that VM again, before its state
		 * is told, so a new VM's "vm.created" comes first. */
		if (g_strcmp0(it->old_state, "undefined") == 0 ||
		    g_strcmp0(it->state, "undefined") == 0)
			mirror_one(mr, it->uuid, NULL);
		owner = owner_of(mr, it->uuid);
		ics_events_publish(mr->events, "vm.state", "vm.read", owner,
				   json_pack("{s:s, s:s, s:s?, s:s, s:s?}", "uuid", it->uuid,
					     "state", it->state, "host", it->host,
					     "previous_state", it->old_state, "previous_host",
					     it->old_host));
		return;
	case ITEM_FLUSH:
		g_mutex_lock(&mr->flush_lock);
		*it->reached = TRUE;
		g_cond_broadcast(&mr->flushed);
		g_mutex_unlock(&mr->flush_lock);
		return;
	case ITEM_STOP:
		return;
	}
}

/* A definition appeared on or left a pool without a CIB change (an
 * operator's copy, the files of a primitive deleted with crm): the pools
 * are listed every few seconds and the VMs whose uuid came or went looked
 * at again.  Only names are read, so this stays cheap with thousands of
 * VMs; an edit inside a definition waits for the next full pass. */
static void pool_scan(IcsVmMirror *mr)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(json_t) list = NULL;
	g_autoptr(GHashTable) now = NULL;
	GHashTableIter it;
	gpointer key;
	size_t i;
	json_t *u;

	if (mr->cluster == NULL || mr->cluster->pool_vm_uuids == NULL ||
	    (list = mr->cluster->pool_vm_uuids(mr->cluster->self, &err)) == NULL)
		return;
	now = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	json_array_foreach(list, i, u)
		g_hash_table_add(now, g_ascii_strdown(json_string_value(u), -1));
	if (mr->pool_uuids) {
		g_hash_table_iter_init(&it, now);
		while (g_hash_table_iter_next(&it, &key, NULL))
			if (!g_hash_table_contains(mr->pool_uuids, key))
				mirror_one(mr, key, NULL);
		g_hash_table_iter_init(&it, mr->pool_uuids);
		while (g_hash_table_iter_next(&it, &key, NULL))
			if (!g_hash_table_contains(now, key))
				mirror_one(mr, key, NULL);
		g_hash_table_unref(mr->pool_uuids);
	}
	mr->pool_uuids = g_steal_pointer(&now);
}

static gpointer worker(gpointer data)
{
	IcsVmMirror *mr = data;

	full_pass(mr);
	mr->next_full_us = g_get_monotonic_time() + (gint64)mr->period_s * G_USEC_PER_SEC;
	for (;;) {
		gint64 now = g_get_monotonic_time();
		Item *it;
		ItemKind kind;

		/* On time even when items keep coming (a busy cluster's
		 * state changes): a wait for an idle queue could wait forever. */
		if (now >= mr->next_scan_us) {
			if (mr->period_s && now >= mr->next_full_us) {
				full_pass(mr);
				mr->next_full_us = g_get_monotonic_time() +
						   (gint64)mr->period_s * G_USEC_PER_SEC;
			}
			pool_scan(mr);
			mr->next_scan_us = g_get_monotonic_time() + POOL_SCAN_US;
			continue;
		}
		it = g_async_queue_timeout_pop(mr->queue, (guint64)(mr->next_scan_us - now));
		if (it == NULL)
			continue;
		kind = it->kind;
		handle(mr, it);
		item_free(it);
		if (kind == ITEM_STOP)
			return NULL;
	}
}

static void push(IcsVmMirror *mr, ItemKind kind)
{
	Item *it = g_new0(Item, 1);

	it->kind = kind;
	g_async_queue_push(mr->queue, it);
}

IcsVmMirror *ics_vm_mirror_new(IcsStore *store, IcsEvents *events, const IcsClusterOps *cluster,
			       IcsVmService *writes, guint period_s)
{
	IcsVmMirror *mr = g_new0(IcsVmMirror, 1);

	mr->store = store;
	mr->events = events;
	mr->cluster = cluster;
	mr->writes = writes;
	mr->period_s = period_s;
	mr->queue = g_async_queue_new();
	g_mutex_init(&mr->flush_lock);
	g_cond_init(&mr->flushed);
	mr->thread = g_thread_new("vm-mirror", worker, mr);
	return mr;
}

void ics_vm_mirror_changed(void *self, const char *uuid, const char *state, const char *host,
			   const char *old_state, const char *old_host)
{
	IcsVmMirror *mr = self;
	Item *it = g_new0(Item, 1);

	it->kind = ITEM_CHANGE;
	it->uuid = g_ascii_strdown(uuid, -1);
	it->state = g_strdup(state);
	it->host = g_strdup(host);
	it->old_state = g_strdup(old_state);
	it->old_host = g_strdup(old_host);
	g_async_queue_push(mr->queue, it);
}

void ics_vm_mirror_resync(IcsVmMirror *mr)
{
	push(mr, ITEM_FULL);
}

void ics_vm_mirror_flush(IcsVmMirror *mr)
{
	gboolean reached = FALSE;
	Item *it = g_new0(Item, 1);

	it->kind = ITEM_FLUSH;
	it->reached = &reached;
	g_mutex_lock(&mr->flush_lock);
	g_async_queue_push(mr->queue, it);
	while (!reached)
		g_cond_wait(&mr->flushed, &mr->flush_lock);
	g_mutex_unlock(&mr->flush_lock);
}

void ics_vm_mirror_free(IcsVmMirror *mr)
{
	if (mr == NULL)
		return;
	push(mr, ITEM_STOP);
	g_thread_join(mr->thread);
	g_async_queue_unref(mr->queue);
	if (mr->pool_uuids)
		g_hash_table_unref(mr->pool_uuids);
	g_mutex_clear(&mr->flush_lock);
	g_cond_clear(&mr->flushed);
	g_free(mr);
}
