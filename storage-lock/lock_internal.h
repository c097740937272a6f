/*
 * lock_internal.h: what the files of libicslock share and nobody else may
 * include -- the pool structure, the on-disk leader record of sanlock and
 * the translation of sanlock's return codes into ICS errors.
 *
 * sanlock's read calls (sanlock_read_lockspace, sanlock_read_resource,
 * sanlock_read_resource_owners) go through the daemon, but init, open, dump
 * and inspect must work on a node that has not joined yet, or has no daemon
 * at all.  So the library reads the leader records itself: sanlock's on-disk
 * leader is a fixed little-endian 512-byte record with a magic, a version and
 * a crc32c checksum (sanlock src/leader.h), stable across 3.x.  Writes always
 * go through sanlock (sanlock_direct_write_*, `sanlock direct release_id`):
 * the library never fabricates a record that sanlock would act upon.
 */
#ifndef ICS_LOCK_INTERNAL_H
#define ICS_LOCK_INTERNAL_H

#include <glib.h>
#include <stdint.h>

#include <sanlock.h>
#include <sanlock_resource.h>

#include "ics/error.h"
#include "ics/lock.h"

#define ICS_SECTOR_SIZE 512
#define ICS_DELTA_MAGIC 0x12212010u
#define ICS_PAXOS_MAGIC 0x06152010u
#define ICS_LEADER_CHECKSUM_LEN 168
#define ICS_MANAGER_LEASE "ics-manager" /* name of slot 0 */

struct IcsPool {
	char *path;
	char *meta_dir;
	char *json_path;
	char *ids_path;
	char *leases_path;
	char *slots_dir;
	char *name;
	char *uuid;
	char *lockspace;
	guint io_timeout;
	guint lease_slots;
};

/* One sanlock leader record, decoded. */
typedef struct {
	guint32 magic;
	guint32 version;
	guint32 flags;
	guint32 sector_size;
	guint64 num_hosts;
	guint64 max_hosts;
	guint64 owner_id;
	guint64 owner_generation;
	guint64 lver;
	char space_name[SANLK_NAME_LEN + 1];
	char resource_name[SANLK_NAME_LEN + 1];
	guint64 timestamp;
	guint32 checksum;
	guint16 io_timeout;
	guint64 write_id;
	guint64 write_generation;
	guint64 write_timestamp;
	gboolean checksum_ok; /* computed checksum matches the stored one */
	gboolean blank;	      /* the sector is all zeros (never written) */
} IcsLeaderRecord;

guint32 ics_crc32c(guint32 crc, const guint8 *data, gsize len);
void ics_leader_decode(const guint8 *sector, IcsLeaderRecord *lr);
/* Encode @lr into a 512-byte sector with a fresh checksum (tests, fuzzing). */
void ics_leader_encode(const IcsLeaderRecord *lr, guint8 *sector);

/*
 * Read @count sectors at @offset of @path into a newly allocated buffer
 * (O_DIRECT when the file system supports it).  Sectors past the end of the
 * file read as zeros.  NOT_FOUND when the file does not exist.
 */
guint8 *ics_sectors_read(const char *path, guint64 offset, gsize count, GError **error);

/* Read and decode the leader at @offset. */
gboolean ics_leader_read(const char *path, guint64 offset, IcsLeaderRecord *lr, GError **error);

/*
 * Check that @lr is a valid leader of @magic in @lockspace (NULL: any) with
 * 512-byte sectors; @what names the file in messages.  PARSE otherwise
 * ("foreign lease file", "wrong sector size", "corrupt").
 */
gboolean ics_leader_check(const IcsLeaderRecord *lr, guint32 magic, const char *lockspace,
			  const char *what, GError **error);

/* Offset of lease slot @slot in the leases file. */
static inline guint64 ics_slot_offset(guint slot)
{
	return (guint64)slot * ICS_LOCK_ALIGN;
}

/* Offset of host @host_id's delta lease in the ids file. */
static inline guint64 ics_host_offset(guint64 host_id)
{
	return (host_id - 1) * ICS_SECTOR_SIZE;
}

/* A sanlk_resource for @slot of @pool named @name (g_free it). */
struct sanlk_resource *ics_pool_resource_new(const IcsPool *pool, const char *name, guint slot);
void ics_pool_lockspace_fill(const IcsPool *pool, guint64 host_id, struct sanlk_lockspace *ls);

/* Validate an owner (lease) name: 1..48 bytes, printable, no '/' or ':'. */
gboolean ics_owner_name_valid(const char *owner, GError **error);

/*
 * Set @error from a negative sanlock/errno return value @rv with @code and a
 * message "<text>: <sanlock's explanation>".
 */
void ics_sanlock_error(GError **error, int rv, IcsErrorCode code, const char *fmt, ...)
	G_GNUC_PRINTF(4, 5);

/* TRUE when @rv means the local daemon is not reachable. */
gboolean ics_sanlock_rv_no_daemon(int rv);

/* Name a host from its delta lease on disk ("" when unknown); g_free. */
char *ics_pool_host_disk_name(const IcsPool *pool, guint64 host_id);

/* host_state.c: merge @hosts into the observer file, filling first_seen_wall. */
void ics_observer_merge(const IcsPool *pool, GPtrArray *hosts, gint64 now_wall);

#endif /* ICS_LOCK_INTERNAL_H */
