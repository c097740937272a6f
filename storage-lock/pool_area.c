/*
 * pool_area.c: the metadata area of a pool (<pool>/.ics/) -- creating it,
 * opening it and refusing what is not ours.
 *
 * Init is the one operation here that can destroy ownership: rewriting a
 * lockspace under a running host, or a lease under its holder, silently
 * ends the guarantee that only one host owns a disk.  So init first reads
 * what is on disk: a file that is not a sanlock area of this pool is
 * refused outright (foreign, corrupt or wrong sector size: nothing is
 * written, even with --force, because we cannot know what it is); an area
 * of ours is refused while a host's delta lease is still being renewed
 * (sampled over one renewal interval) or any lease has an owner, unless the
 * operator forces it.  The area is then written through sanlock itself
 * (sanlock_direct_write_lockspace / _resource), and pool.json, which is what
 * makes the directory a pool, is written last and atomically (tmp + fsync +
 * rename): a crashed init leaves no pool rather than half of one.
 *
 * Open checks the same facts read-only; a pool whose uuid is not the one
 * the caller expects is not the shared pool it thinks (e.g. a local
 * directory mounted nothing over): CONFLICT.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <stdint.h>

#include <sanlock.h>
#include <sanlock_admin.h>
#include <sanlock_direct.h>
#include <sanlock_rv.h>

#include "ics/error.h"
#include "ics/json.h"
#include "lock_internal.h"

#define ICS_POOL_FORMAT 1
#define ICS_MAX_IO_TIMEOUT 60
#define ICS_MAX_SLOTS 65535

/* ---- small shared helpers ---------------------------------------------- */

void ics_sanlock_error(GError **error, int rv, IcsErrorCode code, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *text = NULL;
	const char *why;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (rv > -200)
		why = g_strerror(-rv);
	else
		why = sanlock_strerror(rv);
	g_set_error(error, ICS_ERROR, code, "%s: %s (sanlock %d)", text, why ? why : "error", rv);
}

gboolean ics_sanlock_rv_no_daemon(int rv)
{
	return rv == -ENOENT || rv == -ECONNREFUSED || rv == -EACCES || rv == -ENOTCONN;
}

gboolean ics_owner_name_valid(const char *owner, GError **error)
{
	gsize len = owner ? strlen(owner) : 0;

	if (len == 0 || len > SANLK_NAME_LEN) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "lease owner \"%s\" must be 1 to %d bytes (sanlock's name limit)",
			    owner ? owner : "", SANLK_NAME_LEN);
		return FALSE;
	}
	for (const char *p = owner; *p; p++) {
		if (!g_ascii_isgraph(*p) || *p == '/' || *p == ':') {
			g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
				    "lease owner \"%s\" may hold only printable ASCII without "
				    "'/', ':' or spaces",
				    owner);
			return FALSE;
		}
	}
	return TRUE;
}

gboolean ics_lock_host_id_valid(guint64 host_id, GError **error)
{
	if (host_id < 1 || host_id > ICS_LOCK_MAX_HOST_ID) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "host id %" G_GUINT64_FORMAT " is out of range 1..%d (the corosync "
			    "node id of this node must be in that range)",
			    host_id, ICS_LOCK_MAX_HOST_ID);
		return FALSE;
	}
	return TRUE;
}

static gboolean pool_name_valid(const char *name, GError **error)
{
	gsize len = name ? strlen(name) : 0;
	gboolean ok = len >= 1 && len <= 40 && (g_ascii_islower(name[0]) || g_ascii_isdigit(name[0]));

	for (gsize i = 1; ok && i < len; i++)
		ok = g_ascii_islower(name[i]) || g_ascii_isdigit(name[i]) || name[i] == '_' ||
		     name[i] == '-';
	if (!ok)
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "pool name \"%s\" is invalid: 1 to 40 characters [a-z0-9_-], starting "
			    "with a letter or digit",
			    name ? name : "");
	return ok;
}

struct sanlk_resource *ics_pool_resource_new(const IcsPool *pool, const char *name, guint slot)
{
	struct sanlk_resource *res = g_malloc0(sizeof(*res) + sizeof(struct sanlk_disk));

	g_strlcpy(res->lockspace_name, pool->lockspace, SANLK_NAME_LEN);
	memcpy(res->name, name, MIN(strlen(name), (gsize)SANLK_NAME_LEN));
	res->flags = SANLK_RES_ALIGN1M | SANLK_RES_SECTOR512;
	res->num_disks = 1;
	g_strlcpy(res->disks[0].path, pool->leases_path, SANLK_PATH_LEN);
	res->disks[0].offset = ics_slot_offset(slot);
	return res;
}

void ics_pool_lockspace_fill(const IcsPool *pool, guint64 host_id, struct sanlk_lockspace *ls)
{
	memset(ls, 0, sizeof(*ls));
	g_strlcpy(ls->name, pool->lockspace, SANLK_NAME_LEN);
	ls->host_id = host_id;
	ls->flags = SANLK_LSF_ALIGN1M | SANLK_LSF_SECTOR512;
	g_strlcpy(ls->host_id_disk.path, pool->ids_path, SANLK_PATH_LEN);
}

char *ics_pool_host_disk_name(const IcsPool *pool, guint64 host_id)
{
	IcsLeaderRecord lr;

	if (host_id < 1 || host_id > ICS_LOCK_MAX_HOST_ID ||
	    !ics_leader_read(pool->ids_path, ics_host_offset(host_id), &lr, NULL) ||
	    lr.magic != ICS_DELTA_MAGIC || !lr.checksum_ok)
		return g_strdup("");
	return g_strdup(lr.resource_name);
}

/* ---- the IcsPool object ----------------------------------------------- */

static IcsPool *pool_new(const char *path)
{
	IcsPool *pool = g_new0(IcsPool, 1);

	pool->path = g_strdup(path);
	pool->meta_dir = g_build_filename(path, ".ics", NULL);
	pool->json_path = g_build_filename(pool->meta_dir, "pool.json", NULL);
	pool->ids_path = g_build_filename(pool->meta_dir, "ids", NULL);
	pool->leases_path = g_build_filename(pool->meta_dir, "leases", NULL);
	pool->slots_dir = g_build_filename(pool->meta_dir, "slots", NULL);
	return pool;
}

void ics_pool_free(IcsPool *pool)
{
	if (!pool)
		return;
	g_free(pool->path);
	g_free(pool->meta_dir);
	g_free(pool->json_path);
	g_free(pool->ids_path);
	g_free(pool->leases_path);
	g_free(pool->slots_dir);
	g_free(pool->name);
	g_free(pool->uuid);
	g_free(pool->lockspace);
	g_free(pool);
}

const char *ics_pool_path(const IcsPool *pool) { return pool->path; }
const char *ics_pool_name(const IcsPool *pool) { return pool->name; }
const char *ics_pool_uuid(const IcsPool *pool) { return pool->uuid; }
const char *ics_pool_lockspace(const IcsPool *pool) { return pool->lockspace; }
const char *ics_pool_ids_path(const IcsPool *pool) { return pool->ids_path; }
const char *ics_pool_leases_path(const IcsPool *pool) { return pool->leases_path; }
guint ics_pool_io_timeout(const IcsPool *pool) { return pool->io_timeout; }
guint ics_pool_lease_slots(const IcsPool *pool) { return pool->lease_slots; }

/* ---- reading and checking an existing area ------------------------------ */

static gboolean pool_json_parse(IcsPool *pool, GError **error)
{
	g_autoptr(json_t) root = ics_json_load_file(pool->json_path, error);
	gint64 format, io_timeout, sector, align, max_hosts, slots;
	const char *name, *uuid, *lockspace;

	if (!root) {
		if (error && *error && (*error)->code == ICS_ERROR_NOT_FOUND)
			g_prefix_error(error, "not an ICS pool (run 'ics-lease init'): ");
		return FALSE;
	}
	if (!ics_json_require_object(root, pool->json_path, error) ||
	    !ics_json_get_int(root, "format", &format, error) ||
	    !(name = ics_json_get_string(root, "name", error)) ||
	    !(uuid = ics_json_get_string(root, "uuid", error)) ||
	    !(lockspace = ics_json_get_string(root, "lockspace", error)) ||
	    !ics_json_get_int(root, "io_timeout", &io_timeout, error) ||
	    !ics_json_get_int(root, "sector_size", &sector, error) ||
	    !ics_json_get_int(root, "align", &align, error) ||
	    !ics_json_get_int(root, "max_hosts", &max_hosts, error) ||
	    !ics_json_get_int(root, "lease_slots", &slots, error)) {
		if (error && *error)
			(*error)->code = ICS_ERROR_PARSE;
		g_prefix_error(error, "%s: ", pool->json_path);
		return FALSE;
	}
	const char *bad = NULL;
	g_autofree char *expect_ls = g_strdup_printf("ics-%s", name);
	if (format != ICS_POOL_FORMAT)
		bad = "unsupported format";
	else if (!pool_name_valid(name, NULL))
		bad = "invalid name";
	else if (!g_uuid_string_is_valid(uuid))
		bad = "invalid uuid";
	else if (strcmp(lockspace, expect_ls) != 0)
		bad = "lockspace does not match the name";
	else if (io_timeout < 1 || io_timeout > ICS_MAX_IO_TIMEOUT)
		bad = "io_timeout out of range";
	else if (sector != ICS_SECTOR_SIZE)
		bad = "wrong sector size";
	else if (align != ICS_LOCK_ALIGN)
		bad = "wrong alignment";
	else if (max_hosts != ICS_LOCK_MAX_HOST_ID)
		bad = "wrong max_hosts";
	else if (slots < 1 || slots > ICS_MAX_SLOTS)
		bad = "lease_slots out of range";
	if (bad) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
			    "%s: %s; the pool metadata is damaged or not ICS's", pool->json_path, bad);
		return FALSE;
	}
	pool->name = g_strdup(name);
	pool->uuid = g_strdup(uuid);
	pool->lockspace = g_strdup(lockspace);
	pool->io_timeout = (guint)io_timeout;
	pool->lease_slots = (guint)slots;
	return TRUE;
}

static gboolean pool_area_check(const IcsPool *pool, GError **error)
{
	IcsLeaderRecord lr;
	g_autofree char *ids_what = g_strdup_printf("pool \"%s\": lease file %s", pool->name, pool->ids_path);
	g_autofree char *leases_what =
		g_strdup_printf("pool \"%s\": lease file %s", pool->name, pool->leases_path);

	if (!ics_leader_read(pool->ids_path, 0, &lr, error) ||
	    !ics_leader_check(&lr, ICS_DELTA_MAGIC, pool->lockspace, ids_what, error))
		return FALSE;
	if (!ics_leader_read(pool->leases_path, 0, &lr, error) ||
	    !ics_leader_check(&lr, ICS_PAXOS_MAGIC, pool->lockspace, leases_what, error))
		return FALSE;
	return TRUE;
}

IcsPool *ics_pool_open(const char *path, const char *expect_uuid, GError **error)
{
	g_autoptr(IcsPool) pool = NULL;

	if (!path || !g_file_test(path, G_FILE_TEST_IS_DIR)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "pool path %s does not exist or is not a directory; is the pool mounted?",
			    path ? path : "(null)");
		return NULL;
	}
	pool = pool_new(path);
	if (!pool_json_parse(pool, error))
		return NULL;
	if (expect_uuid && g_ascii_strcasecmp(expect_uuid, pool->uuid) != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "pool \"%s\" at %s has uuid %s, expected %s: this path is not the shared "
			    "pool (not mounted, or another pool)",
			    pool->name, path, pool->uuid, expect_uuid);
		return NULL;
	}
	if (!pool_area_check(pool, error))
		return NULL;
	return g_steal_pointer(&pool);
}

/* ---- init --------------------------------------------------------------- */

/*
 * Read every delta lease of the ids file; return the number of hosts whose
 * timestamp is non-zero into *@nonzero and the buffer in *@out.
 */
static guint8 *ids_snapshot(const char *ids_path, GError **error)
{
	return ics_sectors_read(ids_path, 0, ICS_LOCK_MAX_HOST_ID, error);
}

/*
 * Refuse to overwrite an existing area that is not ours, or (unless @force)
 * that is in use.  @lockspace: the lockspace the new area will have (a
 * re-init keeps the name; another name means another pool's file).
 */
static gboolean init_check_existing(IcsPool *pool, const char *lockspace, gboolean force,
				    GError **error)
{
	IcsLeaderRecord lr;
	struct stat st;
	g_autofree char *ids_what = g_strdup_printf("lease file %s", pool->ids_path);
	g_autofree char *leases_what = g_strdup_printf("lease file %s", pool->leases_path);
	guint io_timeout = 1;

	if (stat(pool->ids_path, &st) == 0 && st.st_size > 0) {
		if (!ics_leader_read(pool->ids_path, 0, &lr, error))
			return FALSE;
		if (!lr.blank && !ics_leader_check(&lr, ICS_DELTA_MAGIC, lockspace, ids_what, error))
			return FALSE;
		if (!lr.blank && lr.io_timeout > 0)
			io_timeout = MIN(lr.io_timeout, ICS_MAX_IO_TIMEOUT);
	}
	if (stat(pool->leases_path, &st) == 0 && st.st_size > 0) {
		if (!ics_leader_read(pool->leases_path, 0, &lr, error))
			return FALSE;
		if (!lr.blank && !ics_leader_check(&lr, ICS_PAXOS_MAGIC, lockspace, leases_what, error))
			return FALSE;
	}
	if (force)
		return TRUE;

	/* Any lease with an owner: someone holds (or held, and crashed) a disk. */
	if (stat(pool->leases_path, &st) == 0) {
		guint64 n = ((guint64)st.st_size + ICS_LOCK_ALIGN - 1) / ICS_LOCK_ALIGN;
		for (guint64 k = 0; k < n && k <= ICS_MAX_SLOTS; k++) {
			if (!ics_leader_read(pool->leases_path, ics_slot_offset((guint)k), &lr, error))
				return FALSE;
			if (lr.blank || lr.magic != ICS_PAXOS_MAGIC || !lr.checksum_ok)
				continue;
			if (lr.owner_id != 0 && lr.timestamp != 0) {
				g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
					    "%s holds live leases: slot %" G_GUINT64_FORMAT
					    " (%s) is owned by host %" G_GUINT64_FORMAT
					    "; release it first, or 'ics-lease init --force' if that host "
					    "is gone for good",
					    pool->meta_dir, k, lr.resource_name, lr.owner_id);
				return FALSE;
			}
		}
	}

	/* Delta leases: a non-zero timestamp that moves is a host renewing. */
	if (stat(pool->ids_path, &st) != 0 || st.st_size == 0)
		return TRUE;
	g_autofree guint8 *before = ids_snapshot(pool->ids_path, error);
	if (!before)
		return FALSE;
	gboolean any = FALSE;
	for (int h = 0; h < ICS_LOCK_MAX_HOST_ID && !any; h++) {
		ics_leader_decode(before + h * ICS_SECTOR_SIZE, &lr);
		any = lr.magic == ICS_DELTA_MAGIC && lr.checksum_ok && lr.timestamp != 0;
	}
	if (!any)
		return TRUE;
	/* sanlock renews every 2 x io_timeout; sample a little longer. */
	g_usleep((gulong)(2 * io_timeout + 1) * G_USEC_PER_SEC);
	g_autofree guint8 *after = ids_snapshot(pool->ids_path, error);
	if (!after)
		return FALSE;
	for (int h = 0; h < ICS_LOCK_MAX_HOST_ID; h++) {
		IcsLeaderRecord a;
		ics_leader_decode(before + h * ICS_SECTOR_SIZE, &lr);
		ics_leader_decode(after + h * ICS_SECTOR_SIZE, &a);
		if (a.magic == ICS_DELTA_MAGIC && a.checksum_ok && a.timestamp != 0 &&
		    (a.timestamp != lr.timestamp || a.owner_generation != lr.owner_generation)) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "%s is in use: host %d (%s) is renewing its delta lease; "
				    "leave the lockspace on every host first ('ics-lease leave'), "
				    "or use --force",
				    pool->meta_dir, h + 1, a.resource_name);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean write_pool_json(IcsPool *pool, GError **error)
{
	g_autoptr(json_t) root = json_pack("{s:i, s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:I}",
					   "format", ICS_POOL_FORMAT, "name", pool->name, "uuid",
					   pool->uuid, "lockspace", pool->lockspace, "io_timeout",
					   (int)pool->io_timeout, "sector_size", ICS_SECTOR_SIZE,
					   "align", ICS_LOCK_ALIGN, "max_hosts", ICS_LOCK_MAX_HOST_ID,
					   "lease_slots", (int)pool->lease_slots, "created",
					   (json_int_t)time(NULL));
	g_autofree char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	g_autofree char *tmp = g_strdup_printf("%s.tmp.%d", pool->json_path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0) {
		ics_error_set_errno(error, errno, "cannot create %s", tmp);
		return FALSE;
	}
	gsize len = strlen(text);
	gboolean ok = write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
		      fsync(fd) == 0;
	int saved = errno;
	close(fd);
	if (!ok || rename(tmp, pool->json_path) != 0) {
		if (ok)
			saved = errno;
		unlink(tmp);
		ics_error_set_errno(error, saved, "cannot write %s", pool->json_path);
		return FALSE;
	}
	int dfd = open(pool->meta_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return TRUE;
}

static gboolean create_file(const char *path, GError **error)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		ics_error_set_errno(error, errno, "cannot create %s", path);
		return FALSE;
	}
	close(fd);
	return TRUE;
}

static gboolean clear_slots(IcsPool *pool, GError **error)
{
	g_autoptr(GDir) dir = g_dir_open(pool->slots_dir, 0, NULL);
	const char *entry;

	if (!dir)
		return TRUE;
	while ((entry = g_dir_read_name(dir))) {
		g_autofree char *p = g_build_filename(pool->slots_dir, entry, NULL);
		if (unlink(p) != 0 && errno != ENOENT) {
			ics_error_set_errno(error, errno, "cannot remove slot record %s", p);
			return FALSE;
		}
	}
	return TRUE;
}

gboolean ics_pool_init(const char *path, const IcsPoolInitOptions *opts, GError **error)
{
	g_autoptr(IcsPool) pool = NULL;
	struct sanlk_lockspace ls;
	int rv;

	if (!opts || !pool_name_valid(opts->name, error))
		return FALSE;
	if (opts->uuid && !g_uuid_string_is_valid(opts->uuid)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT, "\"%s\" is not a uuid",
			    opts->uuid);
		return FALSE;
	}
	if (opts->io_timeout > ICS_MAX_IO_TIMEOUT || opts->lease_slots > ICS_MAX_SLOTS) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "io_timeout must be 1..%d s and lease slots 1..%d", ICS_MAX_IO_TIMEOUT,
			    ICS_MAX_SLOTS);
		return FALSE;
	}
	if (!path || !g_file_test(path, G_FILE_TEST_IS_DIR)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "pool path %s does not exist or is not a directory; create or mount it first",
			    path ? path : "(null)");
		return FALSE;
	}
	pool = pool_new(path);
	pool->name = g_strdup(opts->name);
	pool->uuid = opts->uuid ? g_ascii_strdown(opts->uuid, -1) : g_uuid_string_random();
	pool->lockspace = g_strdup_printf("ics-%s", opts->name);
	pool->io_timeout = opts->io_timeout ? opts->io_timeout : ICS_LOCK_DEFAULT_IO_TIMEOUT;
	pool->lease_slots = opts->lease_slots ? opts->lease_slots : ICS_LOCK_DEFAULT_SLOTS;

	if (!init_check_existing(pool, pool->lockspace, opts->force, error)) {
		ics_error_prefix(error, "pool \"%s\": ", pool->name);
		return FALSE;
	}
	if ((g_mkdir_with_parents(pool->slots_dir, 0755) != 0)) {
		ics_error_set_errno(error, errno, "pool \"%s\": cannot create %s", pool->name,
				    pool->slots_dir);
		return FALSE;
	}
	/* From here on the area is being rewritten: it is no pool until the end. */
	if (unlink(pool->json_path) != 0 && errno != ENOENT) {
		ics_error_set_errno(error, errno, "pool \"%s\": cannot remove %s", pool->name,
				    pool->json_path);
		return FALSE;
	}
	if (!create_file(pool->ids_path, error) || !create_file(pool->leases_path, error) ||
	    !clear_slots(pool, error))
		return FALSE;

	ics_pool_lockspace_fill(pool, 0, &ls);
	rv = sanlock_direct_write_lockspace(&ls, ICS_LOCK_MAX_HOST_ID, 0, pool->io_timeout);
	if (rv < 0) {
		ics_sanlock_error(error, rv, ICS_ERROR_IO, "pool \"%s\": cannot write lockspace %s in %s",
				  pool->name, pool->lockspace, pool->ids_path);
		return FALSE;
	}
	g_autofree struct sanlk_resource *res = ics_pool_resource_new(pool, ICS_MANAGER_LEASE, 0);
	rv = sanlock_direct_write_resource(res, 0, 0, 0);
	if (rv < 0) {
		ics_sanlock_error(error, rv, ICS_ERROR_IO, "pool \"%s\": cannot write lease area %s",
				  pool->name, pool->leases_path);
		return FALSE;
	}
	/* Old slot leases beyond slot 0 are dead data now: drop them. */
	if (truncate(pool->leases_path, ICS_LOCK_ALIGN) != 0) {
		ics_error_set_errno(error, errno, "pool \"%s\": cannot truncate %s", pool->name,
				    pool->leases_path);
		return FALSE;
	}
	if (!write_pool_json(pool, error)) {
		ics_error_prefix(error, "pool \"%s\": ", pool->name);
		return FALSE;
	}
	return TRUE;
}
