/*
 * vm_runtime.h: a VM's domain on one libvirtd -- the libvirt calls of
 * ocf:ics:vm, shared by the agent and its test (libvirt's test driver).
 *
 * Every call may block on a libvirtd that stopped answering; the agent bounds
 * the whole action with a deadline (vm.c), and connections get a keepalive
 * so a dead daemon is noticed even inside a long call.
 */
#ifndef ICS_VM_RUNTIME_H
#define ICS_VM_RUNTIME_H

#include <glib.h>
#include <libvirt/libvirt.h>

#include "vm_logic.h"

/* Register libvirt's default event loop (needed for keepalives) and run it
 * in a thread; silence libvirt's own printing of errors.  Idempotent. */
void vm_runtime_init(void);

/* Open @uri with a keepalive (5 s interval, 3 missed = dead).
 * ICS_ERROR_UNAVAILABLE naming the URI when libvirtd does not answer. */
virConnectPtr vm_connect(const char *uri, GError **error);

/* The domain's state; o->present FALSE when libvirt does not know it. */
gboolean vm_observe(virConnectPtr conn, const char *uuid, VmObservation *o, GError **error);

/* Create the transient domain from @xml and wait (up to @wait_ms) until it
 * runs.  ICS_ERROR_BUSY when libvirt refused because of the lease. */
gboolean vm_domain_start(virConnectPtr conn, const char *xml, guint wait_ms, GError **error);

/* ACPI shutdown, wait @wait_ms for the domain to go, then destroy.
 * *@forced tells whether destroy was needed.  Absent: TRUE at once. */
gboolean vm_domain_stop(virConnectPtr conn, const char *uuid, guint wait_ms, gboolean *forced,
			GError **error);

typedef void (*VmProgressFn)(const char *line, gpointer data);

typedef struct {
	const char *dest_uri;  /* the target's libvirtd (peer to peer) */
	guint bandwidth_mibps; /* 0 = libvirt's default */
	guint max_downtime_ms; /* 0 = QEMU's default */
	gboolean unsafe;       /* VIR_MIGRATE_UNSAFE: shared image on a non-cluster fs */
	guint abort_after_ms;  /* cancel the job after this long */
	VmProgressFn progress; /* called about every second */
	gpointer progress_data;
} VmMigrateOptions;

/* Live peer-to-peer migration; on a timeout the job is aborted and the VM
 * keeps running here (ICS_ERROR_TIMEOUT). */
gboolean vm_domain_migrate(virConnectPtr conn, const char *uuid, const VmMigrateOptions *opts,
			   GError **error);

/* Log QEMU's statistics of the migration that brought @uuid here (elapsed,
 * downtime, data): "migrated UUID: N ms, downtime D ms, M MiB". */
void vm_runtime_log_migration_stats(virConnectPtr conn, const char *uuid);

#endif /* ICS_VM_RUNTIME_H */
