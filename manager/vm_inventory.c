/*
 * vm_inventory.c: the vms table.
 *
 * vmdef is the one validator of VM definitions: the manager stores exactly
 * what ics_vm_meta_to_json() writes, so what the API returns, what the
 * cluster adapter receives and what later lands on the pool are the same
 * normalised document.  The name is additionally held to the manager's
 * object-name rule, since it appears in URLs and CIB ids.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"
#include "ics/manager/request_schema.h"
#include "ics/manager/timestamp.h"
#include "ics/manager/vm_inventory.h"

IcsVmMeta *ics_vm_inventory_validate(const json_t *definition, GError **error)
{
	g_autoptr(json_t) copy = json_deep_copy(definition);
	g_autoptr(IcsVmMeta) vm = NULL;

	if (!json_is_object(copy)) {
		ics_error_invalid(error, "VM definition must be an object");
		return NULL;
	}
	if (json_object_get(copy, "uuid") == NULL) {
		g_autofree char *uuid = g_uuid_string_random();

		json_object_set_new(copy, "uuid", json_string(uuid));
	}
	vm = ics_vm_meta_from_json(copy, NULL, error);
	if (vm == NULL)
		return NULL;
	if (!ics_name_check("VM name", vm->name, error))
		return NULL;
	return g_steal_pointer(&vm);
}

static gboolean conflict_message(GError **error, const IcsVmMeta *vm)
{
	if (g_error_matches(*error, ICS_ERROR, ICS_ERROR_CONFLICT)) {
		g_clear_error(error);
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "a VM with uuid %s or name \"%s\" already exists", vm->uuid, vm->name);
	}
	return FALSE;
}

gboolean ics_vm_inventory_insert(IcsStore *store, const IcsVmMeta *vm, gint64 owner_id,
				 gboolean in_cluster, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store,
		"INSERT INTO vms (uuid, name, owner_id, vcpus, memory_mib, definition, created_us,"
		" updated_us, in_cluster) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		error);
	g_autoptr(json_t) def = ics_vm_meta_to_json(vm);
	g_autofree char *text = json_dumps(def, JSON_COMPACT | JSON_SORT_KEYS);
	gint64 now = ics_now_us();

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_text(st, 1, vm->uuid);
	ics_stmt_bind_text(st, 2, vm->name);
	if (owner_id)
		ics_stmt_bind_int(st, 3, owner_id);
	ics_stmt_bind_int(st, 4, vm->vcpus);
	ics_stmt_bind_int(st, 5, (gint64)vm->memory_mib);
	ics_stmt_bind_text(st, 6, text);
	ics_stmt_bind_int(st, 7, now);
	ics_stmt_bind_int(st, 8, now);
	ics_stmt_bind_int(st, 9, in_cluster);
	if (!ics_stmt_run(st, error))
		return conflict_message(error, vm);
	return TRUE;
}

/* ---- the mirror's writes ---------------------------------------------- */

gboolean ics_vm_inventory_put_broken(IcsStore *store, const char *uuid, const char *name,
				     const char *reason, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store,
		"INSERT INTO vms (uuid, name, owner_id, vcpus, memory_mib, definition, created_us,"
		" updated_us, in_cluster, broken) VALUES (?1, ?2, NULL, 0, 0, '{}', ?3, ?3, 1, ?4)"
		" ON CONFLICT(uuid) DO UPDATE SET name = ?2, vcpus = 0, memory_mib = 0,"
		" definition = '{}', updated_us = ?3, in_cluster = 1, broken = ?4",
		error);

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_text(st, 1, uuid);
	ics_stmt_bind_text(st, 2, name);
	ics_stmt_bind_int(st, 3, ics_now_us());
	ics_stmt_bind_text(st, 4, reason);
	return ics_stmt_run(st, error);
}

gboolean ics_vm_inventory_put_cluster(IcsStore *store, const IcsVmMeta *vm, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store,
		"INSERT INTO vms (uuid, name, owner_id, vcpus, memory_mib, definition, created_us,"
		" updated_us, in_cluster, broken) VALUES (?1, ?2, NULL, ?3, ?4, ?5, ?6, ?6, 1, NULL)"
		" ON CONFLICT(uuid) DO UPDATE SET name = ?2, vcpus = ?3, memory_mib = ?4,"
		" definition = ?5, updated_us = ?6, in_cluster = 1, broken = NULL",
		error);
	g_autoptr(json_t) def = ics_vm_meta_to_json(vm);
	g_autofree char *text = json_dumps(def, JSON_COMPACT | JSON_SORT_KEYS);

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_text(st, 1, vm->uuid);
	ics_stmt_bind_text(st, 2, vm->name);
	ics_stmt_bind_int(st, 3, vm->vcpus);
	ics_stmt_bind_int(st, 4, (gint64)vm->memory_mib);
	ics_stmt_bind_text(st, 5, text);
	ics_stmt_bind_int(st, 6, ics_now_us());
	return ics_stmt_run(st, error);
}

gboolean ics_vm_inventory_broken_as(IcsStore *store, const char *uuid, const char *name,
				    const char *reason)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store, "SELECT count(*) FROM vms WHERE uuid = ? AND name = ? AND broken = ?", NULL);

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_text(st, 1, uuid);
	ics_stmt_bind_text(st, 2, name);
	ics_stmt_bind_text(st, 3, reason);
	return ics_stmt_step(st, NULL) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0;
}

gboolean ics_vm_inventory_differs(IcsStore *store, const IcsVmMeta *vm, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store, "SELECT definition, broken FROM vms WHERE uuid = ?", error);
	g_autoptr(IcsVmMeta) have = NULL;
	int rc;

	if (st == NULL)
		return TRUE;
	ics_stmt_bind_text(st, 1, vm->uuid);
	rc = ics_stmt_step(st, error);
	if (rc != SQLITE_ROW || sqlite3_column_type(st, 1) != SQLITE_NULL)
		return TRUE;
	have = ics_vm_meta_parse(ics_stmt_text(st, 0), NULL, NULL);
	return have == NULL || !ics_vm_meta_equal(have, vm);
}

GHashTable *ics_vm_inventory_cluster_uuids(IcsStore *store, GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store, "SELECT uuid FROM vms WHERE in_cluster", error);
	g_autoptr(GHashTable) set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	int rc;

	if (st == NULL)
		return NULL;
	while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW)
		g_hash_table_add(set, g_strdup(ics_stmt_text(st, 0)));
	if (rc < 0)
		return NULL;
	return g_steal_pointer(&set);
}

char *ics_vm_inventory_uuid_of(IcsStore *store, const char *name, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(store, "SELECT uuid FROM vms WHERE name = ?", error);

	if (st == NULL)
		return NULL;
	ics_stmt_bind_text(st, 1, name);
	return ics_stmt_step(st, error) == SQLITE_ROW ? g_strdup(ics_stmt_text(st, 0)) : NULL;
}

static gboolean require_changed(IcsStore *store, const char *uuid, GError **error)
{
	if (ics_store_changes(store) == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "VM %s does not exist", uuid);
		return FALSE;
	}
	return TRUE;
}

gboolean ics_vm_inventory_update(IcsStore *store, const IcsVmMeta *vm, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store,
		"UPDATE vms SET name = ?, vcpus = ?, memory_mib = ?, definition = ?, updated_us = ?"
		" WHERE uuid = ?",
		error);
	g_autoptr(json_t) def = ics_vm_meta_to_json(vm);
	g_autofree char *text = json_dumps(def, JSON_COMPACT | JSON_SORT_KEYS);

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_text(st, 1, vm->name);
	ics_stmt_bind_int(st, 2, vm->vcpus);
	ics_stmt_bind_int(st, 3, (gint64)vm->memory_mib);
	ics_stmt_bind_text(st, 4, text);
	ics_stmt_bind_int(st, 5, ics_now_us());
	ics_stmt_bind_text(st, 6, vm->uuid);
	if (!ics_stmt_run(st, error))
		return conflict_message(error, vm);
	return require_changed(store, vm->uuid, error);
}

gboolean ics_vm_inventory_set_owner(IcsStore *store, const char *uuid, gint64 owner_id,
				    GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store, "UPDATE vms SET owner_id = ?, updated_us = ? WHERE uuid = ?", error);

	if (st == NULL)
		return FALSE;
	if (owner_id)
		ics_stmt_bind_int(st, 1, owner_id);
	ics_stmt_bind_int(st, 2, ics_now_us());
	ics_stmt_bind_text(st, 3, uuid);
	return ics_stmt_run(st, error) && require_changed(store, uuid, error);
}

gboolean ics_vm_inventory_delete(IcsStore *store, const char *uuid, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(store, "DELETE FROM vms WHERE uuid = ?", error);

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_text(st, 1, uuid);
	return ics_stmt_run(st, error) && require_changed(store, uuid, error);
}

gboolean ics_vm_inventory_owner(IcsStore *store, const char *uuid, gint64 *owner_id, GError **error)
{
	g_autoptr(IcsStmt) st =
		ics_store_stmt(store, "SELECT owner_id FROM vms WHERE uuid = ?", error);
	int rc;

	if (st == NULL)
		return FALSE;
	ics_stmt_bind_text(st, 1, uuid);
	rc = ics_stmt_step(st, error);
	if (rc < 0)
		return FALSE;
	if (rc == SQLITE_DONE) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "VM %s does not exist", uuid);
		return FALSE;
	}
	*owner_id = sqlite3_column_int64(st, 0);
	return TRUE;
}

#define VM_COLUMNS                                                                                 \
	"v.uuid, v.name, u.name, v.vcpus, v.memory_mib, v.created_us, v.updated_us, v.definition,"  \
	" v.broken"

static json_t *summary_json(IcsStmt *st, gboolean with_definition)
{
	g_autofree char *created = ics_timestamp_format(sqlite3_column_int64(st, 5));
	g_autofree char *updated = ics_timestamp_format(sqlite3_column_int64(st, 6));
	json_t *o = json_pack("{s:s, s:s, s:s?, s:I, s:I, s:s, s:s}", "uuid", ics_stmt_text(st, 0),
			      "name", ics_stmt_text(st, 1), "owner", ics_stmt_text(st, 2), "vcpus",
			      (json_int_t)sqlite3_column_int64(st, 3), "memory_mib",
			      (json_int_t)sqlite3_column_int64(st, 4), "created_at", created,
			      "updated_at", updated);

	if (json_object_get(o, "owner") == NULL)
		json_object_set_new(o, "owner", json_null());
	if (with_definition)
		json_object_set_new(o, "definition", json_loads(ics_stmt_text(st, 7), 0, NULL));
	if (ics_stmt_text(st, 8))
		json_object_set_new(o, "broken", json_string(ics_stmt_text(st, 8)));
	return o;
}

static IcsStmt *get_stmt(IcsStore *store, const char *uuid, GError **error)
{
	IcsStmt *st = ics_store_stmt(store,
				     "SELECT " VM_COLUMNS " FROM vms v LEFT JOIN users u"
				     " ON u.id = v.owner_id WHERE v.uuid = ?",
				     error);
	int rc;

	if (st == NULL)
		return NULL;
	ics_stmt_bind_text(st, 1, uuid);
	rc = ics_stmt_step(st, error);
	if (rc == SQLITE_ROW)
		return st;
	if (rc == SQLITE_DONE)
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "VM %s does not exist", uuid);
	ics_stmt_release(st);
	return NULL;
}

json_t *ics_vm_inventory_get(IcsStore *store, const char *uuid, GError **error)
{
	g_autoptr(IcsStmt) st = get_stmt(store, uuid, error);

	return st ? summary_json(st, TRUE) : NULL;
}

IcsVmMeta *ics_vm_inventory_meta(IcsStore *store, const char *uuid, GError **error)
{
	g_autoptr(IcsStmt) st = get_stmt(store, uuid, error);

	return st ? ics_vm_meta_parse(ics_stmt_text(st, 7), NULL, error) : NULL;
}

/*
 * A list page is written as JSON text straight from the rows.  This is the
 * API's hottest read (GET /api/v1/vms?limit=100 at 10,000 requests/s), and
 * measured per page, building a jansson tree and dumping it, or having
 * SQLite write each row with json_object(), cost several times more.
 * Only five kinds of values appear: uuids and names (vmdef and the name rule
 * restrict them to [A-Za-z0-9._-], but they are escaped anyway), integers,
 * and times formatted by ics_timestamp_format_into().
 */
/* A uuid and its NUL (uuids are validated by vmdef). */
#define ICS_VM_UUID_BUF 37

static void append_json_string(GString *out, const char *s)
{
	const guchar *p = (const guchar *)s;

	g_string_append_c(out, '"');
	while (*p) {
		const guchar *run = p;

		while (*p && *p != '"' && *p != '\\' && *p >= 0x20)
			p++;
		g_string_append_len(out, (const char *)run, p - run);
		if (*p == '"' || *p == '\\') {
			g_string_append_c(out, '\\');
			g_string_append_c(out, (char)*p++);
		} else if (*p) {
			g_string_append_printf(out, "\\u%04x", *p++);
		}
	}
	g_string_append_c(out, '"');
}

/*
 * A row is written in place: its room is reserved in @out at once (every
 * byte of a string may become six), filled with plain stores, and the
 * string cut to what was written.  Together with integers without printf
 * and no copy of each row's uuid, a page of 100 of 10,000 VMs went from
 * 128-137 to 82-92 us in process (-O2, busy 2-core machine).
 */
static char *put_json_string(char *p, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	*p++ = '"';
	for (const guchar *c = (const guchar *)s; *c; c++) {
		if (*c == '"' || *c == '\\') {
			*p++ = '\\';
			*p++ = (char)*c;
		} else if (*c < 0x20) {
			memcpy(p, "\\u00", 4);
			p += 4;
			*p++ = hex[*c >> 4];
			*p++ = hex[*c & 15];
		} else {
			*p++ = (char)*c;
		}
	}
	*p++ = '"';
	return p;
}

static char *put_int(char *p, gint64 v)
{
	char buf[24], *b = buf + sizeof(buf);
	guint64 u = v < 0 ? -(guint64)v : (guint64)v;

	do
		*--b = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--b = '-';
	memcpy(p, b, buf + sizeof(buf) - b);
	return p + (buf + sizeof(buf) - b);
}

/* @lit is a string literal. */
#define PUT_LITERAL(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

static char *put_time(char *p, gint64 us)
{
	ics_timestamp_format_into(us, p);
	return p + strlen(p);
}

static void append_summary(GString *out, IcsStmt *st)
{
	const char *uuid = ics_stmt_text(st, 0), *name = ics_stmt_text(st, 1);
	const char *owner = ics_stmt_text(st, 2), *broken = ics_stmt_text(st, 7);
	gsize at = out->len, room;
	char *p;

	room = 180 + 2 * ICS_TIMESTAMP_LEN + 2 * 24 +
	       6 * (strlen(uuid) + strlen(name) + (owner ? strlen(owner) : 0) +
		    (broken ? strlen(broken) : 0));
	g_string_set_size(out, at + room);
	p = out->str + at;
	p = PUT_LITERAL(p, "{\"uuid\":");
	p = put_json_string(p, uuid);
	p = PUT_LITERAL(p, ",\"name\":");
	p = put_json_string(p, name);
	p = PUT_LITERAL(p, ",\"owner\":");
	p = owner ? put_json_string(p, owner) : PUT_LITERAL(p, "null");
	p = PUT_LITERAL(p, ",\"vcpus\":");
	p = put_int(p, sqlite3_column_int64(st, 3));
	p = PUT_LITERAL(p, ",\"memory_mib\":");
	p = put_int(p, sqlite3_column_int64(st, 4));
	p = PUT_LITERAL(p, ",\"created_at\":\"");
	p = put_time(p, sqlite3_column_int64(st, 5));
	p = PUT_LITERAL(p, "\",\"updated_at\":\"");
	p = put_time(p, sqlite3_column_int64(st, 6));
	p = PUT_LITERAL(p, "\"");
	if (broken) {
		p = PUT_LITERAL(p, ",\"broken\":");
		p = put_json_string(p, broken);
	}
	p = PUT_LITERAL(p, "}");
	g_string_truncate(out, (gsize)(p - out->str));
}

void ics_vm_inventory_append_runtime(GString *out, const char *state, const char *host,
				     const char *pool, const char *resource)
{
	g_string_append(out, ",\"runtime\":{\"state\":");
	append_json_string(out, state);
	g_string_append(out, ",\"host\":");
	if (host)
		append_json_string(out, host);
	else
		g_string_append(out, "null");
	g_string_append(out, ",\"pool\":");
	if (pool)
		append_json_string(out, pool);
	else
		g_string_append(out, "null");
	if (resource) {
		g_string_append(out, ",\"resource\":");
		append_json_string(out, resource);
	}
	g_string_append_c(out, '}');
}

GString *ics_vm_inventory_list(IcsStore *store, const char *after, gint64 limit, gint64 owner_id,
			       IcsVmRowFn row_fn, gpointer row_data, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		store,
		"SELECT v.uuid, v.name, u.name, v.vcpus, v.memory_mib, v.created_us, v.updated_us,"
		" v.broken FROM vms v LEFT JOIN users u ON u.id = v.owner_id"
		" WHERE v.uuid > ?1 AND (?2 = 0 OR v.owner_id = ?2) ORDER BY v.uuid LIMIT ?3",
		error);
	g_autoptr(GString) out = NULL;
	char last[ICS_VM_UUID_BUF] = "";
	int rc, n = 0;

	if (st == NULL)
		return NULL;
	out = g_string_sized_new(256 + 256 * (gsize)limit);
	ics_stmt_bind_text(st, 1, after ? after : "");
	ics_stmt_bind_int(st, 2, owner_id);
	ics_stmt_bind_int(st, 3, limit + 1);
	g_string_append(out, "{\"items\":[");
	while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW) {
		if (n++ == limit)
			break;
		g_strlcpy(last, ics_stmt_text(st, 0), sizeof(last));
		if (n > 1)
			g_string_append_c(out, ',');
		append_summary(out, st);
		if (row_fn) {
			/* Members of the caller's inside the object. */
			g_string_truncate(out, out->len - 1);
			row_fn(last, out, row_data);
			g_string_append_c(out, '}');
		}
	}
	if (rc < 0)
		return NULL;
	g_string_append(out, "],\"next\":");
	if (rc == SQLITE_ROW)
		append_json_string(out, last);
	else
		g_string_append(out, "null");
	g_string_append_c(out, '}');
	return g_steal_pointer(&out);
}
