/*
 * ics/manager/volumes.h: disk volumes on ICS pools, through libvirt's
 * storage API.
 *
 * A volume is a file directly under a pool's directory (never under its
 * .ics/ area).  The manager does not write pool files itself: it asks a
 * libvirtd that sees the pool, through a transient "dir" storage pool
 * named "ics-<pool>" over the pool's path, so the image is created,
 * probed and resized by the same code that later opens it for QEMU.
 *
 * Formats and provisioning (the two choices the API offers):
 *  - thin:       capacity as given, allocation 0.  raw = a sparse file
 *                (ftruncate); qcow2 = qemu-img create without
 *                preallocation.  Space is taken as the guest writes.
 *  - thick-lazy: allocation = capacity ("lazily zeroed thick"): every
 *                block is reserved at creation but nothing is written.
 *                raw = posix_fallocate of the whole file (unwritten
 *                extents, reads return zeros); qcow2 = qemu-img create
 *                -o preallocation=falloc (metadata written, data area
 *                fallocated).  On a file system without fallocate (NFSv3)
 *                glibc falls back to writing one byte per block, which is
 *                why a thick creation runs as a task.
 * Resizing only grows; a thick raw volume stays thick (the new space is
 * fallocated, VIR_STORAGE_VOL_RESIZE_ALLOCATE); a qcow2 volume grows its
 * virtual size only.
 *
 * Which libvirtd: the URI of [volumes] libvirt_uri; "{host}" in it is
 * replaced by the first node the pool is active on (e.g.
 * "qemu+tls://{host}/system"); the default is the local "qemu:///system".
 * Connections are opened on first use, kept, and reopened when they die.
 * All functions may be called from any thread.
 */
#ifndef ICS_MANAGER_VOLUMES_H
#define ICS_MANAGER_VOLUMES_H

#include <glib.h>
#include <jansson.h>

#define ICS_VOLUMES_DEFAULT_URI "qemu:///system"
/* Sizes: at least 1 MiB, at most 64 TiB, a multiple of 512 bytes. */
#define ICS_VOLUME_MIN_BYTES (G_GUINT64_CONSTANT(1) << 20)
#define ICS_VOLUME_MAX_BYTES (G_GUINT64_CONSTANT(64) << 40)

typedef struct IcsVolumes IcsVolumes;

/* Where a volume lives: the ICS pool's name, its directory, and the node
 * whose libvirtd to ask (NULL: the URI must not name "{host}"). */
typedef struct {
	const char *pool;
	const char *path;
	const char *host;
} IcsVolumePool;

typedef struct {
	const char *name;
	const char *format;	  /* "raw" or "qcow2" */
	const char *provisioning; /* "thin" or "thick-lazy" */
	guint64 capacity;	  /* bytes */
} IcsVolumeSpec;

/* ---- validation (no state; what the API checks before anything) ------ */

/* A volume name is a file name: ics_name_valid() (letters, digits, ".",
 * "_", "-", at most 63, not starting with "."), so no "/", no "..", no
 * hidden file. */
gboolean ics_volume_name_check(const char *name, GError **error);
/* "10G", "512MiB", "1t", "1048576": an integer with an optional binary
 * unit K/M/G/T (KiB/MiB/GiB/TiB, case-insensitive), bounded as above. */
gboolean ics_volume_size_parse(const char *text, guint64 *bytes, GError **error);
gboolean ics_volume_format_check(const char *format, GError **error);
gboolean ics_volume_provisioning_check(const char *provisioning, GError **error);

/* ---- libvirt ------------------------------------------------------------ */

IcsVolumes *ics_volumes_new(const char *uri_template);
void ics_volumes_free(IcsVolumes *v);

/* [{"name", "pool", "path", "format", "capacity_bytes",
 * "allocation_bytes"}] of the regular files in the pool (a fresh scan). */
json_t *ics_volumes_list(IcsVolumes *v, const IcsVolumePool *pool, GError **error);
/* One volume; NOT_FOUND. */
json_t *ics_volumes_get(IcsVolumes *v, const IcsVolumePool *pool, const char *name, GError **error);
/* Create; CONFLICT when a file of that name exists.  Returns the volume. */
json_t *ics_volumes_create(IcsVolumes *v, const IcsVolumePool *pool, const IcsVolumeSpec *spec,
			   GError **error);
/* Grow to @capacity bytes; CONFLICT when that is not larger. */
json_t *ics_volumes_resize(IcsVolumes *v, const IcsVolumePool *pool, const char *name,
			   guint64 capacity, GError **error);
/* Delete the file; NOT_FOUND. */
gboolean ics_volumes_delete(IcsVolumes *v, const IcsVolumePool *pool, const char *name,
			    GError **error);

#endif /* ICS_MANAGER_VOLUMES_H */
