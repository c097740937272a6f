/*
 * file.c: atomic replacement of small files (see ics/file.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "ics/error.h"
#include "ics/file.h"

gboolean ics_fsync_dir(const char *dir, GError **error)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		ics_error_set_errno(error, e, "cannot sync directory %s", dir);
		return FALSE;
	}
	close(fd);
	return TRUE;
}

gboolean ics_file_write_atomic(const char *dir, const char *name, const char *data,
			       GError **error)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autofree char *tmp = g_strdup_printf("%s/.%s.XXXXXX", dir, name);
	size_t len = strlen(data);
	size_t done = 0;
	int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0644);

	if (fd < 0) {
		ics_error_set_errno(error, errno, "cannot create a temporary file in %s", dir);
		return FALSE;
	}
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		done += (size_t)n;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	return ics_fsync_dir(dir, error);
fail : {
	int e = errno;

	if (fd >= 0)
		close(fd);
	unlink(tmp);
	ics_error_set_errno(error, e, "cannot write %s", path);
}
	return FALSE;
}
