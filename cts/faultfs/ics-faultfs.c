/*
 * ics-faultfs: a FUSE passthrough filesystem whose storage path can be made
 * to fail on command.  Lab tooling only; never installed.
 *
 * The lab gives every simulated node its own mount namespace, and the shared
 * pool directory is visible to all of them.  To simulate "this node lost its
 * path to the pool while the others kept theirs", each node mounts the pool
 * through its own ics-faultfs instance, and a test writes one word into that
 * instance's control file:
 *
 *   ok    pass every operation through to SOURCE_DIR;
 *   eio   every operation fails with EIO (open, read, write, fsync, getattr,
 *         readdir, and every namespace change), like a dead disk;
 *   hang  every operation blocks until the word changes, like an unplugged
 *         FC/iSCSI path with no timeout; a blocked operation gives up with
 *         EIO after HANG_MAX_SEC (600 s) and with EINTR when the caller is
 *         signalled (the kernel forwards the interrupt);
 *   ro    reads pass, every modification fails with EROFS;
 *   enospc  what would take space fails with ENOSPC (writes, fallocate, new
 *         files, directories and links), like a full file system: reads,
 *         removals, renames and metadata changes pass.  "enospc MIB" lets
 *         MIB more MiB be written first (a file system filling up during a
 *         copy); the budget is set when the control file changes.
 *
 * A few operations are never faulted: getattr of the mount root and statfs,
 * so that `mountpoint`, `df` and `fusermount3 -u` still work on a "dead"
 * mount; and flush and release, so that close() neither fails nor blocks, as
 * on a local filesystem over a dead disk (and so that a shell that forks with
 * a descriptor of the mount open does not hang in every exec).
 *
 * Why it is built this way:
 * - The control file lives outside the mount and is re-read by one thread
 *   every CONTROL_POLL_MS (50 ms); operations only load an atomic, so a
 *   change of mode takes effect within 100 ms and costs nothing per call.
 *   A write that is caught half done (empty file) changes nothing; an
 *   unknown word is reported and ignored.
 * - Every path is resolved with *at() calls relative to a descriptor of
 *   SOURCE_DIR opened before daemonizing, so the chdir("/") of the daemon
 *   and later renames of the source path do not matter.
 * - Caching is off (attribute, entry and negative timeouts 0) so a stat after
 *   a flip reaches the daemon.  Files opened with O_DIRECT are opened
 *   O_DIRECT on the backing file too and use FUSE direct_io, so the page
 *   cache neither hides an error nor turns an aligned I/O into a buffered
 *   one.  libfuse's buffers are not sector-aligned, so O_DIRECT reads and
 *   writes go through an aligned bounce buffer; unaligned offsets or sizes
 *   get the backing filesystem's EINVAL, as on a real disk.
 * - The filesystem runs multithreaded (libfuse default); each hung operation
 *   holds one worker thread, so the default cap is raised to
 *   -o max_threads=64 (a later -o max_threads=N wins).  The kernel also
 *   serializes lookups and readdir per directory (libfuse 3.14's high-level
 *   API does not negotiate parallel dirops), so in hang mode the first caller
 *   in a directory holds a thread and the others queue in the kernel: all of
 *   them block, all of them resume on ok.  libfuse 3.14.0 prints a harmless
 *   "Ignoring invalid max threads value" at start.
 * - If this daemon dies, the mount stays and every access returns ENOTCONN
 *   until it is unmounted (fusermount3 -u, or umount -l): that is the FUSE
 *   contract and is acceptable for a lab; unmount before starting again.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _GNU_SOURCE /* standalone build: gcc ... $(pkg-config --cflags --libs fuse3) */
#endif

#define FUSE_USE_VERSION 31

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#define CONTROL_POLL_MS 50
#define HANG_MAX_SEC 600
#define HANG_SLICE_MS 20
#define DIO_ALIGN 4096

enum fault_mode { MODE_OK, MODE_EIO, MODE_HANG, MODE_RO, MODE_ENOSPC };

/* What an operation does, which decides how each mode treats it. */
enum op_kind {
	OP_READ,   /* reads data or metadata: fails in eio, blocks in hang */
	OP_MODIFY, /* changes data or metadata: also fails EROFS in ro */
	OP_GROW,   /* may take space: also fails ENOSPC in enospc */
};

static const char *const mode_names[] = { "ok", "eio", "hang", "ro", "enospc" };

static struct {
	int src_fd;             /* SOURCE_DIR, opened before daemonizing */
	char *src_path;         /* absolute, for messages */
	char *control_path;     /* absolute */
	atomic_int mode;
	atomic_llong budget;    /* enospc: bytes still writable */
	pthread_mutex_t lock;   /* guards nothing but the condition below */
	pthread_cond_t changed; /* broadcast on every change of mode */
	pthread_t poller;
	atomic_bool stop;
} faultfs = {
	.src_fd = -1,
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

/* ---- control file ------------------------------------------------------ */

/*
 * Read the control file.  Returns the mode, -1 when the file holds nothing
 * yet (a writer truncated it and has not written), -2 for an unknown word,
 * and -errno when it cannot be read.  *word gets the first word read.
 */
static int control_read(char *word, size_t wordsz, long long *mib)
{
	char buf[64];
	int fd = open(faultfs.control_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';

	const char *p = buf + strspn(buf, " \t\r\n");
	size_t len = strcspn(p, " \t\r\n");
	snprintf(word, wordsz, "%.*s", (int)len, p);
	if (len == 0)
		return -1;
	*mib = strtoll(p + len, NULL, 10);
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (strcmp(word, mode_names[i]) == 0)
			return (int)i;
	return -2;
}

static void mode_set(int mode)
{
	int old = atomic_exchange(&faultfs.mode, mode);
	if (old == mode)
		return;
	pthread_mutex_lock(&faultfs.lock);
	pthread_cond_broadcast(&faultfs.changed);
	pthread_mutex_unlock(&faultfs.lock);
	fprintf(stderr, "ics-faultfs: %s: mode %s -> %s\n", faultfs.src_path,
		mode_names[old], mode_names[mode]);
}

static void *control_poll(void *arg)
{
	char word[32], last_bad[32] = "";
	int last_err = 0, last_mode = -1;
	long long last_mib = -1;

	while (!atomic_load(&faultfs.stop)) {
		long long mib = 0;
		int rc = control_read(word, sizeof(word), &mib);
		if (rc >= 0) {
			/* a new text: a new budget (a poll of the same text
			 * must not refill it) */
			if (rc != last_mode || mib != last_mib)
				atomic_store(&faultfs.budget, mib > 0 ? mib << 20 : 0);
			last_mode = rc;
			last_mib = mib;
			mode_set(rc);
			last_bad[0] = '\0';
			last_err = 0;
		} else if (rc == -2 && strcmp(word, last_bad) != 0) {
			fprintf(stderr, "ics-faultfs: control file %s: unknown mode '%s' "
				"(expected ok, eio, hang, ro or enospc); keeping mode %s\n",
				faultfs.control_path, word, mode_names[atomic_load(&faultfs.mode)]);
			snprintf(last_bad, sizeof(last_bad), "%s", word);
		} else if (rc < -2 && rc != last_err) {
			fprintf(stderr, "ics-faultfs: control file %s: %s; keeping mode %s\n",
				faultfs.control_path, strerror(-rc),
				mode_names[atomic_load(&faultfs.mode)]);
			last_err = rc;
		}
		struct timespec ts = { 0, CONTROL_POLL_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* ---- the fault gate every operation passes --------------------------- */

static bool session_exited(void)
{
	struct fuse_context *ctx = fuse_get_context();
	return ctx && ctx->fuse && fuse_session_exited(fuse_get_session(ctx->fuse));
}

/*
 * 0 when the operation may proceed, or the -errno it must return.  In hang
 * mode, wait in short slices so that a change of mode, an interrupt from the
 * caller, an unmount and the 600 s bound are all noticed.
 */
static int fault_gate(enum op_kind kind)
{
	struct timespec deadline;
	bool waited = false;

	for (;;) {
		switch (atomic_load(&faultfs.mode)) {
		case MODE_OK:
			return 0;
		case MODE_EIO:
			return -EIO;
		case MODE_RO:
			return kind != OP_READ ? -EROFS : 0;
		case MODE_ENOSPC:
			return kind == OP_GROW && atomic_load(&faultfs.budget) <= 0 ? -ENOSPC : 0;
		case MODE_HANG:
			break;
		}
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!waited) {
			deadline = now;
			deadline.tv_sec += HANG_MAX_SEC;
			waited = true;
		} else if (now.tv_sec > deadline.tv_sec ||
			   (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec)) {
			return -EIO;
		}
		if (fuse_interrupted())
			return -EINTR;
		if (session_exited())
			return -EIO;

		struct timespec until = now;
		until.tv_nsec += HANG_SLICE_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&faultfs.lock);
		if (atomic_load(&faultfs.mode) == MODE_HANG)
			pthread_cond_timedwait(&faultfs.changed, &faultfs.lock, &until);
		pthread_mutex_unlock(&faultfs.lock);
	}
}

#define GATE(kind)                          \
	do {                                \
		int gate_rc = fault_gate(kind); \
		if (gate_rc)                    \
			return gate_rc;         \
	} while (0)

/* ---- passthrough ------------------------------------------------------ */

/* FUSE paths start with '/'; *at() calls want them relative to src_fd. */
static const char *rel(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

/* Give a new object to the caller, as a kernel filesystem would. */
static void own_to_caller(const char *path)
{
	struct fuse_context *ctx = fuse_get_context();
	if (ctx && (ctx->uid != geteuid() || ctx->gid != getegid()))
		(void)fchownat(faultfs.src_fd, rel(path), ctx->uid, ctx->gid, AT_SYMLINK_NOFOLLOW);
}

static void *ffs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	cfg->use_ino = 1;
	cfg->attr_timeout = 0;
	cfg->entry_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->hard_remove = 1;
	cfg->nullpath_ok = 0;

	/* After fuse_main() daemonized: a thread started earlier would be gone. */
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&faultfs.changed, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&faultfs.poller, NULL, control_poll, NULL) != 0) {
		fprintf(stderr, "ics-faultfs: cannot start the control file thread\n");
		abort();
	}
	return NULL;
}

static void ffs_destroy(void *data)
{
	atomic_store(&faultfs.stop, true);
	pthread_join(faultfs.poller, NULL);
}

static int ffs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	if (strcmp(path, "/") != 0)
		GATE(OP_READ);
	int rc = fi ? fstat((int)fi->fh, st)
		    : fstatat(faultfs.src_fd, rel(path), st, AT_SYMLINK_NOFOLLOW);
	return rc < 0 ? -errno : 0;
}

static int ffs_readlink(const char *path, char *buf, size_t size)
{
	GATE(OP_READ);
	ssize_t n = readlinkat(faultfs.src_fd, rel(path), buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int ffs_opendir(const char *path, struct fuse_file_info *fi)
{
	GATE(OP_READ);
	int fd = openat(faultfs.src_fd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *dir = fdopendir(fd);
	if (!dir) {
		int err = errno;
		close(fd);
		return -err;
	}
	fi->fh = (uint64_t)(uintptr_t)dir;
	return 0;
}

static int ffs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
		       struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	GATE(OP_READ);
	DIR *dir = (DIR *)(uintptr_t)fi->fh;
	/* The high-level API hands offset 0 and wants everything in one go. */
	rewinddir(dir);
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(dir);
		if (!de)
			return -errno;
		struct stat st = { .st_ino = de->d_ino, .st_mode = (mode_t)DTTOIF(de->d_type) };
		if (fill(buf, de->d_name, &st, 0, 0))
			return 0;
	}
}

static int ffs_releasedir(const char *path, struct fuse_file_info *fi)
{
	closedir((DIR *)(uintptr_t)fi->fh);
	return 0;
}

static int ffs_mknod(const char *path, mode_t mode, dev_t rdev)
{
	GATE(OP_GROW);
	if (mknodat(faultfs.src_fd, rel(path), mode, rdev) < 0)
		return -errno;
	own_to_caller(path);
	return 0;
}

static int ffs_mkdir(const char *path, mode_t mode)
{
	GATE(OP_GROW);
	if (mkdirat(faultfs.src_fd, rel(path), mode) < 0)
		return -errno;
	own_to_caller(path);
	return 0;
}

static int ffs_unlink(const char *path)
{
	GATE(OP_MODIFY);
	return unlinkat(faultfs.src_fd, rel(path), 0) < 0 ? -errno : 0;
}

static int ffs_rmdir(const char *path)
{
	GATE(OP_MODIFY);
	return unlinkat(faultfs.src_fd, rel(path), AT_REMOVEDIR) < 0 ? -errno : 0;
}

static int ffs_symlink(const char *target, const char *path)
{
	GATE(OP_GROW);
	if (symlinkat(target, faultfs.src_fd, rel(path)) < 0)
		return -errno;
	own_to_caller(path);
	return 0;
}

static int ffs_rename(const char *from, const char *to, unsigned int flags)
{
	GATE(OP_MODIFY);
	return renameat2(faultfs.src_fd, rel(from), faultfs.src_fd, rel(to), flags) < 0 ? -errno : 0;
}

static int ffs_link(const char *from, const char *to)
{
	GATE(OP_GROW);
	return linkat(faultfs.src_fd, rel(from), faultfs.src_fd, rel(to), 0) < 0 ? -errno : 0;
}

static int ffs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	GATE(OP_MODIFY);
	int rc = fi ? fchmod((int)fi->fh, mode) : fchmodat(faultfs.src_fd, rel(path), mode, 0);
	return rc < 0 ? -errno : 0;
}

static int ffs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	GATE(OP_MODIFY);
	int rc = fi ? fchown((int)fi->fh, uid, gid)
		    : fchownat(faultfs.src_fd, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW);
	return rc < 0 ? -errno : 0;
}

static int ffs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	GATE(OP_MODIFY);
	if (fi)
		return ftruncate((int)fi->fh, size) < 0 ? -errno : 0;
	int fd = openat(faultfs.src_fd, rel(path), O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = ftruncate(fd, size) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

static int ffs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	GATE(OP_MODIFY);
	int rc = fi ? futimens((int)fi->fh, tv)
		    : utimensat(faultfs.src_fd, rel(path), tv, AT_SYMLINK_NOFOLLOW);
	return rc < 0 ? -errno : 0;
}

static bool open_writes(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

/* The caller's flags, as the kernel passed them (O_DIRECT included). */
static int open_backing(const char *path, struct fuse_file_info *fi, int flags, mode_t mode)
{
	int fd = openat(faultfs.src_fd, rel(path), flags | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	fi->fh = (uint64_t)fd;
	if (flags & O_DIRECT)
		fi->direct_io = 1;
	return 0;
}

static int ffs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	GATE(OP_GROW);
	int rc = open_backing(path, fi, fi->flags | O_CREAT, mode);
	if (rc == 0)
		own_to_caller(path);
	return rc;
}

static int ffs_open(const char *path, struct fuse_file_info *fi)
{
	GATE(open_writes(fi->flags) ? OP_MODIFY : OP_READ);
	return open_backing(path, fi, fi->flags, 0);
}

static bool is_direct(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl >= 0 && (fl & O_DIRECT);
}

static int ffs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	GATE(OP_READ);
	int fd = (int)fi->fh;
	if (!is_direct(fd)) {
		ssize_t n = pread(fd, buf, size, off);
		return n < 0 ? -errno : (int)n;
	}
	void *bounce;
	if (posix_memalign(&bounce, DIO_ALIGN, size ? size : DIO_ALIGN) != 0)
		return -ENOMEM;
	ssize_t n = pread(fd, bounce, size, off);
	int rc = n < 0 ? -errno : (int)n;
	if (n > 0)
		memcpy(buf, bounce, (size_t)n);
	free(bounce);
	return rc;
}

static int ffs_write(const char *path, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	GATE(OP_GROW);
	/* enospc with a budget: this write takes its share of it */
	if (atomic_load(&faultfs.mode) == MODE_ENOSPC &&
	    atomic_fetch_sub(&faultfs.budget, (long long)size) < (long long)size)
		return -ENOSPC;
	int fd = (int)fi->fh;
	if (!is_direct(fd)) {
		ssize_t n = pwrite(fd, buf, size, off);
		return n < 0 ? -errno : (int)n;
	}
	void *bounce;
	if (posix_memalign(&bounce, DIO_ALIGN, size ? size : DIO_ALIGN) != 0)
		return -ENOMEM;
	memcpy(bounce, buf, size);
	ssize_t n = pwrite(fd, bounce, size, off);
	int rc = n < 0 ? -errno : (int)n;
	free(bounce);
	return rc;
}

static int ffs_statfs(const char *path, struct statvfs *st)
{
	return fstatvfs(faultfs.src_fd, st) < 0 ? -errno : 0;
}

static int ffs_flush(const char *path, struct fuse_file_info *fi)
{
	/* close() of a duplicate reports delayed write errors (NFS-style). */
	int fd = dup((int)fi->fh);
	if (fd < 0)
		return -errno;
	return close(fd) < 0 ? -errno : 0;
}

static int ffs_release(const char *path, struct fuse_file_info *fi)
{
	close((int)fi->fh);
	return 0;
}

static int ffs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	GATE(OP_MODIFY);
	int fd = (int)fi->fh;
	return (datasync ? fdatasync(fd) : fsync(fd)) < 0 ? -errno : 0;
}

static int ffs_fallocate(const char *path, int mode, off_t off, off_t len,
			 struct fuse_file_info *fi)
{
	GATE(OP_GROW);
	return fallocate((int)fi->fh, mode, off, len) < 0 ? -errno : 0;
}

static const struct fuse_operations ffs_ops = {
	.init = ffs_init,
	.destroy = ffs_destroy,
	.getattr = ffs_getattr,
	.readlink = ffs_readlink,
	.opendir = ffs_opendir,
	.readdir = ffs_readdir,
	.releasedir = ffs_releasedir,
	.mknod = ffs_mknod,
	.mkdir = ffs_mkdir,
	.unlink = ffs_unlink,
	.rmdir = ffs_rmdir,
	.symlink = ffs_symlink,
	.rename = ffs_rename,
	.link = ffs_link,
	.chmod = ffs_chmod,
	.chown = ffs_chown,
	.truncate = ffs_truncate,
	.utimens = ffs_utimens,
	.create = ffs_create,
	.open = ffs_open,
	.read = ffs_read,
	.write = ffs_write,
	.statfs = ffs_statfs,
	.flush = ffs_flush,
	.release = ffs_release,
	.fsync = ffs_fsync,
	.fallocate = ffs_fallocate,
};

/* ---- command line ------------------------------------------------------ */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ics-faultfs [-f] [-d] [-s] SOURCE_DIR MOUNTPOINT [-o FUSE-OPTIONS] --control PATH\n"
		"  PATH holds one word: ok | eio | hang | ro (re-read every %d ms)\n"
		"  -f foreground, -d debug, -s single-threaded; unmount with fusermount3 -u MOUNTPOINT\n",
		CONTROL_POLL_MS);
}

__attribute__((format(printf, 1, 2))) static int die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("ics-faultfs: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 2;
}

int main(int argc, char **argv)
{
	const char *source = NULL, *mountpoint = NULL, *control = NULL;
	/* argv for libfuse: program, flags, -o options, mountpoint (+ NULL). */
	char **fargv = calloc((size_t)argc + 4, sizeof(char *));
	char defaults[PATH_MAX + 128];
	int fargc = 0;

	if (!fargv)
		return die("out of memory");
	fargv[fargc++] = argv[0];
	fargv[fargc++] = "-o"; /* our defaults first, so that the caller's -o win */
	fargv[fargc++] = defaults;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--control") == 0) {
			if (++i == argc)
				return die("--control needs a file path");
			control = argv[i];
		} else if (strncmp(a, "--control=", 10) == 0) {
			control = a + 10;
		} else if (strcmp(a, "-o") == 0) {
			if (++i == argc)
				return die("-o needs a list of options");
			fargv[fargc++] = argv[i - 1];
			fargv[fargc++] = argv[i];
		} else if (strncmp(a, "-o", 2) == 0 || strcmp(a, "-f") == 0 ||
			   strcmp(a, "-d") == 0 || strcmp(a, "-s") == 0) {
			fargv[fargc++] = argv[i];
		} else if (a[0] == '-') {
			usage(stderr);
			return die("unknown option '%s'", a);
		} else if (!source) {
			source = a;
		} else if (!mountpoint) {
			mountpoint = a;
		} else {
			usage(stderr);
			return die("unexpected argument '%s'", a);
		}
	}
	if (!source || !mountpoint || !control) {
		usage(stderr);
		return die("SOURCE_DIR, MOUNTPOINT and --control PATH are all required");
	}

	struct stat st;
	if (stat(source, &st) < 0)
		return die("source directory %s: %s", source, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return die("source directory %s: not a directory", source);
	if (stat(mountpoint, &st) < 0)
		return die("mountpoint %s: %s", mountpoint, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return die("mountpoint %s: not a directory", mountpoint);

	faultfs.src_path = realpath(source, NULL);
	faultfs.control_path = realpath(control, NULL);
	if (!faultfs.control_path)
		return die("control file %s: %s (create it with the word ok)", control,
			   strerror(errno));
	faultfs.src_fd = open(source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!faultfs.src_path || faultfs.src_fd < 0)
		return die("source directory %s: %s", source, strerror(errno));

	char word[32];
	long long mib = 0;
	int mode = control_read(word, sizeof(word), &mib);
	if (mode == -2)
		return die("control file %s: unknown mode '%s' (expected ok, eio, hang, ro or enospc)",
			   faultfs.control_path, word);
	if (mode < -2)
		return die("control file %s: %s", faultfs.control_path, strerror(-mode));
	atomic_store(&faultfs.mode, mode >= 0 ? mode : MODE_OK);

	/* Root mounts for the whole lab: let every user in, let the kernel check modes. */
	snprintf(defaults, sizeof(defaults), "%sdefault_permissions,max_threads=64,fsname=%s,subtype=ics-faultfs",
		 geteuid() == 0 ? "allow_other," : "", faultfs.src_path);
	fargv[fargc++] = (char *)mountpoint;
	fargv[fargc] = NULL;

	int rc = fuse_main(fargc, fargv, &ffs_ops, NULL);
	close(faultfs.src_fd);
	free(faultfs.src_path);
	free(faultfs.control_path);
	free(fargv);
	return rc;
}
