/*
 * ics/file.h: files that survive a crash in the middle of their write.
 *
 * Definitions, manifests and checkpoint records are read by other hosts
 * while one host may be rewriting them, and a host may die at any moment,
 * so they are replaced atomically: written to a temporary name in the same
 * directory, fsynced, renamed over the old one, and the directory fsynced.
 * A reader sees the old file or the new one, never half of one.
 */
#ifndef ICS_FILE_H
#define ICS_FILE_H

#include <glib.h>

/* fsync a directory, so a rename or a new entry in it is on disk. */
gboolean ics_fsync_dir(const char *dir, GError **error);

/* Replace @dir/@name with @data (mode 0644): tmp + fsync + rename +
 * fsync(dir).  ICS_ERROR_IO (with the errno's text; ENOSPC included) on
 * failure, and the old file, if any, is untouched. */
gboolean ics_file_write_atomic(const char *dir, const char *name, const char *data,
			       GError **error);

#endif /* ICS_FILE_H */
