/*
 * qcow2_header.c: what an image in a repository may refer to, checked in
 * the qcow2 header itself before qemu-img opens it (see backup_internal.h).
 *
 * A repository may come from anywhere (a disk carried in, a file system
 * others write to), and qemu-img follows what an image names: a backing
 * file (a path, "json:{...}", "nbd://..."), an external data file.  The
 * checksums in the manifests cover the image files, not what they point
 * to, so a hostile image could make a restore copy /dev/sda into the
 * restored disk.  So before qemu-img touches an image of a backup: it is a
 * regular file (not a link, a FIFO, a device), its header is qcow2 version
 * 2 or 3 without an external data file, and its backing file is exactly
 * the one the backup's place in the chain says (none for a full backup,
 * "../<parent>/<file>" with format qcow2 for an incremental) -- read here,
 * in C, from the header (the format's specification: QEMU's
 * docs/interop/qcow2.txt).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup_internal.h"
#include "ics/error.h"

#define QCOW_MAGIC 0x514649fbu /* "QFI\xfb" */
#define EXT_END 0x00000000u
#define EXT_BACKING_FORMAT 0xe2792acau
#define EXT_DATA_FILE 0x44415441u
#define INCOMPAT_DATA_FILE (1ull << 2)
#define MAX_BACKING 1023
#define HEADER_AREA 4096 /* header and extensions live in the first cluster */

static guint32 be32(const guchar *p)
{
	return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

static guint64 be64(const guchar *p)
{
	return (guint64)be32(p) << 32 | be32(p + 4);
}

int backup_open_regular(const char *path, GError **error)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		ics_error_set_errno(error, errno, "cannot open %s%s", path,
				    errno == ELOOP ? " (a symbolic link: refused)" : "");
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "%s is not a regular file: refused",
			    path);
		return -1;
	}
	/* back to blocking reads */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

gboolean backup_qcow2_check(const char *path, const char *backing, GError **error)
{
	guchar h[HEADER_AREA];
	ssize_t n;
	guint32 version, bsize, hlen = 72, off;
	guint64 boff, incompat = 0;
	gboolean format_ok = FALSE;
	int fd = backup_open_regular(path, error);

	if (fd < 0)
		return FALSE;
	memset(h, 0, sizeof(h));
	n = pread(fd, h, sizeof(h), 0);
	if (n < 0) {
		ics_error_set_errno(error, errno, "cannot read %s", path);
		close(fd);
		return FALSE;
	}
	if (n < 72 || be32(h) != QCOW_MAGIC) {
		close(fd);
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "%s is not a qcow2 image", path);
		return FALSE;
	}
	version = be32(h + 4);
	boff = be64(h + 8);
	bsize = be32(h + 16);
	if (version == 3) {
		incompat = be64(h + 72);
		hlen = be32(h + 100);
	}
	if ((version != 2 && version != 3) || hlen < 72 || hlen > HEADER_AREA - 8 ||
	    (incompat & INCOMPAT_DATA_FILE)) {
		close(fd);
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
			    "%s: qcow2 version %u%s is not what ICS writes: refused", path,
			    version, incompat & INCOMPAT_DATA_FILE ? " with an external data file" : "");
		return FALSE;
	}
	/* header extensions: a data file name, or the backing file's format */
	for (off = hlen; off + 8 <= HEADER_AREA;) {
		guint32 type = be32(h + off), len = be32(h + off + 4);

		if (type == EXT_END)
			break;
		if (len > HEADER_AREA || off + 8 + len > HEADER_AREA) {
			close(fd);
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
				    "%s: a damaged qcow2 header extension", path);
			return FALSE;
		}
		if (type == EXT_DATA_FILE) {
			close(fd);
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
				    "%s names an external data file: refused", path);
			return FALSE;
		}
		if (type == EXT_BACKING_FORMAT)
			format_ok = len == 5 && memcmp(h + off + 8, "qcow2", 5) == 0;
		off += 8 + ((len + 7) & ~7u);
	}
	if (backing == NULL) {
		close(fd);
		if (boff != 0 || bsize != 0) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
				    "%s: a full backup's image has a backing file: refused", path);
			return FALSE;
		}
		return TRUE;
	}
	{
		char name[MAX_BACKING + 1];

		if (bsize == 0 || bsize > MAX_BACKING ||
		    pread(fd, name, bsize, (off_t)boff) != (ssize_t)bsize) {
			close(fd);
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
				    "%s: an incremental backup's image without a readable backing "
				    "file name",
				    path);
			return FALSE;
		}
		close(fd);
		name[bsize] = '\0';
		if (strlen(name) != bsize || strcmp(name, backing) != 0 || !format_ok) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
				    "%s is backed by \"%s\"%s, not its parent's \"%s\" (qcow2): "
				    "refused",
				    path, name, format_ok ? "" : " of another or no format", backing);
			return FALSE;
		}
	}
	return TRUE;
}
