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
 * a crc32c checksum (sanlock src/leader.h), stable across 3.x.  Writes go
 * through sanlock (sanlock_direct_write_*), with one exception: freeing a
 * fenced host's delta lease (delta_release.c) writes what `sanlock direct
 * release_id` would write -- the sector as read, timestamp 0, checksum
 * renewed -- in-process, so that it can first check that the sector is
 * still byte for byte the one the renewal watch saw.  test_delta_release
 * compares its bytes with sanlock's own.
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

/*
 * Read one sector at @offset of @path with O_DIRECT, strictly: a file
 * system without O_DIRECT (tmpfs) and a short read are errors (IO), never a
 * cached or zero-filled sector.  For everything that judges whether a host
 * is alive from what it wrote.
 */
guint8 *ics_sector_read_direct(const char *path, guint64 offset, GError **error);

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

/* watchdog.c: use_watchdog from the daemon block of `sanlock client status
 * -D` output @status_d; PARSE when absent or not 0/1. */
gboolean ics_sanlock_watchdog_parse(const char *status_d, gboolean *on, GError **error);

/* ---- freeing a fenced host's delta lease (delta_release.c) ------------- */

typedef enum {
	ICS_DELTA_FREED,       /* written; the read-back shows generation g free */
	ICS_DELTA_CHANGED,     /* the sector differs from the watch's last read:
				* nothing written */
	ICS_DELTA_WATCH_STALE, /* more than io_timeout since the watch's last read:
				* nothing written */
} IcsDeltaFreeResult;

/* The sector I/O and the clock of ics_delta_free, a seam for its tests. */
typedef struct {
	guint8 *(*read)(const char *path, guint64 offset, GError **error);
	gboolean (*write)(const char *path, guint64 offset, const guint8 *sector, GError **error);
	gint64 (*now_mono)(void);
} IcsSectorIo;
extern const IcsSectorIo ics_sector_io_direct;

/*
 * Free @host_id's delta lease (generation @generation) as `sanlock direct
 * release_id` does, but only if it is still what @watch last read: the
 * watch's last read began at most @io_timeout_s ago (else WATCH_STALE), a
 * fresh read equals watch->last_sector byte for byte (else CHANGED); then
 * the sector is written (O_DIRECT, O_SYNC) with timestamp 0 and a new
 * checksum, and read back: it must show generation @generation, free
 * (else an IO error, logged loudly: someone wrote the sector meanwhile).
 */
gboolean ics_delta_free(IcsPool *pool, guint64 host_id, guint64 generation,
			const IcsDeltaWatch *watch, guint io_timeout_s, IcsDeltaFreeResult *out,
			GError **error);
gboolean ics_delta_free_with(const IcsSectorIo *io, IcsPool *pool, guint64 host_id,
			     guint64 generation, const IcsDeltaWatch *watch, guint io_timeout_s,
			     IcsDeltaFreeResult *out, GError **error);

/* The bytes `sanlock direct release_id` writes for delta-lease @sector. */
void ics_delta_sector_freed(const guint8 *sector, guint8 *out);

/* ---- the takeover's steps (takeover.c), a seam for its tests ----------- */

typedef struct {
	gboolean (*lease_inspect)(IcsPool *pool, const char *owner, IcsLeaseInfo *info,
				  GError **error);
	GPtrArray *(*pool_hosts)(IcsPool *pool, GError **error);
	gboolean (*delta_read)(IcsPool *pool, guint64 host_id, IcsDeltaLease *out, GError **error);
	GPtrArray *(*corosync_nodes)(GError **error);
	gboolean (*fence_history_last)(const char *node, IcsFenceRecord *rec, GError **error);
	gboolean (*delta_watch)(IcsPool *pool, guint64 host_id, guint64 generation,
				guint duration_ms, guint poll_ms, IcsDeltaWatch *out,
				GError **error);
	gboolean (*delta_free)(IcsPool *pool, guint64 host_id, guint64 generation,
			       const IcsDeltaWatch *watch, guint io_timeout_s,
			       IcsDeltaFreeResult *out, GError **error);
	void (*sleep_ms)(guint ms);
} IcsTakeoverOps;
extern const IcsTakeoverOps ics_takeover_ops_real;

/* ics_lease_takeover_run() over @ops. */
gboolean ics_lease_takeover_run_with(const IcsTakeoverOps *ops, IcsPool *pool, const char *owner,
				     const IcsTakeoverOptions *opts, IcsTakeoverVerdict *verdict,
				     char **reason, GError **error);

/* ---- corosync's node list (node_names.c) ------------------------------ */

/*
 * Name the nodes of @nodes that corosync's nodelist left without a name as
 * Pacemaker does: by their ring0_addr unless it is an IP address, else by
 * the uname Pacemaker's CIB records for that node id (@cib_nodes_xml: the
 * <nodes> section, as `cibadmin --query --scope nodes` prints it; NULL when
 * unknown).  Nodes it cannot name keep name NULL.
 */
void ics_corosync_nodes_name(GPtrArray *nodes, const char *cib_nodes_xml);

#endif /* ICS_LOCK_INTERNAL_H */
