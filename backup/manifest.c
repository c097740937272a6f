/*
 * manifest.c: a backup's manifest.json (see ics/backup.h and
 * docs/backup-format.md).
 *
 * The parser is strict where a wrong value could restore wrong data (ids,
 * file names, checksums, the chain) and names the member at fault.  A
 * manifest of a newer format is refused with the two versions, before any
 * other member is read: a newer ICS may have changed what they mean.  File
 * and id members become path components, so they may not contain '/' or
 * start with '.'.
 */
#include "config.h"

#include <string.h>

#include "backup_internal.h"
#include "ics/error.h"
#include "ics/json.h"

void backup_disk_free(gpointer p)
{
	IcsBackupDisk *d = p;

	if (d == NULL)
		return;
	g_free(d->target);
	g_free(d->source);
	g_free(d->source_format);
	g_free(d->file);
	g_free(d->sha256);
	g_free(d);
}

void ics_backup_manifest_free(IcsBackupManifest *m)
{
	if (m == NULL)
		return;
	g_free(m->ics_version);
	g_free(m->id);
	g_free(m->vm_uuid);
	g_free(m->vm_name);
	if (m->definition)
		json_decref(m->definition);
	g_free(m->created);
	g_free(m->completed);
	g_free(m->parent);
	g_free(m->full_reason);
	g_free(m->checkpoint);
	g_free(m->policy);
	g_free(m->consistency);
	if (m->disks)
		g_ptr_array_unref(m->disks);
	g_free(m->dir);
	g_free(m);
}

/* A name that is safe as one path component. */
static gboolean safe_component(const char *s)
{
	if (s == NULL || s[0] == '\0' || s[0] == '.' || strlen(s) > 200)
		return FALSE;
	for (const char *p = s; *p; p++)
		if (!(g_ascii_isalnum(*p) || *p == '-' || *p == '_' || *p == '.'))
			return FALSE;
	return TRUE;
}

static gboolean is_sha256(const char *s)
{
	if (s == NULL || strlen(s) != 64)
		return FALSE;
	for (const char *p = s; *p; p++)
		if (!g_ascii_isxdigit(*p) || g_ascii_isupper(*p))
			return FALSE;
	return TRUE;
}

/* A string member; an optional one may be absent or null (NULL, no error). */
static char *dup_member(const json_t *o, const char *key, gboolean required, GError **error)
{
	const char *v = required ? ics_json_get_string(o, key, error)
				 : ics_json_get_string_or(o, key, NULL, error);

	return g_strdup(v);
}

static gboolean get_size(const json_t *o, const char *key, guint64 *out, GError **error)
{
	gint64 v = 0;

	if (!ics_json_get_int(o, key, &v, error))
		return FALSE;
	if (v < 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT, "\"%s\" is negative",
			    key);
		return FALSE;
	}
	*out = (guint64)v;
	return TRUE;
}

static IcsBackupDisk *disk_parse(const json_t *o, GError **error)
{
	g_autoptr(GError) err = NULL;
	IcsBackupDisk *d = g_new0(IcsBackupDisk, 1);

	if (!ics_json_require_object(o, "a disk", error))
		goto fail;
	if ((d->target = dup_member(o, "target", TRUE, error)) == NULL ||
	    (d->file = dup_member(o, "file", TRUE, error)) == NULL ||
	    (d->sha256 = dup_member(o, "sha256", TRUE, error)) == NULL ||
	    (d->source_format = dup_member(o, "source_format", TRUE, error)) == NULL)
		goto fail;
	d->source = dup_member(o, "source", FALSE, &err);
	if (err != NULL) {
		g_propagate_error(error, g_steal_pointer(&err));
		goto fail;
	}
	if (!get_size(o, "virtual_size", &d->virtual_size, error) ||
	    !get_size(o, "file_size", &d->file_size, error))
		goto fail;
	if (!safe_component(d->target) || !safe_component(d->file)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "disk \"%s\": target and file must be plain file names", d->target);
		goto fail;
	}
	if (!is_sha256(d->sha256)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "disk %s: \"sha256\" is not 64 lower-case hex digits", d->target);
		goto fail;
	}
	return d;
fail:
	backup_disk_free(d);
	return NULL;
}

IcsBackupManifest *ics_backup_manifest_parse(const char *text, const char *what, GError **error)
{
	g_autoptr(json_t) root = ics_json_load_string(text, what, error);
	g_autoptr(IcsBackupManifest) m = NULL;
	g_autoptr(GError) err = NULL;
	const json_t *vm, *disks, *def;
	const char *kind;
	gint64 format = 0, written = 0, duration = 0;
	size_t i;

	if (root == NULL)
		return NULL;
	if (!ics_json_require_object(root, "a manifest", error) ||
	    !ics_json_get_int(root, "format", &format, error))
		goto fail;
	if (format > ICS_BACKUP_FORMAT) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "manifest format %" G_GINT64_FORMAT
			    " is newer than this ICS understands (%d): use the ICS that wrote it "
			    "(%s), or a newer one",
			    format, ICS_BACKUP_FORMAT,
			    ics_json_get_string_or(root, "ics_version", "unknown", NULL));
		goto fail;
	}
	if (format < 1) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "manifest format %" G_GINT64_FORMAT " is not valid", format);
		goto fail;
	}
	m = g_new0(IcsBackupManifest, 1);
	m->format = (guint)format;
	m->disks = g_ptr_array_new_with_free_func(backup_disk_free);
	if ((m->id = dup_member(root, "id", TRUE, error)) == NULL ||
	    (m->created = dup_member(root, "created", TRUE, error)) == NULL ||
	    (m->consistency = dup_member(root, "consistency", TRUE, error)) == NULL ||
	    (m->ics_version = dup_member(root, "ics_version", TRUE, error)) == NULL)
		goto fail;
	if (!safe_component(m->id)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "\"id\" must be a plain name");
		goto fail;
	}
	m->completed = dup_member(root, "completed", FALSE, &err);
	m->parent = dup_member(root, "parent", FALSE, err ? NULL : &err);
	m->full_reason = dup_member(root, "full_reason", FALSE, err ? NULL : &err);
	m->checkpoint = dup_member(root, "checkpoint", FALSE, err ? NULL : &err);
	m->policy = dup_member(root, "policy", FALSE, err ? NULL : &err);
	if (err != NULL) {
		g_propagate_error(error, g_steal_pointer(&err));
		goto fail;
	}
	/* a checkpoint's name becomes a file name on the pool and goes into
	 * libvirt's XML: ICS's own names only */
	if (m->checkpoint != NULL && (!safe_component(m->checkpoint) ||
				      !g_str_has_prefix(m->checkpoint, ICS_BACKUP_CHECKPOINT_PREFIX))) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "\"checkpoint\" is not a checkpoint name ICS makes");
		goto fail;
	}
	vm = json_object_get(root, "vm");
	if (!json_is_object(vm)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE, "\"vm\" must be an object");
		goto fail;
	}
	if ((m->vm_uuid = dup_member(vm, "uuid", TRUE, error)) == NULL ||
	    (m->vm_name = dup_member(vm, "name", TRUE, error)) == NULL)
		goto fail;
	if (!g_uuid_string_is_valid(m->vm_uuid)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "\"vm.uuid\" is not a uuid");
		goto fail;
	}
	def = json_object_get(root, "definition");
	if (def != NULL && !json_is_object(def)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE, "\"definition\" must be an object");
		goto fail;
	}
	m->definition = def ? json_incref((json_t *)def) : NULL;
	kind = ics_json_get_string(root, "kind", error);
	if (kind == NULL)
		goto fail;
	if (strcmp(kind, "incremental") == 0)
		m->incremental = TRUE;
	else if (strcmp(kind, "full") != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "\"kind\" must be \"full\" or \"incremental\", not \"%s\"", kind);
		goto fail;
	}
	if (m->incremental != (m->parent != NULL) ||
	    (m->parent != NULL && !safe_component(m->parent))) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "an incremental backup names its parent, a full one does not");
		goto fail;
	}
	if (!ics_json_get_int_or(root, "bytes_written", 0, &written, error) ||
	    !ics_json_get_int_or(root, "duration_ms", 0, &duration, error))
		goto fail;
	m->bytes_written = (guint64)MAX(written, 0);
	m->duration_ms = (guint64)MAX(duration, 0);
	disks = json_object_get(root, "disks");
	if (!json_is_array(disks) || json_array_size(disks) == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
			    "\"disks\" must be a non-empty array");
		goto fail;
	}
	for (i = 0; i < json_array_size(disks); i++) {
		IcsBackupDisk *d = disk_parse(json_array_get(disks, i), error);

		if (d == NULL) {
			ics_error_prefix(error, "disks[%zu]: ", i);
			goto fail;
		}
		if (ics_backup_manifest_disk(m, d->target) != NULL) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
				    "disk %s is listed twice", d->target);
			backup_disk_free(d);
			goto fail;
		}
		g_ptr_array_add(m->disks, d);
	}
	return g_steal_pointer(&m);
fail:
	ics_error_prefix(error, "%s: ", what);
	return NULL;
}

static void set_opt_string(json_t *o, const char *key, const char *v)
{
	json_object_set_new(o, key, v ? json_string(v) : json_null());
}

json_t *ics_backup_manifest_to_json(const IcsBackupManifest *m)
{
	json_t *disks = json_array();
	json_t *root;

	for (guint i = 0; i < m->disks->len; i++) {
		const IcsBackupDisk *d = g_ptr_array_index(m->disks, i);

		json_array_append_new(disks,
				      json_pack("{s:s, s:s?, s:s, s:I, s:s, s:I, s:s}", "target",
						d->target, "source", d->source, "source_format",
						d->source_format, "virtual_size",
						(json_int_t)d->virtual_size, "file", d->file,
						"file_size", (json_int_t)d->file_size, "sha256",
						d->sha256));
	}
	root = json_pack("{s:i, s:s, s:s, s:{s:s, s:s}, s:s, s:s}", "format", (int)m->format,
			 "ics_version", m->ics_version, "id", m->id, "vm", "uuid", m->vm_uuid,
			 "name", m->vm_name, "created", m->created, "kind",
			 m->incremental ? "incremental" : "full");
	set_opt_string(root, "completed", m->completed);
	set_opt_string(root, "parent", m->parent);
	set_opt_string(root, "full_reason", m->full_reason);
	set_opt_string(root, "checkpoint", m->checkpoint);
	set_opt_string(root, "policy", m->policy);
	json_object_set_new(root, "consistency", json_string(m->consistency));
	json_object_set_new(root, "bytes_written", json_integer((json_int_t)m->bytes_written));
	json_object_set_new(root, "duration_ms", json_integer((json_int_t)m->duration_ms));
	json_object_set_new(root, "disks", disks);
	if (m->definition)
		json_object_set(root, "definition", m->definition);
	return root;
}

char *ics_backup_manifest_serialize(const IcsBackupManifest *m)
{
	g_autoptr(json_t) root = ics_backup_manifest_to_json(m);
	char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	char *out = g_strconcat(s, "\n", NULL);

	free(s);
	return out;
}

const IcsBackupDisk *ics_backup_manifest_disk(const IcsBackupManifest *m, const char *target)
{
	for (guint i = 0; i < m->disks->len; i++) {
		const IcsBackupDisk *d = g_ptr_array_index(m->disks, i);

		if (strcmp(d->target, target) == 0)
			return d;
	}
	return NULL;
}
