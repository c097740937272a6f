/*
 * ics-backup: a backup repository without the manager -- init, list, show,
 * verify, restore, prune by a retention, and run a backup of a VM on this
 * node.  A thin main over
 * libicsbackup: a machine that has only the repository (and qemu-img) can
 * list, verify and restore.  Exit codes: 0 ok, 1 error (a damaged backup
 * included), 2 usage or bad input, 3 busy or conflict (another backup of
 * the VM runs, a restore target exists).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "ics/backup.h"
#include "ics/error.h"
#include "ics/json.h"

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2, EXIT_BUSY = 3 };

static gboolean opt_json, opt_full, opt_stopped, opt_no_verify, opt_no_quiesce, opt_progress;
static gboolean opt_dry_run;
static gint opt_keep_last = -1, opt_keep_daily = -1, opt_keep_weekly = -1, opt_keep_monthly = -1;
static char *opt_vm, *opt_pool, *opt_disk, *opt_to, *opt_format, *opt_connect;

static GOptionEntry entries[] = {
	{ "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON", NULL },
	{ "vm", 0, 0, G_OPTION_ARG_STRING, &opt_vm, "The VM's uuid (list, run)", "UUID" },
	{ "pool", 0, 0, G_OPTION_ARG_STRING, &opt_pool, "The VM's pool path (run)", "PATH" },
	{ "connect", 'c', 0, G_OPTION_ARG_STRING, &opt_connect,
	  "libvirt URI (run; default qemu:///system)", "URI" },
	{ "full", 0, 0, G_OPTION_ARG_NONE, &opt_full, "A full backup even when an incremental is possible (run)", NULL },
	{ "stopped", 0, 0, G_OPTION_ARG_NONE, &opt_stopped,
	  "The VM is stopped and stays so: back up its disks (run)", NULL },
	{ "no-quiesce", 0, 0, G_OPTION_ARG_NONE, &opt_no_quiesce,
	  "Do not freeze the guest's file systems through its agent (run)", NULL },
	{ "progress", 0, 0, G_OPTION_ARG_NONE, &opt_progress, "Progress lines on stderr", NULL },
	{ "disk", 0, 0, G_OPTION_ARG_STRING, &opt_disk, "The disk to restore (vda, ...)", "TARGET" },
	{ "to", 0, 0, G_OPTION_ARG_STRING, &opt_to, "Restore into this new file", "PATH" },
	{ "format", 0, 0, G_OPTION_ARG_STRING, &opt_format, "Restored disk format: qcow2 (default) or raw", "FMT" },
	{ "no-verify", 0, 0, G_OPTION_ARG_NONE, &opt_no_verify, "Restore without verifying the chain first", NULL },
	{ "keep-last", 0, 0, G_OPTION_ARG_INT, &opt_keep_last, "Keep the newest N backups (prune)", "N" },
	{ "keep-daily", 0, 0, G_OPTION_ARG_INT, &opt_keep_daily, "Keep the newest backup of each of the last N days (prune)", "N" },
	{ "keep-weekly", 0, 0, G_OPTION_ARG_INT, &opt_keep_weekly, "... of each of the last N ISO weeks (prune)", "N" },
	{ "keep-monthly", 0, 0, G_OPTION_ARG_INT, &opt_keep_monthly, "... of each of the last N months (prune)", "N" },
	{ "dry-run", 'n', 0, G_OPTION_ARG_NONE, &opt_dry_run, "Say what would be pruned, prune nothing (prune)", NULL },
	{ NULL },
};

static int usage(const char *msg)
{
	fprintf(stderr, "ics-backup: %s (see ics-backup --help or ics-backup(8))\n", msg);
	return EXIT_USAGE;
}

static int fail(const GError *err)
{
	fprintf(stderr, "ics-backup: %s\n", err->message);
	if (err->domain == ICS_ERROR &&
	    (err->code == ICS_ERROR_BUSY || err->code == ICS_ERROR_CONFLICT))
		return EXIT_BUSY;
	if (err->domain == ICS_ERROR && err->code == ICS_ERROR_INVALID_ARGUMENT)
		return EXIT_USAGE;
	return EXIT_ERROR;
}

static void print_json(json_t *j)
{
	g_autofree char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	printf("%s\n", s);
}

static void on_progress(const IcsBackupProgress *p, gpointer data)
{
	(void)data;
	if (!opt_progress)
		return;
	fprintf(stderr, "%s: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " MiB (%u %%)\n",
		p->phase, p->done >> 20, p->total >> 20,
		p->total ? (guint)(p->done * 100 / p->total) : 0);
}

/* An absolute path from one given on the command line. */
static char *absolute(const char *path)
{
	g_autofree char *cwd = NULL;

	if (g_path_is_absolute(path))
		return g_canonicalize_filename(path, NULL);
	cwd = g_get_current_dir();
	return g_canonicalize_filename(path, cwd);
}

static IcsBackupRepo *open_repo(const char *arg, GError **error)
{
	g_autofree char *path = absolute(arg);

	return ics_backup_repo_open(path, error);
}

/* The repository of args[0] and its backup args[1]; an exit code when not. */
static int open_backup(char **args, IcsBackupRepo **repo, IcsBackupManifest **m)
{
	g_autoptr(GError) err = NULL;

	*repo = open_repo(args[0], &err);
	if (*repo == NULL)
		return fail(err);
	*m = ics_backup_repo_find(*repo, args[1], &err);
	if (*m == NULL)
		return fail(err);
	return EXIT_OK;
}

static json_t *summary_json(const IcsBackupManifest *m)
{
	guint64 size = 0;

	for (guint i = 0; i < m->disks->len; i++)
		size += ((const IcsBackupDisk *)g_ptr_array_index(m->disks, i))->virtual_size;
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s, s:I, s:I, s:I}", "id", m->id,
			 "vm_uuid", m->vm_uuid, "vm_name", m->vm_name, "created", m->created,
			 "kind", m->incremental ? "incremental" : "full", "parent", m->parent,
			 "full_reason", m->full_reason, "consistency", m->consistency,
			 "disks", (json_int_t)m->disks->len, "disk_bytes", (json_int_t)size,
			 "bytes_written", (json_int_t)m->bytes_written);
}

static int cmd_init(char **args, int n)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsBackupRepo) repo = NULL;
	g_autofree char *path = NULL;

	if (n != 1)
		return usage("usage: init REPO");
	path = absolute(args[0]);
	repo = ics_backup_repo_init(path, &err);
	if (repo == NULL)
		return fail(err);
	if (opt_json) {
		g_autoptr(json_t) j = json_pack("{s:s, s:s}", "path", ics_backup_repo_path(repo),
						"id", ics_backup_repo_id(repo));

		print_json(j);
	} else
		printf("repository %s at %s\n", ics_backup_repo_id(repo), ics_backup_repo_path(repo));
	return EXIT_OK;
}

static int cmd_list(char **args, int n)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsBackupRepo) repo = NULL;
	g_autoptr(GPtrArray) list = NULL;
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);

	if (n != 1)
		return usage("usage: list REPO [--vm UUID] [--json]");
	repo = open_repo(args[0], &err);
	if (repo == NULL)
		return fail(err);
	list = ics_backup_repo_list(repo, opt_vm, problems, &err);
	if (list == NULL)
		return fail(err);
	if (opt_json) {
		g_autoptr(json_t) arr = json_array();
		g_autoptr(json_t) probs = json_array();
		g_autoptr(json_t) out = NULL;

		for (guint i = 0; i < list->len; i++)
			json_array_append_new(arr, summary_json(g_ptr_array_index(list, i)));
		for (guint i = 0; i < problems->len; i++)
			json_array_append_new(probs, json_string(g_ptr_array_index(problems, i)));
		out = json_pack("{s:O, s:O}", "backups", arr, "problems", probs);
		print_json(out);
	} else {
		printf("%-24s %-20s %-11s %-17s %10s  %s\n", "ID", "VM", "KIND", "CONSISTENCY",
		       "WRITTEN", "CREATED");
		for (guint i = 0; i < list->len; i++) {
			const IcsBackupManifest *m = g_ptr_array_index(list, i);
			g_autofree char *w = g_format_size(m->bytes_written);

			printf("%-24s %-20s %-11s %-17s %10s  %s\n", m->id, m->vm_name,
			       m->incremental ? "incremental" : "full", m->consistency, w,
			       m->created);
		}
		for (guint i = 0; i < problems->len; i++)
			fprintf(stderr, "ics-backup: not listed: %s\n",
				(char *)g_ptr_array_index(problems, i));
	}
	return EXIT_OK;
}

static int cmd_show(char **args, int n)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsBackupRepo) repo = NULL;
	g_autoptr(IcsBackupManifest) m = NULL;
	g_autoptr(GPtrArray) chain = NULL;

	int rc;

	if (n != 2)
		return usage("usage: show REPO ID [--json]");
	if ((rc = open_backup(args, &repo, &m)) != EXIT_OK)
		return rc;
	chain = ics_backup_chain(repo, m, &err);
	if (chain == NULL)
		return fail(err);
	if (opt_json) {
		g_autoptr(json_t) j = ics_backup_manifest_to_json(m);
		json_t *ids = json_array();

		for (guint i = 0; i < chain->len; i++)
			json_array_append_new(
				ids, json_string(((IcsBackupManifest *)g_ptr_array_index(chain, i))->id));
		json_object_set_new(j, "chain", ids);
		print_json(j);
		return EXIT_OK;
	}
	printf("backup       %s\nvm           %s (%s)\nkind         %s%s%s\n", m->id, m->vm_name,
	       m->vm_uuid, m->incremental ? "incremental from " : "full",
	       m->incremental ? m->parent : "", "");
	if (m->full_reason)
		printf("why full     %s\n", m->full_reason);
	printf("consistency  %s\ncreated      %s\ncompleted    %s\nchain        %u backup%s\n",
	       m->consistency, m->created, m->completed ? m->completed : "-", chain->len,
	       chain->len == 1 ? "" : "s");
	printf("checkpoint   %s\nics version  %s\n", m->checkpoint ? m->checkpoint : "-",
	       m->ics_version);
	for (guint i = 0; i < m->disks->len; i++) {
		const IcsBackupDisk *d = g_ptr_array_index(m->disks, i);
		g_autofree char *vs = g_format_size(d->virtual_size);
		g_autofree char *fs = g_format_size(d->file_size);

		printf("disk %-7s %s (%s), %s in this backup, sha256 %s\n", d->target,
		       d->source ? d->source : "-", vs, fs, d->sha256);
	}
	return EXIT_OK;
}

static int cmd_verify(char **args, int n)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsBackupRepo) repo = NULL;
	g_autoptr(GPtrArray) list = NULL;
	int bad = 0;

	if (n < 1)
		return usage("usage: verify REPO [ID...]");
	repo = open_repo(args[0], &err);
	if (repo == NULL)
		return fail(err);
	if (n == 1) {
		list = ics_backup_repo_list(repo, NULL, NULL, &err);
		if (list == NULL)
			return fail(err);
	} else {
		list = g_ptr_array_new_with_free_func((GDestroyNotify)ics_backup_manifest_free);
		for (int i = 1; i < n; i++) {
			IcsBackupManifest *m = ics_backup_repo_find(repo, args[i], &err);

			if (m == NULL)
				return fail(err);
			g_ptr_array_add(list, m);
		}
	}
	for (guint i = 0; i < list->len; i++) {
		const IcsBackupManifest *m = g_ptr_array_index(list, i);
		g_autoptr(GError) verr = NULL;

		if (ics_backup_verify(repo, m, on_progress, NULL, &verr)) {
			printf("%s: ok\n", m->id);
		} else {
			printf("%s: DAMAGED: %s\n", m->id, verr->message);
			bad++;
		}
	}
	return bad ? EXIT_ERROR : EXIT_OK;
}

static int cmd_restore(char **args, int n)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsBackupRepo) repo = NULL;
	g_autoptr(IcsBackupManifest) m = NULL;
	g_autofree char *to = NULL;
	int rc;

	if (n != 2 || opt_to == NULL)
		return usage("usage: restore REPO ID --to PATH [--disk TARGET] [--format qcow2|raw] "
			     "[--no-verify]");
	if ((rc = open_backup(args, &repo, &m)) != EXIT_OK)
		return rc;
	if (opt_disk == NULL && m->disks->len != 1)
		return usage("the backup has several disks: name one with --disk");
	to = absolute(opt_to);
	if (!ics_backup_restore_disk(repo, m,
				     opt_disk ? opt_disk
					      : ((IcsBackupDisk *)g_ptr_array_index(m->disks, 0))->target,
				     to, opt_format ? opt_format : "qcow2", opt_no_verify, &err))
		return fail(err);
	printf("restored disk %s of backup %s (vm %s) to %s\n",
	       opt_disk ? opt_disk : ((IcsBackupDisk *)g_ptr_array_index(m->disks, 0))->target,
	       m->id, m->vm_name, to);
	return EXIT_OK;
}

static void quiet_error(void *data, virErrorPtr e)
{
	(void)data;
	(void)e;
}

static int cmd_prune(char **args, int n)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsBackupRepo) repo = NULL;
	g_autoptr(json_t) out = NULL;
	IcsBackupRetention r = { 0 };
	const gint given[] = { opt_keep_last, opt_keep_daily, opt_keep_weekly, opt_keep_monthly };
	guint *fields[] = { &r.last, &r.daily, &r.weekly, &r.monthly };
	json_t *vm;
	size_t i;
	int rc = EXIT_OK;

	if (n != 1)
		return usage("usage: prune REPO [--keep-last N] [--keep-daily N] [--keep-weekly N] "
			     "[--keep-monthly N] [--vm UUID] [--dry-run] [--json]");
	for (guint k = 0; k < G_N_ELEMENTS(given); k++) {
		if (given[k] < -1 || given[k] > 100000)
			return usage("a --keep-* count is from 0 to 100000");
		*fields[k] = given[k] < 0 ? 0 : (guint)given[k];
	}
	if (!ics_backup_retention_check(&r, &err))
		return fail(err);
	repo = open_repo(args[0], &err);
	if (repo == NULL)
		return fail(err);
	out = ics_backup_prune(repo, opt_vm, &r, NULL, opt_dry_run, &err);
	if (out == NULL)
		return fail(err);
	json_array_foreach(json_object_get(out, "vms"), i, vm)
		if (json_object_get(vm, "error"))
			rc = EXIT_ERROR;
	if (opt_json) {
		print_json(out);
		return rc;
	}
	json_array_foreach(json_object_get(out, "vms"), i, vm)
	{
		json_t *b;
		size_t k;

		printf("vm %s (%s): %zu kept, %zu %s\n",
		       json_string_value(json_object_get(vm, "vm_name"))
			       ?: "?",
		       json_string_value(json_object_get(vm, "vm_uuid")),
		       json_array_size(json_object_get(vm, "kept")),
		       json_array_size(json_object_get(vm, "pruned")),
		       opt_dry_run ? "would be pruned" : "pruned");
		json_array_foreach(json_object_get(vm, "kept"), k, b)
			printf("  keep  %s  %s\n", json_string_value(json_object_get(b, "id")),
			       json_string_value(json_object_get(b, "why")));
		json_array_foreach(json_object_get(vm, "pruned"), k, b)
			printf("  prune %s\n", json_string_value(b));
		if (json_object_get(vm, "error"))
			fprintf(stderr, "ics-backup: vm %s: %s\n",
				json_string_value(json_object_get(vm, "vm_uuid")),
				json_string_value(json_object_get(vm, "error")));
	}
	return rc;
}

static int cmd_run(char **args, int n)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsBackupRepo) repo = NULL;
	g_autoptr(IcsVmMeta) vm = NULL;
	g_autoptr(IcsBackupManifest) m = NULL;
	g_autofree char *pool = NULL;
	IcsBackupRunOptions opts = { .progress = on_progress };
	virConnectPtr conn = NULL;
	virDomainPtr dom = NULL;

	if (n != 1 || opt_vm == NULL || opt_pool == NULL)
		return usage("usage: run REPO --vm UUID --pool PATH [--full] [--stopped] "
			     "[--connect URI] [--json]");
	repo = open_repo(args[0], &err);
	if (repo == NULL)
		return fail(err);
	pool = absolute(opt_pool);
	vm = ics_vm_store_load(pool, opt_vm, &err);
	if (vm == NULL)
		return fail(err);
	opts.pool_path = pool;
	opts.force_full = opt_full;
	opts.no_quiesce = opt_no_quiesce;
	if (!opt_stopped) {
		virSetErrorFunc(NULL, quiet_error);
		conn = virConnectOpen(opt_connect ? opt_connect : "qemu:///system");
		if (conn == NULL) {
			fprintf(stderr, "ics-backup: cannot connect to libvirtd: %s\n",
				virGetLastErrorMessage());
			return EXIT_ERROR;
		}
		dom = virDomainLookupByUUIDString(conn, vm->uuid);
		if (dom == NULL || virDomainIsActive(dom) != 1) {
			if (dom)
				virDomainFree(dom);
			virConnectClose(conn);
			fprintf(stderr,
				"ics-backup: vm %s does not run on this node; --stopped backs it "
				"up while it is stopped (holding its lease)\n",
				vm->name);
			return EXIT_USAGE;
		}
		m = ics_backup_run_live(repo, dom, vm, &opts, &err);
		virDomainFree(dom);
		virConnectClose(conn);
	} else
		m = ics_backup_run_stopped(repo, vm, &opts, &err);
	if (m == NULL)
		return fail(err);
	if (opt_json) {
		g_autoptr(json_t) j = summary_json(m);

		print_json(j);
	} else
		printf("backup %s of vm %s: %s%s%s%s, %" G_GUINT64_FORMAT " bytes written\n", m->id,
		       vm->name, m->incremental ? "incremental from " : "full",
		       m->incremental ? m->parent : " (", m->incremental ? "" : m->full_reason,
		       m->incremental ? "" : ")", m->bytes_written);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("COMMAND REPO [ARGS...]");
	g_autoptr(GError) err = NULL;
	const char *c;
	char **args;
	int n;

	g_option_context_set_summary(
		ctx, "Commands:\n"
		     "  init REPO\n"
		     "  list REPO [--vm UUID] [--json]\n"
		     "  show REPO ID [--json]\n"
		     "  verify REPO [ID...]\n"
		     "  restore REPO ID --to PATH [--disk TARGET] [--format qcow2|raw] [--no-verify]\n"
		     "  prune REPO [--keep-last N] [--keep-daily N] [--keep-weekly N] [--keep-monthly N]\n"
		     "        [--vm UUID] [--dry-run] [--json]\n"
		     "  run REPO --vm UUID --pool PATH [--full] [--stopped] [--connect URI] [--json]");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &err))
		return usage(err->message);
	if (argc < 2)
		return usage("missing command");
	c = argv[1];
	args = argv + 2;
	n = argc - 2;
	if (strcmp(c, "init") == 0)
		return cmd_init(args, n);
	if (strcmp(c, "list") == 0)
		return cmd_list(args, n);
	if (strcmp(c, "show") == 0)
		return cmd_show(args, n);
	if (strcmp(c, "verify") == 0)
		return cmd_verify(args, n);
	if (strcmp(c, "restore") == 0)
		return cmd_restore(args, n);
	if (strcmp(c, "run") == 0)
		return cmd_run(args, n);
	if (strcmp(c, "prune") == 0)
		return cmd_prune(args, n);
	return usage("unknown command");
}
