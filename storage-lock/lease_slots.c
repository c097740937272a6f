/*
 * lease_slots.c: which VM's lease lives in which slot of the leases file.
 *
 * A slot is allocated by creating <pool>/.ics/slots/<k>.  The record is
 * written to a private temporary file first and then link(2)ed into place:
 * link fails with EEXIST if the name exists, so -- like O_EXCL, on local
 * file systems and NFS alike -- two allocators racing for slot k cannot both
 * win, and a reader never sees a half-written record.  Allocation is
 * idempotent per owner; if two allocators for the same owner race, both
 * keep the lowest slot and the other record is removed.  The lease area of
 * a new slot is then (re)initialised through sanlock_direct_write_resource
 * with the owner's name as the resource name; the leases file grows
 * sparsely as sanlock writes past its end.  Slot 0 is ICS's own.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdint.h>

#include <sanlock.h>
#include <sanlock_admin.h>
#include <sanlock_direct.h>

#include "ics/error.h"
#include "lock_internal.h"

void ics_slot_free_entry(IcsSlot *slot)
{
	if (!slot)
		return;
	g_free(slot->owner);
	g_free(slot);
}

static gint slot_cmp(gconstpointer a, gconstpointer b)
{
	const IcsSlot *x = *(IcsSlot *const *)a, *y = *(IcsSlot *const *)b;

	return x->index < y->index ? -1 : x->index > y->index;
}

GPtrArray *ics_slot_list(IcsPool *pool, GError **error)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)ics_slot_free_entry);
	g_autoptr(GError) local = NULL;
	g_autoptr(GDir) dir = g_dir_open(pool->slots_dir, 0, &local);
	const char *entry;

	if (!dir) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "pool \"%s\": %s; re-run 'ics-lease init'",
			    pool->name, local->message);
		return NULL;
	}
	while ((entry = g_dir_read_name(dir))) {
		char *end = NULL;
		guint64 k = g_ascii_strtoull(entry, &end, 10);
		if (!g_ascii_isdigit(entry[0]) || *end || k < 1 || k > pool->lease_slots)
			continue;   /* temporary files and strays */
		g_autofree char *p = g_build_filename(pool->slots_dir, entry, NULL);
		g_autofree char *text = NULL;
		if (!g_file_get_contents(p, &text, NULL, NULL))
			continue;   /* freed meanwhile */
		g_strchomp(text);
		IcsSlot *s = g_new0(IcsSlot, 1);
		s->index = (guint)k;
		s->owner = g_steal_pointer(&text);
		g_ptr_array_add(out, s);
	}
	g_ptr_array_sort(out, slot_cmp);
	return g_steal_pointer(&out);
}

int ics_slot_lookup(IcsPool *pool, const char *owner, GError **error)
{
	g_autoptr(GPtrArray) slots = NULL;

	if (!ics_owner_name_valid(owner, error))
		return -1;
	slots = ics_slot_list(pool, error);
	if (!slots)
		return -1;
	for (guint i = 0; i < slots->len; i++) {
		IcsSlot *s = g_ptr_array_index(slots, i);
		if (strcmp(s->owner, owner) == 0)
			return (int)s->index;   /* the list is sorted: the lowest */
	}
	g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "pool \"%s\": no lease slot for \"%s\"",
		    pool->name, owner);
	return -1;
}

static char *slot_path(IcsPool *pool, guint k)
{
	g_autofree char *name = g_strdup_printf("%u", k);

	return g_build_filename(pool->slots_dir, name, NULL);
}

/* Write the record to a temporary file; its path in *tmp_out. */
static gboolean slot_record_prepare(IcsPool *pool, const char *owner, char **tmp_out, GError **error)
{
	g_autofree char *tmp = g_build_filename(pool->slots_dir, ".new-XXXXXX", NULL);
	int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0644);

	if (fd < 0) {
		ics_error_set_errno(error, errno, "pool \"%s\": cannot create a slot record in %s",
				    pool->name, pool->slots_dir);
		return FALSE;
	}
	g_autofree char *text = g_strdup_printf("%s\n", owner);
	gsize len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
		int saved = errno;
		close(fd);
		unlink(tmp);
		ics_error_set_errno(error, saved, "pool \"%s\": cannot write %s", pool->name, tmp);
		return FALSE;
	}
	close(fd);
	*tmp_out = g_steal_pointer(&tmp);
	return TRUE;
}

int ics_slot_alloc(IcsPool *pool, const char *owner, GError **error)
{
	g_autoptr(GError) local = NULL;
	g_autofree char *tmp = NULL;
	int have = ics_slot_lookup(pool, owner, &local);
	int won = -1;

	if (have > 0)
		return have;
	if (!g_error_matches(local, ICS_ERROR, ICS_ERROR_NOT_FOUND)) {
		g_propagate_error(error, g_steal_pointer(&local));
		return -1;
	}
	if (!slot_record_prepare(pool, owner, &tmp, error))
		return -1;
	for (guint k = 1; k <= pool->lease_slots; k++) {
		g_autofree char *p = slot_path(pool, k);
		if (link(tmp, p) == 0) {
			won = (int)k;
			break;
		}
		if (errno != EEXIST) {
			ics_error_set_errno(error, errno, "pool \"%s\": cannot create slot record %s",
					    pool->name, p);
			unlink(tmp);
			return -1;
		}
	}
	unlink(tmp);
	if (won < 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_BUSY,
			    "pool \"%s\": all %u lease slots are allocated; free slots of deleted VMs "
			    "or re-create the pool with more --slots",
			    pool->name, pool->lease_slots);
		return -1;
	}
	/* Same owner allocated concurrently elsewhere: keep the lowest slot. */
	int lowest = ics_slot_lookup(pool, owner, NULL);
	if (lowest > 0 && lowest != won) {
		g_autofree char *p = slot_path(pool, (guint)won);
		unlink(p);
		return lowest;
	}
	g_autofree struct sanlk_resource *res = ics_pool_resource_new(pool, owner, (guint)won);
	int rv = sanlock_direct_write_resource(res, 0, 0, 0);
	if (rv < 0) {
		g_autofree char *p = slot_path(pool, (guint)won);
		unlink(p);
		ics_sanlock_error(error, rv, ICS_ERROR_IO,
				  "pool \"%s\": cannot initialise the lease of slot %d (%s) in %s",
				  pool->name, won, owner, pool->leases_path);
		return -1;
	}
	return won;
}

gboolean ics_slot_release(IcsPool *pool, const char *owner, gboolean force, GError **error)
{
	int k = ics_slot_lookup(pool, owner, error);
	IcsLeaderRecord lr;

	if (k < 0)
		return FALSE;
	if (!ics_leader_read(pool->leases_path, ics_slot_offset((guint)k), &lr, error))
		return FALSE;
	if (!force && lr.magic == ICS_PAXOS_MAGIC && lr.checksum_ok && lr.owner_id != 0 &&
	    lr.timestamp != 0) {
		g_autofree char *host = ics_pool_host_disk_name(pool, lr.owner_id);
		g_set_error(error, ICS_ERROR, ICS_ERROR_BUSY,
			    "pool \"%s\": the lease of \"%s\" (slot %d) is held by host %" G_GUINT64_FORMAT
			    " (%s); stop its user first or use --force",
			    pool->name, owner, k, lr.owner_id, *host ? host : "name unknown");
		return FALSE;
	}
	g_autofree char *p = slot_path(pool, (guint)k);
	if (unlink(p) != 0) {
		ics_error_set_errno(error, errno, "pool \"%s\": cannot remove slot record %s", pool->name, p);
		return FALSE;
	}
	return TRUE;
}
