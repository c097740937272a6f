/*
 * ics/vmdef.h: the ICS VM definition -- metadata, libvirt domain XML, and
 * where both live on a pool.
 *
 * A VM is defined by its ICS metadata (vm.json, the source of truth) kept on
 * the VM's shared pool at <pool>/.ics/vms/<uuid>/, next to the domain XML
 * generated from it (domain.xml).  Any host that sees the pool can start the
 * VM without the manager.  The format is documented in
 * docs/vm-definition.md.
 *
 * Parsing validates everything it can without touching the host: every
 * rejection is ICS_ERROR_INVALID_ARGUMENT (ICS_ERROR_PARSE for text that is
 * not JSON) with a message naming the VM, the field and the reason.  A
 * parsed IcsVmMeta is normalised (lower-case uuid and MACs, disk targets and
 * MACs filled in), so serialising it writes down every decision and
 * parse(serialize(m)) equals m.
 */
#ifndef ICS_VMDEF_H
#define ICS_VMDEF_H

#include <glib.h>
#include <jansson.h>

#define ICS_VM_FORMAT 1
#define ICS_VM_MIN_VCPUS 1
#define ICS_VM_MAX_VCPUS 256
#define ICS_VM_MIN_MEMORY_MIB 16
#define ICS_VM_MAX_MEMORY_MIB 4194304
#define ICS_VM_MAX_DISKS 64
#define ICS_VM_MAX_NICS 32
#define ICS_VM_MAX_TAGS 32
/* OVMF as Debian ships it; the NVRAM of a UEFI VM lives in its pool dir. */
#define ICS_VM_OVMF_CODE "/usr/share/OVMF/OVMF_CODE_4M.fd"
#define ICS_VM_OVMF_VARS "/usr/share/OVMF/OVMF_VARS_4M.fd"

/* What happens on a guest panic or watchdog expiry (white paper 5.4.5). */
typedef enum {
	ICS_VM_CRASH_NONE,     /* keep the crashed guest for inspection */
	ICS_VM_CRASH_RESTART,  /* restart on the same host */
	ICS_VM_CRASH_POWEROFF, /* leave it off: a clean stop */
	ICS_VM_CRASH_HA,       /* restart, on another host if need be (default) */
} IcsVmCrashPolicy;

/* "none", "restart", "poweroff", "ha". */
const char *ics_vm_crash_policy_name(IcsVmCrashPolicy policy);

typedef struct {
	char *path;   /* absolute; under the pool unless shared_outside_pool */
	char *format; /* "raw" | "qcow2" */
	char *bus;    /* "virtio" | "sata" | "scsi" */
	char *target; /* "vda", "sdb", ...: filled in when absent */
	char *cache;  /* "none" | "writeback" | "writethrough" | "directsync" */
	gboolean readonly;
	char *serial;		      /* NULL = none */
	gboolean shared_outside_pool; /* path may lie outside the VM's pool */
} IcsVmDisk;

typedef struct {
	char *mac;	   /* lower case; derived from the uuid when absent */
	char *model;	   /* "virtio" | "e1000" | "rtl8139" */
	char *source_type; /* "bridge" | "network" | "ovs" */
	char *source_name; /* bridge, libvirt network or OVS bridge name */
	guint vlan;	   /* 1..4094 (ovs only), 0 = untagged */
} IcsVmNic;

typedef struct {
	guint format; /* ICS_VM_FORMAT */
	char *uuid;   /* lower case RFC 4122 text */
	char *name;
	/* NULL-terminated, NULL when none: labels (as names: letters, digits,
	 * '.', '_', '-') by which backup policies select VMs; they travel with
	 * the VM's definition */
	char **tags;
	guint vcpus;
	guint64 memory_mib;
	char *virt_type;   /* "kvm" | "qemu" */
	char *arch;	   /* "x86_64" | "i686" */
	char *machine;	   /* NULL = libvirt's default */
	char *firmware;	   /* "bios" | "uefi" */
	char **boot;	   /* NULL-terminated: "hd", "cdrom", "network"; NULL with a kernel */
	char *kernel_path; /* direct kernel boot when not NULL */
	char *kernel_initrd;
	char *kernel_cmdline;
	GPtrArray *disks; /* IcsVmDisk* */
	char *cdrom;	  /* ISO path or NULL */
	GPtrArray *nics;  /* IcsVmNic* */
	gboolean serial_console;
	char *graphics; /* "vnc" | "none" */
	gboolean has_watchdog;
	char *watchdog_model;  /* "i6300esb" | "ib700" */
	char *watchdog_action; /* NULL = derived from crash_policy */
	IcsVmCrashPolicy crash_policy;
	guint migration_bandwidth_mibps; /* 0 = not set */
	guint migration_max_downtime_ms; /* 0 = not set */
	gboolean has_lease;
	char *lease_lockspace;
	char *lease_name; /* == uuid */
	char *lease_path;
	guint64 lease_offset; /* bytes, a multiple of 1 MiB, >= 1 MiB */
	/* Not serialised: the pool the VM lives on, as given to the parser
	 * (NULL = not on a pool).  Used for the disk and UEFI NVRAM paths. */
	char *pool_path;
} IcsVmMeta;

void ics_vm_meta_free(IcsVmMeta *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IcsVmMeta, ics_vm_meta_free)

/*
 * Parse and validate metadata.  @pool_path is the pool the VM lives on (its
 * definition is under <pool_path>/.ics/vms/): when given, disk paths must lie
 * under it (unless shared_outside_pool) and a lease is required whose path is
 * the pool's lease file; NULL for a VM that is not on a shared pool.
 */
IcsVmMeta *ics_vm_meta_parse(const char *text, const char *pool_path, GError **error);
IcsVmMeta *ics_vm_meta_from_json(const json_t *root, const char *pool_path, GError **error);

/* The metadata as JSON (every field written, defaults included). */
json_t *ics_vm_meta_to_json(const IcsVmMeta *m);
/* The same as indented text ending in a newline; g_free it. */
char *ics_vm_meta_serialize(const IcsVmMeta *m);

/* TRUE when @a and @b define the same VM (pool_path is not compared). */
gboolean ics_vm_meta_equal(const IcsVmMeta *a, const IcsVmMeta *b);

/* The MAC a VM's NIC @index gets when none is given: 52:54:00 followed by
 * three bytes of SHA-256(uuid, index).  Deterministic; g_free it. */
char *ics_vm_default_mac(const char *uuid, guint index);

/* The watchdog action the domain gets: the explicit one, or the one the
 * crash policy implies (see docs/vm-definition.md). */
const char *ics_vm_watchdog_action(const IcsVmMeta *m);

/*
 * libvirt domain XML for @m (formatted; g_free it).  See
 * docs/vm-definition.md for how every field and the crash policy map.
 * This is the reference copy stored on the pool: a VM with graphics "vnc"
 * has no <graphics> in it, because the VNC password exists per start only.
 */
char *ics_domain_xml(const IcsVmMeta *m, GError **error);

/*
 * The XML the vm agent starts: ics_domain_xml() plus, for graphics "vnc",
 * <graphics type='vnc' autoport='yes' passwd=@vnc_password> whose listen
 * address is libvirtd's vnc_listen (qemu.conf: the node's cluster address;
 * not carried by a migration, so each node listens on its own).
 * @vnc_password is 1..8 characters (VNC authentication uses 8); NULL or
 * empty is refused for a vnc VM: a VNC port never opens without a password.
 * The result holds a secret: never log or store it.
 */
char *ics_domain_xml_start(const IcsVmMeta *m, const char *vnc_password, GError **error);

/* A fresh VNC password (8 characters of [A-Za-z0-9+/] from the kernel's
 * random source, 48 bits; g_free it), or NULL with @error set. */
char *ics_vnc_password_new(GError **error);

/* ---- the definition on its pool ---------------------------------------- */

/* <pool_path>/.ics/vms/<uuid>; g_free it. */
char *ics_vm_dir(const char *pool_path, const char *uuid);

/*
 * Write domain.xml, then vm.json, each atomically (temporary file, fsync,
 * rename, fsync of the directory), creating the VM's directory.  The XML is
 * generated before anything is written, so a definition that cannot be
 * rendered leaves the pool untouched.  @m->pool_path, when set, must be
 * @pool_path.
 */
gboolean ics_vm_store_save(const char *pool_path, const IcsVmMeta *m, GError **error);

/* Load and validate vm.json of @uuid.  ICS_ERROR_NOT_FOUND when the pool has
 * no such VM; INVALID_ARGUMENT when the file's uuid differs from its dir. */
IcsVmMeta *ics_vm_store_load(const char *pool_path, const char *uuid, GError **error);

/* The uuids (char*, sorted) of the VMs defined on the pool; empty when none. */
GPtrArray *ics_vm_store_list(const char *pool_path, GError **error);

/* Remove the VM's directory (vm.json first, so a half-deleted VM is no longer
 * listed), with its files and its directories of files (the backups'
 * checkpoint records); symbolic links are removed, never followed.
 * NOT_FOUND when absent.  Whether the lease is free is the caller's
 * business. */
gboolean ics_vm_store_delete(const char *pool_path, const char *uuid, GError **error);

#endif /* ICS_VMDEF_H */
