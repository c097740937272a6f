/*
 * retention.c: which backups of a VM to keep, and pruning the others.
 *
 * The rules are the ones operators know from borg, restic and Proxmox:
 * keep the newest N backups, and the newest backup of each of the last N
 * days, ISO weeks and months that have one (UTC, from each backup's
 * "created").  A backup is kept when any rule selects it.  On top of the
 * rules, a chain is never cut: every backup a kept incremental depends on
 * is kept ("needed by <id>"), so pruning never makes a listed backup
 * unrestorable.  The newest backup is always kept (every rule starts with
 * it), which also keeps the parent the next incremental will use.
 *
 * A policy's retention governs only the backups that policy took (the
 * manifest's "policy"): another policy's or a person's backups are kept,
 * and so are the backups they depend on.
 *
 * The decision is a pure function of the list (tested on its own); the
 * prune takes the VM's lock in the repository, so no backup of the VM is
 * written into it meanwhile, reads the list under the lock, and discards
 * newest first.  A VM that cannot be pruned (busy, a discard that failed)
 * is reported with what was done, and the other VMs are still pruned.
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "ics/error.h"
#include "ics/json.h"
#include "backup_internal.h"

gboolean ics_backup_retention_check(const IcsBackupRetention *r, GError **error)
{
	if (r->last == 0 && r->daily == 0 && r->weekly == 0 && r->monthly == 0)
		return ics_error_invalid(error,
					 "a retention must keep something: give at least one of "
					 "last, daily, weekly, monthly above 0");
	return TRUE;
}

gboolean ics_backup_retention_parse(const char *text, IcsBackupRetention *r, GError **error)
{
	g_auto(GStrv) parts = g_strsplit(text ? text : "", ",", -1);

	memset(r, 0, sizeof(*r));
	for (guint i = 0; parts[i]; i++) {
		g_auto(GStrv) kv = g_strsplit(g_strstrip(parts[i]), "=", 2);
		guint64 v = 0;
		guint *field = NULL;

		if (kv[0] == NULL || kv[1] == NULL ||
		    !g_ascii_string_to_unsigned(kv[1], 10, 0, 100000, &v, NULL))
			return ics_error_invalid(error,
						 "retention \"%s\": expected NAME=COUNT (a count "
						 "from 0 to 100000) separated by commas",
						 parts[i]);
		if (g_str_equal(kv[0], "last"))
			field = &r->last;
		else if (g_str_equal(kv[0], "daily"))
			field = &r->daily;
		else if (g_str_equal(kv[0], "weekly"))
			field = &r->weekly;
		else if (g_str_equal(kv[0], "monthly"))
			field = &r->monthly;
		else
			return ics_error_invalid(error,
						 "retention: unknown rule \"%s\" (last, daily, "
						 "weekly, monthly)",
						 kv[0]);
		*field = (guint)v;
	}
	return ics_backup_retention_check(r, error);
}

/* The period of @created a rule counts in: "2026-12-07" (day), "2026-W49"
 * (ISO week), "2026-12" (month); NULL when it cannot be read. */
static char *period_of(const char *created, char rule)
{
	g_autoptr(GDateTime) t = created ? g_date_time_new_from_iso8601(created, NULL) : NULL;
	g_autoptr(GDateTime) u = t ? g_date_time_to_utc(t) : NULL;

	if (u == NULL)
		return NULL;
	return g_date_time_format(u, rule == 'd' ? "%Y-%m-%d" : rule == 'w' ? "%G-W%V" : "%Y-%m");
}

static void add_reason(GPtrArray *why, guint i, const char *reason)
{
	char *old = g_ptr_array_index(why, i);

	why->pdata[i] = old ? g_strconcat(old, ", ", reason, NULL) : g_strdup(reason);
	g_free(old);
}

GPtrArray *ics_backup_retention_decide(GPtrArray *backups, const IcsBackupRetention *r,
				       const char *policy)
{
	static const struct {
		char rule;
		const char *name;
		gsize offset;
	} periods[] = {
		{ 'd', "daily", G_STRUCT_OFFSET(IcsBackupRetention, daily) },
		{ 'w', "weekly", G_STRUCT_OFFSET(IcsBackupRetention, weekly) },
		{ 'm', "monthly", G_STRUCT_OFFSET(IcsBackupRetention, monthly) },
	};
	GPtrArray *why = g_ptr_array_new_full(backups->len, g_free);
	g_autoptr(GHashTable) index = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GArray) mine = g_array_new(FALSE, FALSE, sizeof(guint)); /* newest first */
	g_autofree char *others = policy ? g_strdup_printf("not policy %s's", policy) : NULL;
	guint n = backups->len;

	g_ptr_array_set_size(why, n);
	for (guint i = 0; i < n; i++) {
		const IcsBackupManifest *m = g_ptr_array_index(backups, i);

		g_hash_table_insert(index, m->id, GUINT_TO_POINTER(i + 1));
	}
	/* the rules count the backups they own; the others are kept */
	for (guint k = 0; k < n; k++) {
		guint i = n - 1 - k;
		const IcsBackupManifest *m = g_ptr_array_index(backups, i);

		if (policy == NULL || g_strcmp0(m->policy, policy) == 0)
			g_array_append_val(mine, i);
		else
			add_reason(why, i, others);
	}
	for (guint k = 0; k < mine->len && k < r->last; k++)
		add_reason(why, g_array_index(mine, guint, k), "last");
	for (guint p = 0; p < G_N_ELEMENTS(periods); p++) {
		guint want = G_STRUCT_MEMBER(guint, r, periods[p].offset), kept = 0;
		g_autofree char *last_period = NULL;

		for (guint k = 0; k < mine->len && kept < want; k++) {
			guint i = g_array_index(mine, guint, k);
			const IcsBackupManifest *m = g_ptr_array_index(backups, i);
			g_autofree char *period = period_of(m->created, periods[p].rule);

			if (period == NULL || g_strcmp0(period, last_period) == 0)
				continue;
			add_reason(why, i, periods[p].name);
			g_free(last_period);
			last_period = g_steal_pointer(&period);
			kept++;
		}
	}
	/* chains: newest first, so that "needed by" propagates down a chain */
	for (guint k = 0; k < n; k++) {
		guint i = n - 1 - k;
		const IcsBackupManifest *m = g_ptr_array_index(backups, i);
		const IcsBackupManifest *cur = m;

		if (g_ptr_array_index(why, i) == NULL)
			continue;
		while (cur->incremental && cur->parent) {
			guint j = GPOINTER_TO_UINT(g_hash_table_lookup(index, cur->parent));

			if (j == 0 || g_ptr_array_index(why, j - 1) != NULL)
				break;
			{
				g_autofree char *need = g_strdup_printf("needed by %s", m->id);

				add_reason(why, j - 1, need);
			}
			cur = g_ptr_array_index(backups, j - 1);
		}
	}
	return why;
}

/* Prune one VM's backups (its lock taken by the caller) into @out's
 * "kept" and "pruned"; FALSE with @error when a discard failed (what was
 * pruned before it is in @out). */
static gboolean prune_vm(IcsBackupRepo *repo, const char *vm_uuid, const IcsBackupRetention *r,
			 const char *policy, gboolean dry_run, json_t *out, GError **error)
{
	g_autoptr(GPtrArray) list = ics_backup_repo_list(repo, vm_uuid, NULL, error);
	g_autoptr(GPtrArray) why = NULL;
	json_t *kept = json_object_get(out, "kept"), *pruned = json_object_get(out, "pruned");

	if (list == NULL)
		return FALSE;
	why = ics_backup_retention_decide(list, r, policy);
	for (guint i = 0; i < list->len; i++) {
		const IcsBackupManifest *m = g_ptr_array_index(list, i);
		const char *reason = g_ptr_array_index(why, i);

		json_object_set_new(out, "vm_name", json_string(m->vm_name));
		if (reason)
			json_array_append_new(kept, json_pack("{s:s, s:s}", "id", m->id, "why",
							      reason));
	}
	for (guint k = 0; k < list->len; k++) {
		guint i = list->len - 1 - k;
		const IcsBackupManifest *m = g_ptr_array_index(list, i);

		if (g_ptr_array_index(why, i) != NULL)
			continue;
		if (!dry_run && !ics_backup_discard(repo, m, error))
			return FALSE;
		json_array_append_new(pruned, json_string(m->id));
	}
	return TRUE;
}

json_t *ics_backup_prune(IcsBackupRepo *repo, const char *vm_uuid, const IcsBackupRetention *r,
			 const char *policy, gboolean dry_run, GError **error)
{
	g_autoptr(json_t) vms = json_array();
	g_autoptr(GPtrArray) uuids = g_ptr_array_new_with_free_func(g_free);

	if (!ics_backup_retention_check(r, error))
		return NULL;
	if (vm_uuid && !g_uuid_string_is_valid(vm_uuid)) {
		ics_error_invalid(error, "\"%s\" is not a VM uuid", vm_uuid);
		return NULL;
	}
	if (vm_uuid) {
		g_ptr_array_add(uuids, g_strdup(vm_uuid));
	} else {
		g_autoptr(GPtrArray) all = ics_backup_repo_list(repo, NULL, NULL, error);

		if (all == NULL)
			return NULL;
		for (guint i = 0; i < all->len; i++) {
			const IcsBackupManifest *m = g_ptr_array_index(all, i);

			if (uuids->len == 0 ||
			    !g_str_equal(g_ptr_array_index(uuids, uuids->len - 1), m->vm_uuid))
				g_ptr_array_add(uuids, g_strdup(m->vm_uuid));
		}
	}
	for (guint i = 0; i < uuids->len; i++) {
		const char *u = g_ptr_array_index(uuids, i);
		g_autoptr(GError) err = NULL;
		json_t *one = json_pack("{s:s, s:n, s:[], s:[]}", "vm_uuid", u, "vm_name", "kept",
					"pruned");
		int lock = backup_repo_vm_lock(repo, u, &err);

		json_array_append_new(vms, one);
		if (lock >= 0) {
			prune_vm(repo, u, r, policy, dry_run, one, &err);
			close(lock);
		}
		if (err)
			json_object_set_new(one, "error", json_string(err->message));
	}
	return json_pack("{s:O}", "vms", vms);
}
