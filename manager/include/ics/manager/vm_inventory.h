/*
 * ics/manager/vm_inventory.h: the VMs the manager knows, in its database.
 *
 * A VM row holds the VM's ICS metadata (the vm.json document of
 * docs/vm-definition.md, validated and normalised by vmdef), its owner and
 * times, plus the few fields lists show (name, vcpus, memory) as columns so
 * a list page needs no JSON parsing.  Lists are keyset-paginated by uuid:
 * "?after=<last uuid of the previous page>", which costs the same on page
 * 1 and page 100.  All functions expect the store lock held (a write
 * transaction for changes).
 */
#ifndef ICS_MANAGER_VM_INVENTORY_H
#define ICS_MANAGER_VM_INVENTORY_H

#include <glib.h>
#include <jansson.h>

#include "ics/manager/store.h"
#include "ics/vmdef.h"

/* Validate @definition with vmdef (not on a pool: paths are not checked
 * against one) and require an ICS object name.  A missing uuid is
 * generated.  INVALID_ARGUMENT / PARSE naming the field. */
IcsVmMeta *ics_vm_inventory_validate(const json_t *definition, GError **error);

/* Insert; CONFLICT when the uuid or the name exists.  @in_cluster: the VM
 * is defined in the cluster (the mirror keeps the row in step with it). */
gboolean ics_vm_inventory_insert(IcsStore *store, const IcsVmMeta *vm, gint64 owner_id,
				 gboolean in_cluster, GError **error);

/* ---- the mirror's writes (vm_mirror.c) ---- */

/* A VM of the cluster that cannot be used: a row named @name with @reason
 * (replacing the row of @uuid, owner kept). */
gboolean ics_vm_inventory_put_broken(IcsStore *store, const char *uuid, const char *name,
				     const char *reason, GError **error);
/* The row of @uuid now says what the cluster's definition @vm says (and
 * is not broken); inserted, without owner, when absent. */
gboolean ics_vm_inventory_put_cluster(IcsStore *store, const IcsVmMeta *vm, GError **error);
/* Is the row of @uuid broken with @reason under @name already? */
gboolean ics_vm_inventory_broken_as(IcsStore *store, const char *uuid, const char *name,
				    const char *reason);
/* Does the row of @uuid differ from @vm (or is it broken, or absent)? */
gboolean ics_vm_inventory_differs(IcsStore *store, const IcsVmMeta *vm, GError **error);
/* The uuids of the rows that stand for VMs of the cluster (a set of
 * g_strdup'ed strings); NULL on error. */
GHashTable *ics_vm_inventory_cluster_uuids(IcsStore *store, GError **error);
/* The uuid of the VM named @name, or NULL. */
char *ics_vm_inventory_uuid_of(IcsStore *store, const char *name, GError **error);
/* Replace the definition (uuid must match the row); NOT_FOUND, CONFLICT
 * for a name taken by another VM. */
gboolean ics_vm_inventory_update(IcsStore *store, const IcsVmMeta *vm, GError **error);
gboolean ics_vm_inventory_set_owner(IcsStore *store, const char *uuid, gint64 owner_id,
				    GError **error);
gboolean ics_vm_inventory_delete(IcsStore *store, const char *uuid, GError **error);

/* The owner of @uuid (0 = none); FALSE with NOT_FOUND when absent. */
gboolean ics_vm_inventory_owner(IcsStore *store, const char *uuid, gint64 *owner_id,
				GError **error);
/* {"uuid", "name", "owner", "vcpus", "memory_mib", "created_at",
 * "updated_at", "definition"} and "broken" (the reason) for a VM of the
 * cluster that cannot be used; NOT_FOUND. */
json_t *ics_vm_inventory_get(IcsStore *store, const char *uuid, GError **error);
/* The stored definition, parsed; NOT_FOUND. */
IcsVmMeta *ics_vm_inventory_meta(IcsStore *store, const char *uuid, GError **error);
/* Called for each listed VM to append members (",\"key\":value...") to
 * its object in @out. */
typedef void (*IcsVmRowFn)(const char *uuid, GString *out, gpointer data);

/* {"items": [summary...], "next": uuid-or-null} as JSON text: VMs after
 * @after in uuid order, at most @limit, only those of @owner_id unless it
 * is 0, each with what @row_fn (may be NULL) adds.  Written straight from
 * the rows (no intermediate JSON tree): this is the API's hottest read. */
GString *ics_vm_inventory_list(IcsStore *store, const char *after, gint64 limit, gint64 owner_id,
			       IcsVmRowFn row_fn, gpointer row_data, GError **error);

/* Append ,"runtime":{"state","host","pool","resource"} (host and pool may
 * be NULL; resource is left out when NULL). */
void ics_vm_inventory_append_runtime(GString *out, const char *state, const char *host,
				     const char *pool, const char *resource);

#endif /* ICS_MANAGER_VM_INVENTORY_H */
