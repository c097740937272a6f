/*
 * vm_cmd.c: the `ics-admin vm` command group.
 *
 * This file only knows the syntax: it parses each command's options with
 * GOption into a request, hands it to the backend (vm_backend.h) and prints
 * what comes back -- a table for people, the records as JSON with --json.
 * These commands never go through ics-managerd; `ics-admin manager vm`
 * (manager_vm_cmd.c) does.
 *
 * Errors are printed once, as one line "ics-admin: <message>", and the exit
 * status says what kind of failure it was (ics_admin_exit_code()).
 */
#include "config.h"

#include "vm_cmd.h"

#include <stdio.h>
#include <string.h>

#include "ics/error.h"
#include "ics/json.h"

int ics_admin_exit_code(const GError *error)
{
	if (error == NULL)
		return ICS_ADMIN_EXIT_OK;
	if (error->domain == G_OPTION_ERROR)
		return ICS_ADMIN_EXIT_USAGE;
	if (error->domain != ICS_ERROR)
		return ICS_ADMIN_EXIT_ERROR;
	switch (error->code) {
	case ICS_ERROR_INVALID_ARGUMENT:
	case ICS_ERROR_PARSE:
		return ICS_ADMIN_EXIT_USAGE;
	case ICS_ERROR_NOT_FOUND:
		return ICS_ADMIN_EXIT_NOT_FOUND;
	case ICS_ERROR_BUSY:
	case ICS_ERROR_CONFLICT:
		return ICS_ADMIN_EXIT_CONFLICT;
	case ICS_ERROR_PERMISSION:
		return ICS_ADMIN_EXIT_AUTH;
	default:
		return ICS_ADMIN_EXIT_ERROR;
	}
}

json_t *ics_admin_parse_disk(const char *spec, const char *pool_path, GError **error)
{
	g_auto(GStrv) parts = g_strsplit(spec, ",", -1);
	g_autoptr(json_t) disk = json_object();
	const char *path = parts[0];

	if (path == NULL || *path == '\0') {
		ics_error_invalid(error, "--disk \"%s\": no path", spec);
		return NULL;
	}
	if (g_path_is_absolute(path) || pool_path == NULL) {
		json_object_set_new(disk, "path", json_string(path));
	} else {
		g_autofree char *abs = g_canonicalize_filename(path, pool_path);

		json_object_set_new(disk, "path", json_string(abs));
	}
	for (guint i = 1; parts[i]; i++) {
		const char *kv = parts[i];
		const char *eq = strchr(kv, '=');
		g_autofree char *key = eq ? g_strndup(kv, (gsize)(eq - kv)) : g_strdup(kv);
		const char *val = eq ? eq + 1 : NULL;

		if (g_strv_contains((const char *const[]){ "format", "bus", "cache", "target",
							    "serial", NULL },
				    key)) {
			if (val == NULL || *val == '\0') {
				ics_error_invalid(error, "--disk \"%s\": %s needs a value", spec, key);
				return NULL;
			}
			json_object_set_new(disk, key, json_string(val));
		} else if (strcmp(key, "readonly") == 0 || strcmp(key, "shared") == 0) {
			gboolean on = val == NULL || strcmp(val, "true") == 0 || strcmp(val, "yes") == 0;

			if (val && !on && strcmp(val, "false") != 0 && strcmp(val, "no") != 0) {
				ics_error_invalid(error, "--disk \"%s\": %s=%s is not a boolean", spec, key, val);
				return NULL;
			}
			json_object_set_new(disk,
					    strcmp(key, "shared") == 0 ? "shared_outside_pool" : "readonly",
					    json_boolean(on));
		} else {
			ics_error_invalid(error,
				    "--disk \"%s\": unknown option \"%s\" (format, bus, cache, target, "
				    "serial, readonly, shared)",
				    spec, key);
			return NULL;
		}
	}
	return g_steal_pointer(&disk);
}

void ics_admin_def_apply(json_t *def, const IcsAdminDefOptions *o)
{
	if (o->name)
		json_object_set_new(def, "name", json_string(o->name));
	if (o->vcpus >= 0)
		json_object_set_new(def, "vcpus", json_integer(o->vcpus));
	if (o->memory_mib >= 0)
		json_object_set_new(def, "memory_mib", json_integer(o->memory_mib));
	if (o->virt_type)
		json_object_set_new(def, "virt_type", json_string(o->virt_type));
	if (o->crash_policy)
		json_object_set_new(def, "crash_policy", json_string(o->crash_policy));
	if (o->uuid)
		json_object_set_new(def, "uuid", json_string(o->uuid));
}

gboolean ics_admin_parse_define(int argc, char **argv, IcsAdminDefine *req, gboolean *json,
				GError **error)
{
	g_autofree char *pool = NULL, *name = NULL, *kernel = NULL, *initrd = NULL;
	g_autofree char *cmdline = NULL, *virt_type = NULL, *crash = NULL, *uuid = NULL;
	g_autofree char *from_json = NULL;
	g_auto(GStrv) disks = NULL;
	gint vcpus = -1;
	gint64 memory = -1;
	gboolean start = FALSE, unsafe = FALSE, safe = FALSE;
	g_autoptr(GOptionContext) ctx = NULL;
	g_autoptr(json_t) def = NULL;
	g_autofree char *pool_abs = NULL;
	GOptionEntry entries[] = {
		{ "pool", 0, 0, G_OPTION_ARG_FILENAME, &pool, "Pool the VM lives on (required)", "PATH" },
		{ "name", 0, 0, G_OPTION_ARG_STRING, &name, "VM name", "NAME" },
		{ "vcpus", 0, 0, G_OPTION_ARG_INT, &vcpus, "Virtual CPUs", "N" },
		{ "memory", 0, 0, G_OPTION_ARG_INT64, &memory, "Memory in MiB", "MIB" },
		{ "disk", 0, 0, G_OPTION_ARG_STRING_ARRAY, &disks, "A disk (repeatable)",
		  "PATH[,format=raw|qcow2][,bus=virtio|sata|scsi]..." },
		{ "kernel", 0, 0, G_OPTION_ARG_FILENAME, &kernel, "Direct kernel boot", "PATH" },
		{ "initrd", 0, 0, G_OPTION_ARG_FILENAME, &initrd, "Initrd of --kernel", "PATH" },
		{ "cmdline", 0, 0, G_OPTION_ARG_STRING, &cmdline, "Command line of --kernel", "STR" },
		{ "virt-type", 0, 0, G_OPTION_ARG_STRING, &virt_type, "kvm or qemu (TCG)", "TYPE" },
		{ "crash-policy", 0, 0, G_OPTION_ARG_STRING, &crash, "ha, restart, poweroff or none",
		  "POLICY" },
		{ "uuid", 0, 0, G_OPTION_ARG_STRING, &uuid, "The VM's uuid (default: a new one)", "UUID" },
		{ "from-json", 0, 0, G_OPTION_ARG_FILENAME, &from_json,
		  "Start from this vm.json (options override its members)", "FILE" },
		{ "start", 0, 0, G_OPTION_ARG_NONE, &start, "Start it once defined", NULL },
		{ "migration-unsafe", 0, 0, G_OPTION_ARG_NONE, &unsafe,
		  "Allow live migration on a pool libvirt does not see as shared", NULL },
		{ "no-migration-unsafe", 0, 0, G_OPTION_ARG_NONE, &safe,
		  "Never set migration_unsafe", NULL },
		{ "json", 0, 0, G_OPTION_ARG_NONE, json, "Print the record as JSON", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	memset(req, 0, sizeof(*req));
	ctx = g_option_context_new("- define a VM on a pool and in the cluster");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, error))
		return FALSE;
	if (argc > 1)
		return ics_error_invalid(error, "vm define: unexpected argument \"%s\"", argv[1]);
	if (pool == NULL)
		return ics_error_invalid(error, "vm define: --pool PATH is required");
	if (unsafe && safe)
		return ics_error_invalid(error, "vm define: --migration-unsafe and --no-migration-unsafe "
					  "exclude each other");
	pool_abs = g_canonicalize_filename(pool, NULL);

	if (from_json) {
		def = ics_json_load_file(from_json, error);
		if (def == NULL)
			return FALSE;
		if (!ics_json_require_object(def, from_json, error))
			return FALSE;
		/* The lease belongs to the pool it is allocated on: always a new one. */
		json_object_del(def, "lease");
	} else {
		def = json_object();
		if (name == NULL)
			return ics_error_invalid(error, "vm define: --name is required (or --from-json)");
		if (vcpus < 0)
			return ics_error_invalid(error, "vm define: --vcpus is required (or --from-json)");
		if (memory < 0)
			return ics_error_invalid(error, "vm define: --memory is required (or --from-json)");
	}
	ics_admin_def_apply(def, &(IcsAdminDefOptions){ name, virt_type, crash, uuid, vcpus,
							 memory });
	if (uuid == NULL && json_object_get(def, "uuid") == NULL) {
		g_autofree char *u = g_uuid_string_random();

		json_object_set_new(def, "uuid", json_string(u));
	}
	if ((initrd || cmdline) && kernel == NULL)
		return ics_error_invalid(error, "vm define: --initrd and --cmdline need --kernel");
	if (kernel) {
		json_t *k = json_pack("{s:s}", "path", kernel);

		if (initrd)
			json_object_set_new(k, "initrd", json_string(initrd));
		if (cmdline)
			json_object_set_new(k, "cmdline", json_string(cmdline));
		json_object_set_new(def, "kernel", k);
		json_object_del(def, "boot");
	}
	if (disks) {
		json_t *arr = json_array();

		json_object_set_new(def, "disks", arr);
		for (guint i = 0; disks[i]; i++) {
			json_t *d = ics_admin_parse_disk(disks[i], pool_abs, error);

			if (d == NULL)
				return FALSE;
			json_array_append_new(arr, d);
		}
	}
	req->definition = g_steal_pointer(&def);
	req->pool_path = g_steal_pointer(&pool_abs);
	req->start = start;
	req->migration_unsafe = unsafe ? ICS_ADMIN_UNSAFE_YES
				: safe ? ICS_ADMIN_UNSAFE_NO
				       : ICS_ADMIN_UNSAFE_AUTO;
	return TRUE;
}

static void print_json(json_t *v)
{
	g_autofree char *s = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);

	printf("%s\n", s);
}

static const char *str_or(const json_t *r, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(r, key));

	return s ? s : def;
}

static void print_table(json_t *recs)
{
	size_t i;
	json_t *r;

	printf("%-20s %-36s %-11s %-10s %5s %8s  %s\n", "NAME", "UUID", "STATE", "NODE", "VCPUS",
	       "MEMORY", "POOL");
	json_array_foreach (recs, i, r) {
		g_autofree char *vcpus = NULL, *mem = NULL;

		vcpus = json_is_integer(json_object_get(r, "vcpus"))
				? g_strdup_printf("%" JSON_INTEGER_FORMAT,
						  json_integer_value(json_object_get(r, "vcpus")))
				: g_strdup("-");
		mem = json_is_integer(json_object_get(r, "memory_mib"))
			      ? g_strdup_printf("%" JSON_INTEGER_FORMAT "M",
						json_integer_value(json_object_get(r, "memory_mib")))
			      : g_strdup("-");
		printf("%-20s %-36s %-11s %-10s %5s %8s  %s\n", str_or(r, "name", "?"),
		       str_or(r, "uuid", "?"), str_or(r, "state", "?"), str_or(r, "node", "-"),
		       vcpus, mem, str_or(r, "pool", "?"));
	}
}

static void print_show(json_t *r)
{
	json_t *def = json_object_get(r, "definition");
	json_t *disks = json_object_get(def, "disks");
	json_t *lease = json_object_get(def, "lease");
	json_t *d;
	size_t i;

	printf("name:         %s\n", str_or(r, "name", "?"));
	printf("uuid:         %s\n", str_or(r, "uuid", "?"));
	printf("state:        %s\n", str_or(r, "state", "?"));
	printf("node:         %s\n", str_or(r, "node", "-"));
	printf("pool:         %s\n", str_or(r, "pool", "?"));
	printf("vcpus:        %" JSON_INTEGER_FORMAT "\n",
	       json_integer_value(json_object_get(r, "vcpus")));
	printf("memory:       %" JSON_INTEGER_FORMAT " MiB\n",
	       json_integer_value(json_object_get(r, "memory_mib")));
	printf("virt type:    %s\n", str_or(def, "virt_type", "?"));
	printf("crash policy: %s\n", str_or(def, "crash_policy", "?"));
	json_array_foreach (disks, i, d)
		printf("disk %-7zu %s (%s, %s, %s)\n", i, str_or(d, "path", "?"),
		       str_or(d, "format", "?"), str_or(d, "bus", "?"), str_or(d, "target", "?"));
	if (lease)
		printf("lease:        %s:%s:%s:%" JSON_INTEGER_FORMAT "\n",
		       str_or(lease, "lockspace", "?"), str_or(lease, "name", "?"),
		       str_or(lease, "path", "?"),
		       json_integer_value(json_object_get(lease, "offset")));
}

/* Options every other command shares; parse and require @nargs positionals. */
typedef struct {
	gboolean json;
	gboolean wait;
	gboolean force;
	gboolean keep_constraint;
	gboolean no_wait;
	gint timeout;
	char *pool;
} CommonOpts;

static gboolean parse_common(int *argc, char ***argv, CommonOpts *o, const char *params,
			     const char *summary, GOptionEntry *extra, int nargs, GError **error)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new(params);
	GOptionEntry common[] = {
		{ "pool", 0, 0, G_OPTION_ARG_FILENAME, &o->pool, "Look only at this pool", "PATH" },
		{ "json", 0, 0, G_OPTION_ARG_NONE, &o->json, "Print JSON", NULL },
		{ "timeout", 0, 0, G_OPTION_ARG_INT, &o->timeout, "Seconds to wait (default 120)",
		  "S" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	o->timeout = ICS_ADMIN_DEFAULT_WAIT_S;
	g_option_context_set_summary(ctx, summary);
	g_option_context_add_main_entries(ctx, common, NULL);
	if (extra)
		g_option_context_add_main_entries(ctx, extra, NULL);
	if (!g_option_context_parse(ctx, argc, argv, error))
		return FALSE;
	if (*argc - 1 != nargs)
		return ics_error_invalid(error, "vm %s: expected %s", (*argv)[0], params);
	if (o->timeout <= 0)
		return ics_error_invalid(error, "vm %s: --timeout must be positive", (*argv)[0]);
	return TRUE;
}

static int finish(GError *error)
{
	if (error)
		g_printerr("ics-admin: %s\n", error->message);
	return ics_admin_exit_code(error);
}

static int cmd_define(IcsAdmin *adm, int argc, char **argv)
{
	g_auto(IcsAdminDefine) req = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(json_t) rec = NULL;
	gboolean json = FALSE;

	if (!ics_admin_parse_define(argc, argv, &req, &json, &error))
		return finish(error);
	rec = ics_admin_vm_define(adm, &req, &error);
	if (rec == NULL)
		return finish(error);
	if (json)
		print_json(rec);
	else
		printf("%s\n", str_or(rec, "uuid", "?"));
	return ICS_ADMIN_EXIT_OK;
}

static int cmd_list(IcsAdmin *adm, int argc, char **argv)
{
	CommonOpts o = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(json_t) recs = NULL;
	g_autofree char *pool = NULL;

	if (!parse_common(&argc, &argv, &o, "", "List the VMs.", NULL, 0, &error))
		return finish(error);
	pool = o.pool;
	adm->pool = pool;
	recs = ics_admin_vm_list(adm, &error);
	if (recs == NULL)
		return finish(error);
	if (o.json)
		print_json(recs);
	else
		print_table(recs);
	return ICS_ADMIN_EXIT_OK;
}

static int cmd_show(IcsAdmin *adm, int argc, char **argv)
{
	CommonOpts o = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(json_t) rec = NULL;
	g_autofree char *pool = NULL;

	if (!parse_common(&argc, &argv, &o, "UUID|NAME", "Show one VM.", NULL, 1, &error))
		return finish(error);
	pool = o.pool;
	adm->pool = pool;
	rec = ics_admin_vm_show(adm, argv[1], &error);
	if (rec == NULL)
		return finish(error);
	if (o.json)
		print_json(rec);
	else
		print_show(rec);
	return ICS_ADMIN_EXIT_OK;
}

static int cmd_start_stop(IcsAdmin *adm, int argc, char **argv, gboolean running)
{
	CommonOpts o = { 0 };
	g_autoptr(GError) error = NULL;
	g_autofree char *pool = NULL;
	GOptionEntry extra[] = {
		{ "wait", 0, 0, G_OPTION_ARG_NONE, &o.wait, "Wait until done (see --timeout)", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!parse_common(&argc, &argv, &o, "UUID|NAME",
			  running ? "Start a VM (target-role Started)." : "Stop a VM (target-role Stopped).",
			  extra, 1, &error))
		return finish(error);
	pool = o.pool;
	adm->pool = pool;
	ics_admin_vm_set_running(adm, argv[1], running, o.wait ? (guint)o.timeout : 0, &error);
	return finish(error);
}

static int cmd_migrate(IcsAdmin *adm, int argc, char **argv)
{
	CommonOpts o = { 0 };
	g_autoptr(GError) error = NULL;
	g_autofree char *pool = NULL;
	GOptionEntry extra[] = {
		{ "keep-constraint", 0, 0, G_OPTION_ARG_NONE, &o.keep_constraint,
		  "Keep crm_resource's move constraint afterwards", NULL },
		{ "no-wait", 0, 0, G_OPTION_ARG_NONE, &o.no_wait,
		  "Return once the move is requested (keeps the constraint)", NULL },
		{ "wait", 0, 0, G_OPTION_ARG_NONE, &o.wait, "Wait until it runs there (the default)",
		  NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!parse_common(&argc, &argv, &o, "UUID|NAME NODE", "Live-migrate a VM to NODE.", extra,
			  2, &error))
		return finish(error);
	pool = o.pool;
	adm->pool = pool;
	ics_admin_vm_migrate(adm, argv[1], argv[2], o.keep_constraint || o.no_wait,
			     o.no_wait ? 0 : (guint)o.timeout, &error);
	return finish(error);
}

static int cmd_undefine(IcsAdmin *adm, int argc, char **argv)
{
	CommonOpts o = { 0 };
	g_autoptr(GError) error = NULL;
	g_autofree char *pool = NULL;
	GOptionEntry extra[] = {
		{ "force", 0, 0, G_OPTION_ARG_NONE, &o.force, "Stop it first when it runs", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!parse_common(&argc, &argv, &o, "UUID|NAME", "Remove a VM from the cluster and its pool.",
			  extra, 1, &error))
		return finish(error);
	pool = o.pool;
	adm->pool = pool;
	ics_admin_vm_undefine(adm, argv[1], o.force, (guint)o.timeout, &error);
	return finish(error);
}

static void vm_usage(FILE *f)
{
	fprintf(f, "usage: ics-admin vm COMMAND [OPTIONS]\n"
		   "  define --pool PATH --name NAME --vcpus N --memory MIB [--disk SPEC]... [...]\n"
		   "  undefine UUID|NAME [--force]\n"
		   "  start|stop UUID|NAME [--wait] [--timeout S]\n"
		   "  migrate UUID|NAME NODE [--keep-constraint] [--no-wait] [--timeout S]\n"
		   "  list [--pool PATH] [--json]\n"
		   "  show UUID|NAME [--json]\n"
		   "'ics-admin vm COMMAND --help' shows a command's options; see ics-admin(8).\n");
}

int ics_admin_vm_main(IcsAdmin *adm, int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (cmd == NULL) {
		vm_usage(stderr);
		return ICS_ADMIN_EXIT_USAGE;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		vm_usage(stdout);
		return ICS_ADMIN_EXIT_OK;
	}
	argc--;
	argv++;
	if (strcmp(cmd, "define") == 0)
		return cmd_define(adm, argc, argv);
	if (strcmp(cmd, "undefine") == 0)
		return cmd_undefine(adm, argc, argv);
	if (strcmp(cmd, "start") == 0)
		return cmd_start_stop(adm, argc, argv, TRUE);
	if (strcmp(cmd, "stop") == 0)
		return cmd_start_stop(adm, argc, argv, FALSE);
	if (strcmp(cmd, "migrate") == 0)
		return cmd_migrate(adm, argc, argv);
	if (strcmp(cmd, "list") == 0)
		return cmd_list(adm, argc, argv);
	if (strcmp(cmd, "show") == 0)
		return cmd_show(adm, argc, argv);
	g_printerr("ics-admin: vm: unknown command \"%s\"\n", cmd);
	vm_usage(stderr);
	return ICS_ADMIN_EXIT_USAGE;
}
