/*
 * backup_cmd.c: `ics-admin backup ...` -- backup repositories and VM
 * backups through ics-managerd (/api/v1/backup-repositories,
 * /api/v1/vms/{uuid}/backups).
 *
 * The manager checks everything (host paths, names, who may do what);
 * this file maps argv to requests and prints the answers.  A backup is a
 * task, followed like the power operations (progress, --no-wait,
 * --timeout); its result says whether it was incremental, and when not,
 * why.  `ics-backup` works on a repository without the manager.
 * `backup policy` manages scheduled backups (/api/v1/backup-policies);
 * `backup system` lists and takes the manager's own backups
 * (/api/v1/system/backups).
 */
#include "config.h"

#include "api_cmd.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"

/* What a listing could not read (a repository, a manifest): on stderr. */
static void print_problems(const json_t *answer)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(answer, "problems"), i, v)
		fprintf(stderr, "ics-admin: %s\n", json_string_value(v));
}

static char *repos_path(const char *name)
{
	g_autofree char *n = name ? g_uri_escape_string(name, NULL, FALSE) : NULL;

	return g_strconcat("/api/v1/backup-repositories", n ? "/" : "", n ? n : "", NULL);
}

static int cmd_repo_list(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) all = NULL;
	g_autoptr(GPtrArray) t = NULL;
	json_t *v;
	size_t i;

	if (!ics_admin_parse(&argc, &argv, &c, "", "List the backup repositories.", NULL, 0, 0,
			     &error) ||
	    (rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (all = ics_rest_call(rest, "GET", "/api/v1/backup-repositories", NULL, NULL,
				 &error)) == NULL)
		return ics_admin_finish(error);
	if (c.json) {
		ics_admin_print_json(all);
		return ICS_ADMIN_EXIT_OK;
	}
	t = ics_admin_table_new("NAME", "PATH", "CREATED", "BY", NULL);
	json_array_foreach(all, i, v)
		ics_admin_table_add(t, ics_admin_str(v, "name", "?"), ics_admin_str(v, "path", "?"),
				    ics_admin_str(v, "created", "-"),
				    ics_admin_str(v, "created_by", "-"), NULL);
	ics_admin_table_print(t);
	return ICS_ADMIN_EXIT_OK;
}

static int cmd_repo_add(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) body = NULL, r = NULL;

	if (!ics_admin_parse(&argc, &argv, &c, "NAME PATH",
			     "Register a directory (on a pool, or mounted at the same path on every "
			     "host) as a backup repository.",
			     NULL, 2, 2, &error))
		return ics_admin_finish(error);
	body = json_pack("{s:s, s:s}", "name", argv[1], "path", argv[2]);
	if ((rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (r = ics_rest_call(rest, "POST", "/api/v1/backup-repositories", NULL, body,
			       &error)) == NULL)
		return ics_admin_finish(error);
	if (c.json)
		ics_admin_print_json(r);
	else
		printf("repository %s at %s\n", ics_admin_str(r, "name", "?"),
		       ics_admin_str(r, "path", "?"));
	return ICS_ADMIN_EXIT_OK;
}

static int cmd_repo_remove(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) r = NULL;
	g_autofree char *path = NULL;

	if (!ics_admin_parse(&argc, &argv, &c, "NAME",
			     "Unregister a backup repository (its backups stay on disk).", NULL, 1,
			     1, &error) ||
	    (rest = ics_admin_connect(&c, TRUE, &error)) == NULL)
		return ics_admin_finish(error);
	path = repos_path(argv[1]);
	r = ics_rest_call(rest, "DELETE", path, NULL, NULL, &error);
	return ics_admin_finish(error);
}

static int cmd_repo(int argc, char **argv)
{
	static const IcsAdminCommand cmds[] = {
		{ "list", cmd_repo_list },
		{ "add", cmd_repo_add },
		{ "remove", cmd_repo_remove },
		{ NULL, NULL },
	};

	return ics_admin_dispatch("backup repo", cmds,
				  "  list\n"
				  "  add NAME PATH\n"
				  "  remove NAME\n",
				  argc, argv);
}

static char *vm_backups_path(IcsRest *rest, const char *ref, GError **error)
{
	g_autofree char *uuid = ics_admin_vm_uuid(rest, ref, error);

	return uuid ? g_strconcat("/api/v1/vms/", uuid, "/backups", NULL) : NULL;
}

static int cmd_list(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) all = NULL;
	g_autoptr(GPtrArray) t = NULL;
	g_autofree char *path = NULL;
	json_t *v;
	size_t i;

	if (!ics_admin_parse(&argc, &argv, &c, "VM",
			     "List a VM's backups in every repository, oldest first.", NULL, 1, 1,
			     &error) ||
	    (rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (path = vm_backups_path(rest, argv[1], &error)) == NULL ||
	    (all = ics_rest_call(rest, "GET", path, NULL, NULL, &error)) == NULL)
		return ics_admin_finish(error);
	if (c.json) {
		ics_admin_print_json(all);
		return ICS_ADMIN_EXIT_OK;
	}
	t = ics_admin_table_new("REPOSITORY", "ID", "KIND", "CONSISTENCY", "WRITTEN", "CREATED",
				NULL);
	json_array_foreach(json_object_get(all, "backups"), i, v)
	{
		g_autofree char *w = g_format_size(
			(guint64)json_integer_value(json_object_get(v, "bytes_written")));

		ics_admin_table_add(t, ics_admin_str(v, "repository", "?"),
				    ics_admin_str(v, "id", "?"), ics_admin_str(v, "kind", "?"),
				    ics_admin_str(v, "consistency", "-"), w,
				    ics_admin_str(v, "created", "-"), NULL);
	}
	ics_admin_table_print(t);
	print_problems(all);
	return ICS_ADMIN_EXIT_OK;
}

static int cmd_run(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) body = NULL, task = NULL;
	g_autofree char *repo = NULL, *path = NULL;
	gboolean full = FALSE, no_wait = FALSE;
	gint timeout = 3600;
	GOptionEntry extra[] = {
		{ "repository", 'r', 0, G_OPTION_ARG_STRING, &repo, "The repository (required)",
		  "NAME" },
		{ "full", 0, 0, G_OPTION_ARG_NONE, &full,
		  "A full backup even when an incremental is possible", NULL },
		{ "no-wait", 0, 0, G_OPTION_ARG_NONE, &no_wait, "Print the task id and return",
		  NULL },
		{ "timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
		  "Seconds to wait for the task (3600)", "S" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(&argc, &argv, &c, "VM",
			     "Back up a VM (incremental when changed-block tracking allows; a "
			     "task).",
			     extra, 1, 1, &error))
		return ics_admin_finish(error);
	if (repo == NULL) {
		ics_error_invalid(&error, "backup run: --repository is required");
		return ics_admin_finish(error);
	}
	if (timeout <= 0) {
		ics_error_invalid(&error, "backup run: --timeout must be positive");
		return ics_admin_finish(error);
	}
	body = json_pack("{s:s, s:b}", "repository", repo, "full", full);
	if ((rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (path = vm_backups_path(rest, argv[1], &error)) == NULL ||
	    (task = ics_rest_call(rest, "POST", path, NULL, body, &error)) == NULL)
		return ics_admin_finish(error);
	if (no_wait || c.json)
		return ics_admin_task_follow(rest, task, no_wait, c.json, (guint)timeout);
	{
		g_autoptr(json_t) done = NULL, last = NULL;
		json_t *res;
		g_autofree char *w = NULL;

		done = ics_admin_task_wait(rest, json_integer_value(json_object_get(task, "id")),
					   (guint)timeout, &last, &error);
		if (done == NULL)
			return ics_admin_finish(error);
		res = json_object_get(done, "result");
		w = g_format_size((guint64)json_integer_value(json_object_get(res, "bytes_written")));
		if (g_strcmp0(ics_admin_str(res, "kind", ""), "incremental") == 0)
			printf("backup %s: incremental from %s, %s written\n",
			       ics_admin_str(res, "id", "?"), ics_admin_str(res, "parent", "?"), w);
		else
			printf("backup %s: full (%s), %s written\n", ics_admin_str(res, "id", "?"),
			       ics_admin_str(res, "full_reason", "?"), w);
	}
	return ICS_ADMIN_EXIT_OK;
}

static int cmd_restore(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) body = NULL, task = NULL;
	g_autofree char *repo = NULL, *to = NULL, *name = NULL, *pool = NULL, *base = NULL,
			*path = NULL;
	g_auto(GStrv) disks = NULL;
	gboolean no_wait = FALSE;
	gint timeout = 3600;
	GOptionEntry extra[] = {
		{ "repository", 'r', 0, G_OPTION_ARG_STRING, &repo, "The repository (required)",
		  "NAME" },
		{ "to", 0, 0, G_OPTION_ARG_STRING, &to,
		  "new-vm (default), in-place (the VM stopped) or volume", "KIND" },
		{ "name", 0, 0, G_OPTION_ARG_STRING, &name, "The new VM's or volume's name",
		  "NAME" },
		{ "pool", 0, 0, G_OPTION_ARG_STRING, &pool,
		  "The pool to restore to (default: the VM's)", "POOL" },
		{ "disk", 0, 0, G_OPTION_ARG_STRING_ARRAY, &disks,
		  "A disk to restore (repeatable; default all; one to a volume)", "TARGET" },
		{ "no-wait", 0, 0, G_OPTION_ARG_NONE, &no_wait, "Print the task id and return",
		  NULL },
		{ "timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
		  "Seconds to wait for the task (3600)", "S" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(&argc, &argv, &c, "VM BACKUP",
			     "Restore a backup to a new VM, over the stopped VM's disks, or one "
			     "disk to a volume (a task).  A deleted VM is named by its uuid.",
			     extra, 2, 2, &error))
		return ics_admin_finish(error);
	if (repo == NULL) {
		ics_error_invalid(&error, "backup restore: --repository is required");
		return ics_admin_finish(error);
	}
	if (timeout <= 0) {
		ics_error_invalid(&error, "backup restore: --timeout must be positive");
		return ics_admin_finish(error);
	}
	body = json_pack("{s:s}", "repository", repo);
	if (to)
		json_object_set_new(body, "to", json_string(to));
	if (name)
		json_object_set_new(body, "name", json_string(name));
	if (pool)
		json_object_set_new(body, "pool", json_string(pool));
	if (disks) {
		json_t *a = json_array();

		for (guint i = 0; disks[i]; i++)
			json_array_append_new(a, json_string(disks[i]));
		json_object_set_new(body, "disks", a);
	}
	if ((rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (base = vm_backups_path(rest, argv[1], &error)) == NULL)
		return ics_admin_finish(error);
	path = g_strdup_printf("%s/%s/restore", base, argv[2]);
	if ((task = ics_rest_call(rest, "POST", path, NULL, body, &error)) == NULL)
		return ics_admin_finish(error);
	if (no_wait || c.json)
		return ics_admin_task_follow(rest, task, no_wait, c.json, (guint)timeout);
	{
		g_autoptr(json_t) done = NULL, last = NULL;
		json_t *res, *vm, *vol;
		g_autofree char *which = NULL;

		done = ics_admin_task_wait(rest, json_integer_value(json_object_get(task, "id")),
					   (guint)timeout, &last, &error);
		if (done == NULL)
			return ics_admin_finish(error);
		res = json_object_get(done, "result");
		which = ics_admin_join(json_object_get(res, "disks"));
		vm = json_object_get(res, "vm");
		vol = json_object_get(res, "volume");
		if (vol)
			printf("restored disk %s of backup %s to volume %s on pool %s\n", which,
			       ics_admin_str(res, "backup", "?"), ics_admin_str(vol, "name", "?"),
			       ics_admin_str(vol, "pool", "?"));
		else
			printf("restored %s of backup %s %s VM %s (%s)\n", which,
			       ics_admin_str(res, "backup", "?"),
			       g_strcmp0(ics_admin_str(res, "to", ""), "in-place") == 0 ? "over"
											 : "to the new",
			       ics_admin_str(vm, "name", "?"), ics_admin_str(vm, "uuid", "?"));
		if (json_array_size(json_object_get(res, "not_restored"))) {
			g_autofree char *left = ics_admin_join(json_object_get(res, "not_restored"));

			printf("not restored: %s\n", left);
		}
	}
	return ICS_ADMIN_EXIT_OK;
}

/* ---- backup policies (/api/v1/backup-policies) --------------------------- */

static char *policy_path(const char *name, const char *suffix)
{
	g_autofree char *n = g_uri_escape_string(name, NULL, FALSE);

	return g_strconcat("/api/v1/backup-policies/", n, suffix, NULL);
}

static void print_policy(const json_t *p)
{
	json_t *v;
	size_t i;

	printf("name:           %s\n", ics_admin_str(p, "name", "?"));
	printf("schedule:       %s (UTC)\n", ics_admin_str(p, "schedule", "?"));
	printf("repository:     %s\n", ics_admin_str(p, "repository", "?"));
	if (json_is_true(json_object_get(p, "all_vms")))
		printf("vms:            all\n");
	json_array_foreach(json_object_get(p, "vms"), i, v)
		printf("%s%s\n", i ? "                " : "vms:            ", json_string_value(v));
	json_array_foreach(json_object_get(p, "pools"), i, v)
		printf("%s%s\n", i ? "                " : "pools:          ", json_string_value(v));
	json_array_foreach(json_object_get(p, "hosts"), i, v)
		printf("%s%s\n", i ? "                " : "hosts:          ", json_string_value(v));
	json_array_foreach(json_object_get(p, "tags"), i, v)
		printf("%s%s\n", i ? "                " : "tags:           ", json_string_value(v));
	printf("retention:      %s\n", ics_admin_str(p, "retention", "keep everything"));
	printf("max concurrent: %" JSON_INTEGER_FORMAT "\n",
	       json_integer_value(json_object_get(p, "max_concurrent")));
	printf("window:         %s\n", ics_admin_str(p, "window", "any time"));
	printf("enabled:        %s\n", json_is_true(json_object_get(p, "enabled")) ? "yes" : "no");
	printf("last run:       %s\n", ics_admin_str(p, "last_run", "-"));
	printf("next run:       %s\n", ics_admin_str(p, "next_run", "-"));
	printf("due:            %" JSON_INTEGER_FORMAT " VMs\n",
	       json_integer_value(json_object_get(p, "due")));
}

/* What a policy backs up, in a few words: "all", "3", "2, pools a,b, tags
 * prod". */
static char *policy_selection(const json_t *p)
{
	GString *out = g_string_new(NULL);
	size_t n = json_array_size(json_object_get(p, "vms"));

	if (json_is_true(json_object_get(p, "all_vms")))
		return g_string_free(g_string_append(out, "all"), FALSE);
	if (n)
		g_string_append_printf(out, "%zu", n);
	for (guint k = 0; k < 3; k++) {
		const char *field = (const char *[]){ "pools", "hosts", "tags" }[k];
		g_autofree char *names = NULL;

		if (json_array_size(json_object_get(p, field)) == 0)
			continue;
		names = ics_admin_join(json_object_get(p, field));
		g_string_append_printf(out, "%s%s %s", out->len ? ", " : "", field, names);
	}
	return g_string_free(out, FALSE);
}

static int cmd_policy_list(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) all = NULL;
	g_autoptr(GPtrArray) t = NULL;
	json_t *v;
	size_t i;

	if (!ics_admin_parse(&argc, &argv, &c, "", "List the backup policies.", NULL, 0, 0,
			     &error) ||
	    (rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (all = ics_rest_call(rest, "GET", "/api/v1/backup-policies", NULL, NULL, &error)) ==
		    NULL)
		return ics_admin_finish(error);
	if (c.json) {
		ics_admin_print_json(all);
		return ICS_ADMIN_EXIT_OK;
	}
	t = ics_admin_table_new("NAME", "SCHEDULE", "REPOSITORY", "VMS", "RETENTION", "ENABLED",
				"NEXT RUN", NULL);
	json_array_foreach(all, i, v)
	{
		g_autofree char *vms = policy_selection(v);

		ics_admin_table_add(t, ics_admin_str(v, "name", "?"), ics_admin_str(v, "schedule", "?"),
				    ics_admin_str(v, "repository", "?"), vms,
				    ics_admin_str(v, "retention", "-"),
				    json_is_true(json_object_get(v, "enabled")) ? "yes" : "no",
				    ics_admin_str(v, "next_run", "-"), NULL);
	}
	ics_admin_table_print(t);
	return ICS_ADMIN_EXIT_OK;
}

/* show NAME, delete NAME, run NAME, enable NAME, disable NAME: one request
 * on the policy, the policy printed when one comes back. */
static int policy_call(int argc, char **argv, const char *summary, const char *method,
		       const char *suffix, const char *body_text)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) body = body_text ? json_loads(body_text, 0, NULL) : NULL;
	g_autoptr(json_t) r = NULL;
	g_autofree char *path = NULL;

	if (!ics_admin_parse(&argc, &argv, &c, "NAME", summary, NULL, 1, 1, &error) ||
	    (rest = ics_admin_connect(&c, TRUE, &error)) == NULL)
		return ics_admin_finish(error);
	path = policy_path(argv[1], suffix);
	r = ics_rest_call(rest, method, path, NULL, body, &error);
	if (error)
		return ics_admin_finish(error);
	if (r && c.json)
		ics_admin_print_json(r);
	else if (r)
		print_policy(r);
	return ICS_ADMIN_EXIT_OK;
}

static int cmd_policy_show(int argc, char **argv)
{
	return policy_call(argc, argv, "Show a backup policy.", "GET", "", NULL);
}

static int cmd_policy_delete(int argc, char **argv)
{
	return policy_call(argc, argv, "Delete a backup policy (its backups stay).", "DELETE", "",
			   NULL);
}

static int cmd_policy_run(int argc, char **argv)
{
	return policy_call(argc, argv,
			   "Run a backup policy now: its VMs are backed up within a minute, "
			   "as many at once as it allows.",
			   "POST", "/run", NULL);
}

static int cmd_policy_enable(int argc, char **argv)
{
	return policy_call(argc, argv, "Enable a backup policy.", "PATCH", "",
			   "{\"enabled\": true}");
}

static int cmd_policy_disable(int argc, char **argv)
{
	return policy_call(argc, argv, "Disable a backup policy (its schedule is ignored).",
			   "PATCH", "", "{\"enabled\": false}");
}

static int cmd_policy_create(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) body = NULL, r = NULL;
	g_autofree char *schedule = NULL, *repo = NULL, *retention = NULL, *window = NULL;
	g_auto(GStrv) vms = NULL, pools = NULL, hosts = NULL, tags = NULL;
	gboolean all = FALSE, disabled = FALSE;
	gint max = 0;
	GOptionEntry extra[] = {
		{ "schedule", 's', 0, G_OPTION_ARG_STRING, &schedule,
		  "When: crontab(5) in UTC, or @hourly, @daily, @weekly, @monthly (required)",
		  "CRON" },
		{ "repository", 'r', 0, G_OPTION_ARG_STRING, &repo, "Where (required)", "NAME" },
		{ "vm", 0, 0, G_OPTION_ARG_STRING_ARRAY, &vms, "A VM, by name or uuid (repeatable)",
		  "VM" },
		{ "all-vms", 0, 0, G_OPTION_ARG_NONE, &all, "Every VM", NULL },
		{ "pool", 0, 0, G_OPTION_ARG_STRING_ARRAY, &pools,
		  "The VMs on a pool when its time comes (repeatable)", "POOL" },
		{ "host", 0, 0, G_OPTION_ARG_STRING_ARRAY, &hosts,
		  "The VMs running on a host when its time comes (repeatable)", "HOST" },
		{ "tag", 0, 0, G_OPTION_ARG_STRING_ARRAY, &tags,
		  "The VMs with a tag when its time comes (repeatable)", "TAG" },
		{ "retention", 0, 0, G_OPTION_ARG_STRING, &retention,
		  "What to keep after each backup: last=N,daily=N,weekly=N,monthly=N", "RULES" },
		{ "max-concurrent", 0, 0, G_OPTION_ARG_INT, &max,
		  "Its backups running at once (2)", "N" },
		{ "window", 0, 0, G_OPTION_ARG_STRING, &window,
		  "When its backups may start, UTC (22:00-06:00)", "HH:MM-HH:MM" },
		{ "disabled", 0, 0, G_OPTION_ARG_NONE, &disabled, "Create it disabled", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(&argc, &argv, &c, "NAME",
			     "Create a backup policy: VMs backed up into a repository on a "
			     "schedule, then pruned by a retention.",
			     extra, 1, 1, &error))
		return ics_admin_finish(error);
	if (schedule == NULL || repo == NULL) {
		ics_error_invalid(&error, "backup policy create: --schedule and --repository are "
					  "required");
		return ics_admin_finish(error);
	}
	body = json_pack("{s:s, s:s, s:s, s:b}", "name", argv[1], "schedule", schedule,
			 "repository", repo, "enabled", !disabled);
	if (all)
		json_object_set_new(body, "all_vms", json_true());
	for (guint k = 0; k < 4; k++) {
		char **names = (char **[]){ vms, pools, hosts, tags }[k];
		json_t *list;

		if (names == NULL)
			continue;
		list = json_array();
		for (guint i = 0; names[i]; i++)
			json_array_append_new(list, json_string(names[i]));
		json_object_set_new(body, (const char *[]){ "vms", "pools", "hosts", "tags" }[k],
				    list);
	}
	if (retention)
		json_object_set_new(body, "retention", json_string(retention));
	if (max)
		json_object_set_new(body, "max_concurrent", json_integer(max));
	if (window)
		json_object_set_new(body, "window", json_string(window));
	if ((rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (r = ics_rest_call(rest, "POST", "/api/v1/backup-policies", NULL, body, &error)) ==
		    NULL)
		return ics_admin_finish(error);
	if (c.json)
		ics_admin_print_json(r);
	else
		print_policy(r);
	return ICS_ADMIN_EXIT_OK;
}

static int cmd_policy(int argc, char **argv)
{
	static const IcsAdminCommand cmds[] = {
		{ "list", cmd_policy_list },	   { "show", cmd_policy_show },
		{ "create", cmd_policy_create },   { "delete", cmd_policy_delete },
		{ "run", cmd_policy_run },	   { "enable", cmd_policy_enable },
		{ "disable", cmd_policy_disable }, { NULL, NULL },
	};

	return ics_admin_dispatch("backup policy", cmds,
				  "  list\n"
				  "  show NAME\n"
				  "  create NAME --schedule CRON --repository NAME (--all-vms | "
				  "--vm VM... --pool POOL... --host HOST...)\n"
				  "         [--retention RULES] [--max-concurrent N] [--window HH:MM-HH:MM]\n"
				  "         [--disabled]\n"
				  "  delete NAME | run NAME | enable NAME | disable NAME\n",
				  argc, argv);
}

/* ---- the manager's own backups (/api/v1/system/backups) ---------------- */

static int cmd_system_list(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) all = NULL;
	g_autoptr(GPtrArray) t = NULL;
	json_t *v;
	size_t i;

	if (!ics_admin_parse(&argc, &argv, &c, "",
			     "List the manager's own backups, newest first.", NULL, 0, 0,
			     &error) ||
	    (rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (all = ics_rest_call(rest, "GET", "/api/v1/system/backups", NULL, NULL, &error)) ==
		    NULL)
		return ics_admin_finish(error);
	if (c.json) {
		ics_admin_print_json(all);
		return ICS_ADMIN_EXIT_OK;
	}
	t = ics_admin_table_new("NAME", "CREATED", "SIZE", "SCHEMA", "ICS", NULL);
	json_array_foreach(json_object_get(all, "backups"), i, v)
	{
		g_autofree char *size =
			g_format_size((guint64)json_integer_value(json_object_get(v, "bytes")));
		g_autofree char *schema = g_strdup_printf(
			"%" JSON_INTEGER_FORMAT,
			json_integer_value(json_object_get(v, "schema_version")));

		ics_admin_table_add(t, ics_admin_str(v, "name", "?"),
				    ics_admin_str(v, "created", "-"), size, schema,
				    ics_admin_str(v, "ics_version", "-"), NULL);
	}
	ics_admin_table_print(t);
	print_problems(all);
	return ICS_ADMIN_EXIT_OK;
}

static int cmd_system_run(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) task = NULL, done = NULL, last = NULL;
	gboolean no_wait = FALSE;
	gint timeout = 600;
	GOptionEntry extra[] = {
		{ "no-wait", 0, 0, G_OPTION_ARG_NONE, &no_wait, "Print the task id and return",
		  NULL },
		{ "timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
		  "Seconds to wait for the task (600)", "S" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(&argc, &argv, &c, "",
			     "Back up the manager now: its database, sealing key and TLS files "
			     "(a task).",
			     extra, 0, 0, &error))
		return ics_admin_finish(error);
	if (timeout <= 0) {
		ics_error_invalid(&error, "backup system run: --timeout must be positive");
		return ics_admin_finish(error);
	}
	if ((rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (task = ics_rest_call(rest, "POST", "/api/v1/system/backups", NULL, NULL, &error)) ==
		    NULL)
		return ics_admin_finish(error);
	if (no_wait || c.json)
		return ics_admin_task_follow(rest, task, no_wait, c.json, (guint)timeout);
	done = ics_admin_task_wait(rest, json_integer_value(json_object_get(task, "id")),
				   (guint)timeout, &last, &error);
	if (done == NULL)
		return ics_admin_finish(error);
	printf("system backup %s written\n",
	       ics_admin_str(json_object_get(done, "result"), "name", "?"));
	return ICS_ADMIN_EXIT_OK;
}

static int cmd_system(int argc, char **argv)
{
	static const IcsAdminCommand cmds[] = {
		{ "list", cmd_system_list },
		{ "run", cmd_system_run },
		{ NULL, NULL },
	};

	return ics_admin_dispatch("backup system", cmds,
				  "  list\n"
				  "  run [--no-wait] [--timeout S]\n",
				  argc, argv);
}

int ics_admin_backup_main(int argc, char **argv)
{
	static const IcsAdminCommand cmds[] = {
		{ "repo", cmd_repo },
		{ "list", cmd_list },
		{ "run", cmd_run },
		{ "restore", cmd_restore },
		{ "system", cmd_system },
		{ "policy", cmd_policy },
		{ NULL, NULL },
	};

	return ics_admin_dispatch("backup", cmds,
				  "  repo list | add NAME PATH | remove NAME\n"
				  "  list VM\n"
				  "  run VM --repository NAME [--full] [--no-wait] [--timeout S]\n"
				  "  restore VM BACKUP --repository NAME [--to new-vm|in-place|volume]\n"
				  "          [--name NAME] [--pool POOL] [--disk TARGET...] [--no-wait]\n"
				  "  system list | run [--no-wait] [--timeout S]\n"
				  "  policy list | show | create | delete | run | enable | disable\n",
				  argc, argv);
}
