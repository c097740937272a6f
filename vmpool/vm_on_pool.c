/*
 * vm_on_pool.c: a VM's lease slot and definition on its pool (see
 * ics/vm_on_pool.h).
 *
 * The order is the one a host that starts the VM relies on: a definition
 * on the pool always names a slot that is allocated to it, so the slot
 * comes first and goes last.
 */
#include "config.h"

#include "ics/vm_on_pool.h"

#include <sys/vfs.h>

#include "ics/error.h"
#include "ics/json.h"
#include "ics/log.h"

IcsVmMeta *ics_vm_pool_save(IcsPool *pool, const json_t *definition, gboolean *slot_new,
			    GError **error)
{
	const char *uuid = json_string_value(json_object_get(definition, "uuid"));
	g_autoptr(json_t) def = NULL;
	g_autoptr(IcsVmMeta) m = NULL;
	gboolean fresh;
	int slot;

	if (slot_new)
		*slot_new = FALSE;
	if (uuid == NULL) {
		ics_error_invalid(error, "a VM definition needs a uuid before it goes on a pool");
		return NULL;
	}
	fresh = ics_slot_lookup(pool, uuid, NULL) < 0;
	slot = ics_slot_alloc(pool, uuid, error);
	if (slot < 0)
		return NULL;
	def = json_deep_copy(definition);
	json_object_set_new(def, "lease",
			    json_pack("{s:s, s:s, s:s, s:I}", "lockspace", ics_pool_lockspace(pool),
				      "name", uuid, "path", ics_pool_leases_path(pool), "offset",
				      (json_int_t)slot * ICS_LOCK_ALIGN));
	m = ics_vm_meta_from_json(def, ics_pool_path(pool), error);
	if (m == NULL || !ics_vm_store_save(ics_pool_path(pool), m, error)) {
		if (fresh) {
			g_autoptr(GError) ue = NULL;

			if (!ics_slot_release(pool, uuid, FALSE, &ue))
				ics_warning("vm %s: undo of the lease slot failed: %s", uuid,
					    ue->message);
		}
		return NULL;
	}
	if (slot_new)
		*slot_new = fresh;
	return g_steal_pointer(&m);
}

gboolean ics_vm_pool_remove(IcsPool *pool, const char *uuid, gboolean release_slot, GError **error)
{
	g_autoptr(GError) e = NULL;

	if (!ics_vm_store_delete(ics_pool_path(pool), uuid, &e) &&
	    !g_error_matches(e, ICS_ERROR, ICS_ERROR_NOT_FOUND)) {
		g_propagate_error(error, g_steal_pointer(&e));
		return FALSE;
	}
	g_clear_error(&e);
	if (release_slot && !ics_slot_release(pool, uuid, FALSE, &e) &&
	    !g_error_matches(e, ICS_ERROR, ICS_ERROR_NOT_FOUND)) {
		g_propagate_error(error, g_steal_pointer(&e));
		return FALSE;
	}
	return TRUE;
}

gboolean ics_pool_is_cluster_fs(const char *path)
{
	struct statfs st;

	if (statfs(path, &st) != 0)
		return FALSE;
	switch ((unsigned long)st.f_type) {
	case 0x01161970UL: /* GFS2 */
	case 0x7461636fUL: /* OCFS2 */
	case 0x6969UL:	   /* NFS */
	case 0x00c36400UL: /* Ceph */
	case 0xfe534d42UL: /* SMB2 */
	case 0xff534d42UL: /* CIFS */
		return TRUE;
	default:
		return FALSE;
	}
}
