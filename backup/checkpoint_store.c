/*
 * checkpoint_store.c: the records of a VM's checkpoints on its pool, and
 * their redefinition on the domain (see ics/backup.h).
 *
 * ICS domains are transient, and libvirt keeps the checkpoint metadata of
 * a transient domain only while it runs on that libvirtd: it is not
 * migrated and it is lost at stop.  The bitmaps themselves live in the
 * qcow2 images (persistent bitmaps) and survive both.  So each checkpoint
 * ICS makes is recorded in <pool>/.ics/vms/<uuid>/checkpoints/<name>.xml
 * (libvirt's XML without the domain, its <parent> removed: records are
 * redefined independently, and each repository prunes its own), and the
 * vm agent redefines them when it starts or migrates the domain in,
 * validating that each bitmap is present and consistent.  A bitmap that is
 * not (QEMU died without closing the image: the bitmap is marked in use
 * and may miss writes) is refused and its bitmap removed from the image;
 * its record is replaced by <name>.xml.broken, libvirt's reason, for the
 * next backup to tell why it reads the whole disk.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>
#include <libvirt/virterror.h>

#include "backup_internal.h"
#include "ics/error.h"
#include "ics/file.h"
#include "ics/xml.h"

char *ics_backup_checkpoint_dir(const char *vm_dir)
{
	return g_build_filename(vm_dir, "checkpoints", NULL);
}

static char *record_name(const char *name, const char *suffix)
{
	return g_strconcat(name, ".xml", suffix, NULL);
}

/* libvirt's checkpoint XML without <parent>. */
static char *without_parent(const char *xml, GError **error)
{
	g_autoptr(xmlDoc) doc = ics_xml_parse_string(xml, -1, "checkpoint XML", error);
	xmlNode *root, *n, *next;
	xmlChar *buf = NULL;
	int len = 0;
	char *out;

	if (doc == NULL)
		return NULL;
	root = xmlDocGetRootElement(doc);
	for (n = root ? root->children : NULL; n != NULL; n = next) {
		next = n->next;
		if (n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST "parent") == 0) {
			xmlUnlinkNode(n);
			xmlFreeNode(n);
		}
	}
	xmlDocDumpMemory(doc, &buf, &len);
	out = g_strndup((const char *)buf, (gsize)len);
	xmlFree(buf);
	return out;
}

gboolean backup_checkpoint_save(const char *vm_dir, const char *name, const char *xml,
				GError **error)
{
	g_autofree char *dir = ics_backup_checkpoint_dir(vm_dir);
	g_autofree char *file = record_name(name, "");
	g_autofree char *broken = record_name(name, ".broken");
	g_autofree char *broken_path = NULL;
	g_autofree char *text = without_parent(xml, error);

	if (text == NULL)
		return FALSE;
	/* not its parent: a VM deleted meanwhile gets no directory again */
	if (g_mkdir(dir, 0755) < 0 && errno != EEXIST) {
		ics_error_set_errno(error, errno, "cannot create %s", dir);
		return FALSE;
	}
	if (!ics_file_write_atomic(dir, file, text, error))
		return FALSE;
	broken_path = g_build_filename(dir, broken, NULL);
	g_unlink(broken_path);
	return TRUE;
}

void backup_checkpoint_mark_broken(const char *vm_dir, const char *name, const char *why)
{
	g_autofree char *dir = ics_backup_checkpoint_dir(vm_dir);
	g_autofree char *b = record_name(name, ".broken");
	g_autofree char *f = record_name(name, "");
	g_autofree char *p = g_build_filename(dir, f, NULL);
	g_autofree char *text = g_strdup_printf("%s\n", why);

	ics_file_write_atomic(dir, b, text, NULL);
	g_unlink(p);
}

void backup_checkpoint_forget(const char *vm_dir, const char *name)
{
	g_autofree char *dir = ics_backup_checkpoint_dir(vm_dir);

	for (int i = 0; i < 2; i++) {
		g_autofree char *f = record_name(name, i ? ".broken" : "");
		g_autofree char *p = g_build_filename(dir, f, NULL);

		g_unlink(p);
	}
}

char *backup_checkpoint_state(const char *vm_dir, const char *name, gboolean *recorded)
{
	g_autofree char *dir = ics_backup_checkpoint_dir(vm_dir);
	g_autofree char *f = record_name(name, "");
	g_autofree char *b = record_name(name, ".broken");
	g_autofree char *p = g_build_filename(dir, f, NULL);
	g_autofree char *pb = g_build_filename(dir, b, NULL);
	char *reason = NULL;

	*recorded = g_file_test(p, G_FILE_TEST_EXISTS);
	if (g_file_get_contents(pb, &reason, NULL, NULL))
		g_strstrip(reason);
	return reason;
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *backup_checkpoint_records(const char *vm_dir)
{
	g_autofree char *dir = ics_backup_checkpoint_dir(vm_dir);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	const char *f;

	if (d != NULL)
		while ((f = g_dir_read_name(d)) != NULL) {
			if (f[0] == '.')
				continue;
			if (g_str_has_suffix(f, ".xml"))
				g_ptr_array_add(names, g_strndup(f, strlen(f) - 4));
			else if (g_str_has_suffix(f, ".xml.broken"))
				g_ptr_array_add(names, g_strndup(f, strlen(f) - 11));
		}
	g_ptr_array_sort(names, compare_names);
	/* a name both recorded and marked: once */
	for (guint i = 1; i < names->len;)
		if (strcmp(g_ptr_array_index(names, i), g_ptr_array_index(names, i - 1)) == 0)
			g_ptr_array_remove_index(names, i);
		else
			i++;
	return names;
}

void backup_checkpoint_undefine(virDomainCheckpointPtr cp, const char *name, GString *report)
{
	if (virDomainCheckpointDelete(cp, 0) == 0)
		return;
	if (report)
		g_string_append_printf(report, "checkpoint %s: its bitmap stays in the image: %s\n",
				       name, virGetLastErrorMessage());
	/* never left defined: a backup would trust it */
	if (virDomainCheckpointDelete(cp, VIR_DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY) < 0 && report)
		g_string_append_printf(report, "checkpoint %s: stays defined: %s\n", name,
				       virGetLastErrorMessage());
}

guint ics_backup_checkpoints_redefine(virDomainPtr dom, const char *vm_dir, GString *report)
{
	g_autoptr(GPtrArray) names = backup_checkpoint_records(vm_dir);
	g_autofree char *dir = ics_backup_checkpoint_dir(vm_dir);
	guint ok = 0;

	for (guint i = 0; i < names->len; i++) {
		const char *name = g_ptr_array_index(names, i);
		g_autofree char *f = record_name(name, "");
		g_autofree char *p = g_build_filename(dir, f, NULL);
		g_autofree char *xml = NULL;
		g_autoptr(GError) err = NULL;
		virDomainCheckpointPtr cp;

		cp = virDomainCheckpointLookupByName(dom, name, 0);
		if (cp != NULL) {
			virDomainCheckpointFree(cp);
			ok++;
			continue;
		}
		if (!g_file_test(p, G_FILE_TEST_EXISTS))
			continue; /* marked broken only */
		if (!g_file_get_contents(p, &xml, NULL, &err)) {
			if (report)
				g_string_append_printf(report, "checkpoint %s: %s\n", name,
						       err->message);
			continue;
		}
		cp = virDomainCheckpointCreateXML(dom, xml,
						  VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE |
							  VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE_VALIDATE);
		if (cp != NULL) {
			virDomainCheckpointFree(cp);
			ok++;
			continue;
		}
		{
			g_autofree char *why = g_strdup(virGetLastErrorMessage());

			if (report)
				g_string_append_printf(report, "checkpoint %s not redefined: %s\n",
						       name, why ? why : "refused");
			/* its bitmap, kept by QEMU but no longer tracking, would
			 * stay in the image for ever: defined without the check
			 * only to be deleted, bitmap and all */
			cp = virDomainCheckpointCreateXML(dom, xml,
							  VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE);
			if (cp != NULL) {
				backup_checkpoint_undefine(cp, name, report);
				virDomainCheckpointFree(cp);
			}
			backup_checkpoint_mark_broken(vm_dir, name, why ? why : "refused");
		}
	}
	return ok;
}

gboolean ics_backup_abort_job(virDomainPtr dom, gboolean *aborted, GError **error)
{
	virTypedParameterPtr params = NULL;
	int nparams = 0, type = VIR_DOMAIN_JOB_NONE, op = 0;

	*aborted = FALSE;
	if (virDomainGetJobStats(dom, &type, &params, &nparams, 0) < 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "cannot read the domain's job: %s", virGetLastErrorMessage());
		return FALSE;
	}
	virTypedParamsGetInt(params, nparams, VIR_DOMAIN_JOB_OPERATION, &op);
	virTypedParamsFree(params, nparams);
	if (type == VIR_DOMAIN_JOB_NONE || op != VIR_DOMAIN_JOB_OPERATION_BACKUP)
		return TRUE;
	if (virDomainAbortJob(dom) < 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "cannot abort the backup job: %s",
			    virGetLastErrorMessage());
		return FALSE;
	}
	*aborted = TRUE;
	for (int i = 0; i < 100; i++) {
		virDomainJobInfo info;

		if (virDomainGetJobInfo(dom, &info) < 0 || info.type == VIR_DOMAIN_JOB_NONE)
			return TRUE;
		g_usleep(100 * 1000);
	}
	g_set_error(error, ICS_ERROR, ICS_ERROR_TIMEOUT,
		    "the aborted backup job still runs after 10 s");
	return FALSE;
}
