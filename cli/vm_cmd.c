/*
 * vm_cmd.c: the `ics-admin vm` command group.
 *
 * This file only knows the syntax and the choice of way: it parses each
 * command's options with GOption into a request, hands it to one of the
 * two ways of vm_ops.h and prints what comes back -- a table for people,
 * the records as JSON with --json, the same columns and members either
 * way.  The way is the manager when one is configured (a URL from a flag,
 * the environment, admin.conf or the last login), else this node's cluster
 * directly; --direct asks for the latter.  When the manager's address does
 * not answer at all (the request was never sent) on a cluster node, one
 * line says so and the command runs directly: the cluster is the truth,
 * and the manager mirrors what is done to it.
 *
 * Errors are printed once, as one line "ics-admin: <message>", and the exit
 * status says what kind of failure it was (ics_admin_exit_code()).
 */
#include "config.h"

#include "vm_cmd.h"

#include "api_cmd.h"

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
				ics_error_invalid(error, "--disk \"%s\": %s needs a value", spec,
						  key);
				return NULL;
			}
			json_object_set_new(disk, key, json_string(val));
		} else if (strcmp(key, "readonly") == 0 || strcmp(key, "shared") == 0) {
			gboolean on =
				val == NULL || strcmp(val, "true") == 0 || strcmp(val, "yes") == 0;

			if (val && !on && strcmp(val, "false") != 0 && strcmp(val, "no") != 0) {
				ics_error_invalid(error, "--disk \"%s\": %s=%s is not a boolean",
						  spec, key, val);
				return NULL;
			}
			json_object_set_new(disk,
					    strcmp(key, "shared") == 0 ? "shared_outside_pool"
								       : "readonly",
					    json_boolean(on));
		} else {
			ics_error_invalid(
				error,
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

/* The options every `vm` command takes. */
static void add_common(GOptionContext *ctx, IcsAdminVmArgs *a)
{
	GOptionEntry common[] = {
		{ "direct", 0, 0, G_OPTION_ARG_NONE, &a->direct,
		  "Act directly on this node's cluster, not through the manager", NULL },
		{ "url", 0, 0, G_OPTION_ARG_STRING, &a->flags.url,
		  "The manager (default $ICS_URL, url= in admin.conf, the last login's)", "URL" },
		{ "ca", 0, 0, G_OPTION_ARG_FILENAME, &a->flags.ca,
		  "Trust this CA or certificate (default $ICS_CA, ca= in admin.conf)", "FILE" },
		{ "config", 0, 0, G_OPTION_ARG_FILENAME, &a->flags.config_file,
		  "Configuration file (default $ICS_CONFIG, ~/.config/ics/admin.conf)", "FILE" },
		{ "json", 0, 0, G_OPTION_ARG_NONE, &a->json, "Print JSON", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	g_option_context_add_main_entries(ctx, common, NULL);
}

void ics_admin_vm_args_clear(IcsAdminVmArgs *a)
{
	ics_admin_flags_clear(&a->flags);
	g_clear_pointer(&a->pool, g_free);
	g_clear_pointer(&a->owner, g_free);
}

gboolean ics_admin_parse_define(int argc, char **argv, IcsAdminDefine *req, IcsAdminVmArgs *args,
				GError **error)
{
	g_autofree char *name = NULL, *kernel = NULL, *initrd = NULL;
	g_autofree char *cmdline = NULL, *virt_type = NULL, *crash = NULL, *uuid = NULL;
	g_autofree char *from_json = NULL;
	g_auto(GStrv) disks = NULL, tags = NULL;
	gint vcpus = -1;
	gint64 memory = -1;
	gboolean start = FALSE, unsafe = FALSE, safe = FALSE;
	g_autoptr(GOptionContext) ctx = NULL;
	g_autoptr(json_t) def = NULL;
	g_autofree char *pool_abs = NULL;
	const char *cmd = argv[0];
	GOptionEntry entries[] = {
		{ "pool", 0, 0, G_OPTION_ARG_STRING, &args->pool,
		  "Pool the VM lives on (default: the only one)", "NAME|PATH" },
		{ "name", 0, 0, G_OPTION_ARG_STRING, &name, "VM name", "NAME" },
		{ "vcpus", 0, 0, G_OPTION_ARG_INT, &vcpus, "Virtual CPUs", "N" },
		{ "memory", 0, 0, G_OPTION_ARG_INT64, &memory, "Memory in MiB", "MIB" },
		{ "disk", 0, 0, G_OPTION_ARG_STRING_ARRAY, &disks, "A disk (repeatable)",
		  "PATH[,format=raw|qcow2][,bus=virtio|sata|scsi]..." },
		{ "kernel", 0, 0, G_OPTION_ARG_FILENAME, &kernel, "Direct kernel boot", "PATH" },
		{ "initrd", 0, 0, G_OPTION_ARG_FILENAME, &initrd, "Initrd of --kernel", "PATH" },
		{ "cmdline", 0, 0, G_OPTION_ARG_STRING, &cmdline, "Command line of --kernel",
		  "STR" },
		{ "virt-type", 0, 0, G_OPTION_ARG_STRING, &virt_type, "kvm or qemu (TCG)", "TYPE" },
		{ "crash-policy", 0, 0, G_OPTION_ARG_STRING, &crash,
		  "ha, restart, poweroff or none", "POLICY" },
		{ "uuid", 0, 0, G_OPTION_ARG_STRING, &uuid, "The VM's uuid (default: a new one)",
		  "UUID" },
		{ "tag", 0, 0, G_OPTION_ARG_STRING_ARRAY, &tags,
		  "A tag, by which backup policies select VMs (repeatable)", "TAG" },
		{ "owner", 0, 0, G_OPTION_ARG_STRING, &args->owner,
		  "Its owner in the manager (default: you)", "USER" },
		{ "from-json", 0, 0, G_OPTION_ARG_FILENAME, &from_json,
		  "Start from this vm.json (options override its members)", "FILE" },
		{ "start", 0, 0, G_OPTION_ARG_NONE, &start, "Start it once defined (and wait)",
		  NULL },
		{ "migration-unsafe", 0, 0, G_OPTION_ARG_NONE, &unsafe,
		  "Allow live migration on a pool libvirt does not see as shared (--direct)",
		  NULL },
		{ "no-migration-unsafe", 0, 0, G_OPTION_ARG_NONE, &safe,
		  "Never set migration_unsafe (--direct)", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	memset(req, 0, sizeof(*req));
	ctx = g_option_context_new("- define a VM on a pool and in the cluster");
	g_option_context_add_main_entries(ctx, entries, NULL);
	add_common(ctx, args);
	if (!g_option_context_parse(ctx, &argc, &argv, error))
		return FALSE;
	if (argc > 1)
		return ics_error_invalid(error, "vm %s: unexpected argument \"%s\"", cmd, argv[1]);
	if (unsafe && safe)
		return ics_error_invalid(error,
					 "vm %s: --migration-unsafe and --no-migration-unsafe "
					 "exclude each other",
					 cmd);
	/* A path is known now; a name is the backend's to look up. */
	if (args->pool && strchr(args->pool, '/'))
		pool_abs = g_canonicalize_filename(args->pool, NULL);

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
			return ics_error_invalid(error,
						 "vm %s: --name is required (or --from-json)", cmd);
		if (vcpus < 0)
			return ics_error_invalid(
				error, "vm %s: --vcpus is required (or --from-json)", cmd);
		if (memory < 0)
			return ics_error_invalid(
				error, "vm %s: --memory is required (or --from-json)", cmd);
	}
	ics_admin_def_apply(def,
			    &(IcsAdminDefOptions){ name, virt_type, crash, uuid, vcpus, memory });
	if ((initrd || cmdline) && kernel == NULL)
		return ics_error_invalid(error, "vm %s: --initrd and --cmdline need --kernel", cmd);
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
			json_t *d = ics_admin_parse_disk(disks[i], NULL, error);

			if (d == NULL)
				return FALSE;
			json_array_append_new(arr, d);
		}
	}
	if (tags) {
		json_t *arr = json_array();

		for (guint i = 0; tags[i]; i++)
			json_array_append_new(arr, json_string(tags[i]));
		json_object_set_new(def, "tags", arr);
	}
	req->definition = g_steal_pointer(&def);
	if (pool_abs)
		ics_admin_define_set_pool(req, pool_abs);
	else if (args->pool)
		req->pool_name = g_strdup(args->pool);
	req->start = start;
	req->migration_unsafe = unsafe ? ICS_ADMIN_UNSAFE_YES
				: safe ? ICS_ADMIN_UNSAFE_NO
				       : ICS_ADMIN_UNSAFE_AUTO;
	return TRUE;
}

static const char *str_or(const json_t *r, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(r, key));

	return s ? s : def;
}

static char *int_text(const json_t *r, const char *key, const char *unit)
{
	json_t *v = json_object_get(r, key);

	return json_is_integer(v)
		       ? g_strdup_printf("%" JSON_INTEGER_FORMAT "%s", json_integer_value(v), unit)
		       : g_strdup("-");
}

static void print_json(const json_t *v)
{
	g_autofree char *s = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	printf("%s\n", s);
}

static void print_table(const json_t *recs)
{
	g_autoptr(GPtrArray) t = ics_admin_table_new("NAME", "UUID", "STATE", "NODE", "VCPUS",
						     "MEMORY", "OWNER", "POOL", NULL);
	const json_t *r;
	size_t i;

	json_array_foreach(recs, i, r)
	{
		g_autofree char *vcpus = int_text(r, "vcpus", "");
		g_autofree char *mem = int_text(r, "memory_mib", "M");

		ics_admin_table_add(t, str_or(r, "name", "?"), str_or(r, "uuid", "?"),
				    str_or(r, "state", "?"), str_or(r, "node", "-"), vcpus, mem,
				    str_or(r, "owner", "-"), str_or(r, "pool", "-"), NULL);
	}
	ics_admin_table_print(t);
}

static void print_show(const json_t *r)
{
	json_t *def = json_object_get(r, "definition");
	json_t *disks = json_object_get(def, "disks");
	json_t *lease = json_object_get(def, "lease");
	g_autofree char *vcpus = int_text(r, "vcpus", "");
	g_autofree char *mem = int_text(r, "memory_mib", " MiB");
	json_t *d;
	size_t i;

	printf("name:         %s\n", str_or(r, "name", "?"));
	printf("uuid:         %s\n", str_or(r, "uuid", "?"));
	printf("state:        %s\n", str_or(r, "state", "?"));
	if (json_is_string(json_object_get(r, "broken")))
		printf("broken:       %s\n", str_or(r, "broken", ""));
	printf("node:         %s\n", str_or(r, "node", "-"));
	printf("pool:         %s\n", str_or(r, "pool", "-"));
	printf("owner:        %s\n", str_or(r, "owner", "-"));
	printf("vcpus:        %s\n", vcpus);
	printf("memory:       %s\n", mem);
	printf("virt type:    %s\n", str_or(def, "virt_type", "-"));
	printf("crash policy: %s\n", str_or(def, "crash_policy", "-"));
	if (json_array_size(json_object_get(def, "tags"))) {
		g_autofree char *tags = ics_admin_join(json_object_get(def, "tags"));

		printf("tags:         %s\n", tags);
	}
	json_array_foreach(disks, i, d)
		printf("disk %-7zu %s (%s, %s, %s)\n", i, str_or(d, "path", "?"),
		       str_or(d, "format", "-"), str_or(d, "bus", "-"), str_or(d, "target", "-"));
	if (lease)
		printf("lease:        %s:%s:%s:%" JSON_INTEGER_FORMAT "\n",
		       str_or(lease, "lockspace", "?"), str_or(lease, "name", "?"),
		       str_or(lease, "path", "?"),
		       json_integer_value(json_object_get(lease, "offset")));
}

/* Which way the commands go, and the fallback when the manager does not
 * answer. */
typedef struct {
	const IcsAdminVmOps *ops;
	gpointer self;
	IcsAdmin *adm;
	IcsRest *rest;
	gboolean may_fall_back;
} VmWay;

static void way_clear(VmWay *w)
{
	g_clear_pointer(&w->rest, ics_rest_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VmWay, way_clear)

static void use_direct(VmWay *w)
{
	w->ops = &ics_admin_vm_direct_ops;
	w->self = w->adm;
}

/* Through the manager when one is configured (and not --direct), else
 * directly; IcsAdminVmMode MANAGER (the old `manager vm`) never goes
 * directly. */
static gboolean way_choose(VmWay *w, IcsAdmin *adm, const IcsAdminVmArgs *a, IcsAdminVmMode mode,
			   GError **error)
{
	g_auto(IcsAdminSettings) s = { 0 };
	IcsRestConfig rc = { 0 };

	w->adm = adm;
	if (a->direct && mode == ICS_ADMIN_VM_MANAGER)
		return ics_error_invalid(error, "--direct: 'manager vm' always goes through the "
						"manager; use 'ics-admin vm ... --direct'");
	if (a->direct) {
		use_direct(w);
		return TRUE;
	}
	if (!ics_admin_settings_load(&s, &a->flags, TRUE, error))
		return FALSE;
	if (!s.configured && mode == ICS_ADMIN_VM_AUTO) {
		use_direct(w);
		return TRUE;
	}
	if (s.token == NULL && s.access_key == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION,
			    "not logged in to %s: run 'ics-admin login' (or set ICS_ACCESS_KEY and "
			    "ICS_SECRET_KEY), or use --direct on a cluster node",
			    s.url);
		return FALSE;
	}
	ics_admin_rest_config(&s, TRUE, &rc);
	if ((w->rest = ics_rest_new(&rc, error)) == NULL)
		return FALSE;
	w->ops = &ics_admin_vm_managed_ops;
	w->self = w->rest;
	w->may_fall_back = mode == ICS_ADMIN_VM_AUTO;
	return TRUE;
}

/* After a failed operation: when nothing answered at the manager's
 * address (the request was never sent) and this is a cluster node, say so
 * in one line and switch to the direct way; TRUE when the caller should
 * try again. */
static gboolean way_fall_back(VmWay *w, GError **error)
{
	g_autofree char *cibadmin = NULL;

	if (!w->may_fall_back || w->ops != &ics_admin_vm_managed_ops ||
	    !g_error_matches(*error, ICS_ERROR, ICS_ERROR_UNREACHABLE))
		return FALSE;
	cibadmin = g_find_program_in_path("cibadmin");
	if (cibadmin == NULL)
		return FALSE;
	g_printerr("ics-admin: the manager at %s does not answer; acting directly on this node's "
		   "cluster (--direct)\n",
		   ics_rest_url(w->rest));
	g_clear_error(error);
	use_direct(w);
	w->may_fall_back = FALSE;
	return TRUE;
}

static int finish(GError *error)
{
	if (error)
		g_printerr("ics-admin: %s\n", error->message);
	return ics_admin_exit_code(error);
}

/* Parse a command's options: the common ones, @extra, then exactly @nargs
 * positionals described by @params. */
static gboolean parse(int *argc, char ***argv, IcsAdminVmArgs *a, const char *params,
		      const char *summary, GOptionEntry *extra, int nargs, GError **error)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new(params);

	g_option_context_set_summary(ctx, summary);
	add_common(ctx, a);
	if (extra)
		g_option_context_add_main_entries(ctx, extra, NULL);
	if (!g_option_context_parse(ctx, argc, argv, error))
		return FALSE;
	if (*argc - 1 != nargs)
		return ics_error_invalid(error, "vm %s: expected %s%s", (*argv)[0],
					 *params ? params : "no arguments",
					 *argc - 1 > nargs ? " (too many arguments)" : "");
	if (a->timeout < 0)
		return ics_error_invalid(error, "vm %s: --timeout must be positive", (*argv)[0]);
	return TRUE;
}

static guint wait_of(const IcsAdminVmArgs *a)
{
	return a->no_wait ? 0 : a->timeout > 0 ? (guint)a->timeout : ICS_ADMIN_VM_DEFAULT_WAIT_S;
}

static int cmd_define(IcsAdmin *adm, IcsAdminVmMode mode, int argc, char **argv)
{
	g_auto(IcsAdminVmArgs) a = { 0 };
	g_auto(IcsAdminDefine) req = { 0 };
	g_auto(VmWay) w = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(json_t) rec = NULL;

	if (!ics_admin_parse_define(argc, argv, &req, &a, &error) ||
	    !way_choose(&w, adm, &a, mode, &error))
		return finish(error);
	if (w.ops == &ics_admin_vm_direct_ops && !json_object_get(req.definition, "uuid")) {
		g_autofree char *u = g_uuid_string_random();

		json_object_set_new(req.definition, "uuid", json_string(u));
	}
	rec = w.ops->define(w.self, &req, a.owner, &error);
	if (rec == NULL && way_fall_back(&w, &error)) {
		if (!json_object_get(req.definition, "uuid")) {
			g_autofree char *u = g_uuid_string_random();

			json_object_set_new(req.definition, "uuid", json_string(u));
		}
		rec = w.ops->define(w.self, &req, a.owner, &error);
	}
	if (rec == NULL)
		return finish(error);
	if (a.json)
		print_json(rec);
	else
		printf("%s\n", str_or(rec, "uuid", "?"));
	return ICS_ADMIN_EXIT_OK;
}

static int cmd_list(IcsAdmin *adm, IcsAdminVmMode mode, int argc, char **argv)
{
	g_auto(IcsAdminVmArgs) a = { 0 };
	g_auto(VmWay) w = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(json_t) recs = NULL;
	gint limit = 0;
	GOptionEntry extra[] = {
		{ "pool", 0, 0, G_OPTION_ARG_STRING, &a.pool, "Only the VMs of this pool",
		  "NAME|PATH" },
		{ "limit", 0, 0, G_OPTION_ARG_INT, &limit, "At most N VMs (default: all)", "N" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!parse(&argc, &argv, &a, "", "List the VMs (by name).", extra, 0, &error) ||
	    !way_choose(&w, adm, &a, mode, &error))
		return finish(error);
	recs = w.ops->list(w.self, a.pool, &error);
	if (recs == NULL && way_fall_back(&w, &error))
		recs = w.ops->list(w.self, a.pool, &error);
	if (recs == NULL)
		return finish(error);
	while (limit > 0 && json_array_size(recs) > (size_t)limit)
		json_array_remove(recs, json_array_size(recs) - 1);
	if (a.json)
		print_json(recs);
	else
		print_table(recs);
	return ICS_ADMIN_EXIT_OK;
}

static int cmd_show(IcsAdmin *adm, IcsAdminVmMode mode, int argc, char **argv)
{
	g_auto(IcsAdminVmArgs) a = { 0 };
	g_auto(VmWay) w = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(json_t) rec = NULL;

	if (!parse(&argc, &argv, &a, "UUID|NAME", "Show one VM with its definition.", NULL, 1,
		   &error) ||
	    !way_choose(&w, adm, &a, mode, &error))
		return finish(error);
	rec = w.ops->show(w.self, argv[1], &error);
	if (rec == NULL && way_fall_back(&w, &error))
		rec = w.ops->show(w.self, argv[1], &error);
	if (rec == NULL)
		return finish(error);
	if (a.json)
		print_json(rec);
	else
		print_show(rec);
	return ICS_ADMIN_EXIT_OK;
}

/* With --json, what became of the VM. */
static int print_after(VmWay *w, const IcsAdminVmArgs *a, const char *ref)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(json_t) rec = NULL;

	if (!a->json)
		return ICS_ADMIN_EXIT_OK;
	rec = w->ops->show(w->self, ref, &error);
	if (rec == NULL)
		return finish(error);
	print_json(rec);
	return ICS_ADMIN_EXIT_OK;
}

static int cmd_power(IcsAdmin *adm, IcsAdminVmMode mode, int argc, char **argv,
		     IcsAdminVmAction action)
{
	g_auto(IcsAdminVmArgs) a = { 0 };
	g_auto(VmWay) w = { 0 };
	g_autoptr(GError) error = NULL;
	IcsAdminVmPower p = { .action = action };
	gboolean ok, wait_flag = FALSE;
	GOptionEntry extra[] = {
		{ "no-wait", 0, 0, G_OPTION_ARG_NONE, &a.no_wait, "Return once it is requested",
		  NULL },
		{ "wait", 0, 0, G_OPTION_ARG_NONE, &wait_flag, "Wait until done (the default)",
		  NULL },
		{ "timeout", 0, 0, G_OPTION_ARG_INT, &a.timeout, "Seconds to wait (default 600)",
		  "S" },
		{ action == ICS_ADMIN_VM_STOP ? "force" : NULL, 0, 0, G_OPTION_ARG_NONE, &p.force,
		  "Power off without a guest shutdown", NULL },
		{ action == ICS_ADMIN_VM_MIGRATE ? "keep-constraint" : NULL, 0, 0,
		  G_OPTION_ARG_NONE, &p.keep_constraint,
		  "Keep the move constraint afterwards (--direct)", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	static const char *const summaries[] = {
		[ICS_ADMIN_VM_START] = "Start a VM and wait until it runs.",
		[ICS_ADMIN_VM_STOP] = "Stop a VM (ACPI shutdown) and wait until it is stopped.",
		[ICS_ADMIN_VM_REBOOT] = "Reboot a running VM's guest (ACPI).",
		[ICS_ADMIN_VM_MIGRATE] = "Live-migrate a VM to NODE and wait until it runs there.",
	};

	if (!parse(&argc, &argv, &a,
		   action == ICS_ADMIN_VM_MIGRATE ? "UUID|NAME NODE" : "UUID|NAME",
		   summaries[action], extra, action == ICS_ADMIN_VM_MIGRATE ? 2 : 1, &error) ||
	    !way_choose(&w, adm, &a, mode, &error))
		return finish(error);
	if (wait_flag && a.no_wait) {
		ics_error_invalid(&error, "vm %s: --wait and --no-wait exclude each other",
				  argv[0]);
		return finish(error);
	}
	p.node = action == ICS_ADMIN_VM_MIGRATE ? argv[2] : NULL;
	p.wait_s = wait_of(&a);
	ok = w.ops->power(w.self, argv[1], &p, &error);
	if (!ok && way_fall_back(&w, &error))
		ok = w.ops->power(w.self, argv[1], &p, &error);
	if (!ok)
		return finish(error);
	return a.no_wait ? ICS_ADMIN_EXIT_OK : print_after(&w, &a, argv[1]);
}

static int cmd_delete(IcsAdmin *adm, IcsAdminVmMode mode, int argc, char **argv)
{
	g_auto(IcsAdminVmArgs) a = { 0 };
	g_auto(VmWay) w = { 0 };
	g_autoptr(GError) error = NULL;
	gboolean force = FALSE, ok;
	GOptionEntry extra[] = {
		{ "force", 0, 0, G_OPTION_ARG_NONE, &force, "Stop it first when it runs", NULL },
		{ "timeout", 0, 0, G_OPTION_ARG_INT, &a.timeout,
		  "Seconds to wait for the stop (default 600)", "S" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!parse(&argc, &argv, &a, "UUID|NAME", "Remove a VM from the cluster and its pool.",
		   extra, 1, &error) ||
	    !way_choose(&w, adm, &a, mode, &error))
		return finish(error);
	ok = w.ops->remove(w.self, argv[1], force, wait_of(&a), &error);
	if (!ok && way_fall_back(&w, &error))
		ok = w.ops->remove(w.self, argv[1], force, wait_of(&a), &error);
	return finish(ok ? NULL : error);
}

static int cmd_console(IcsAdmin *adm, IcsAdminVmMode mode, int argc, char **argv)
{
	g_auto(IcsAdminVmArgs) a = { 0 };
	g_auto(VmWay) w = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(json_t) out = NULL;
	json_t *dev;
	size_t i;

	if (!parse(&argc, &argv, &a, "UUID|NAME", "Show how to reach a running VM's console.", NULL,
		   1, &error) ||
	    !way_choose(&w, adm, &a, mode, &error))
		return finish(error);
	out = w.ops->console(w.self, argv[1], &error);
	if (out == NULL && way_fall_back(&w, &error))
		out = w.ops->console(w.self, argv[1], &error);
	if (out == NULL)
		return finish(error);
	if (a.json) {
		print_json(out);
		return ICS_ADMIN_EXIT_OK;
	}
	printf("host:        %s\n", str_or(out, "host", "-"));
	json_array_foreach(json_object_get(out, "serial"), i, dev)
		printf("serial %s:    %s %s\n", str_or(dev, "port", "?"), str_or(dev, "type", "?"),
		       str_or(dev, "path", ""));
	json_array_foreach(json_object_get(out, "graphics"), i, dev)
		printf("graphics:    %s port %s listen %s\n", str_or(dev, "type", "?"),
		       str_or(dev, "port", "-"), str_or(dev, "listen", "-"));
	if (json_array_size(json_object_get(out, "serial")) > 0)
		printf("connect:     virsh -c %s console %s   (on %s)\n",
		       str_or(out, "libvirt_uri", "?"), str_or(out, "uuid", "?"),
		       str_or(out, "host", "?"));
	return ICS_ADMIN_EXIT_OK;
}

static void vm_usage(FILE *f)
{
	fprintf(f, "usage: ics-admin vm COMMAND [OPTIONS]\n"
		   "  list [--pool NAME|PATH] [--limit N]\n"
		   "  show UUID|NAME\n"
		   "  create|define --name NAME --vcpus N --memory MIB [--pool NAME|PATH]\n"
		   "        [--disk SPEC]... [--kernel PATH ...] [--owner USER] [--start] [...]\n"
		   "  delete UUID|NAME [--force]\n"
		   "  start|stop|reboot UUID|NAME [--no-wait] [--timeout S] (stop: [--force])\n"
		   "  migrate UUID|NAME NODE [--no-wait] [--timeout S]\n"
		   "  console UUID|NAME\n"
		   "Through the manager when one is configured (ICS_URL, admin.conf, a login);\n"
		   "--direct acts on this node's cluster instead.  Every command takes --json,\n"
		   "--url URL, --ca FILE, --config FILE, --direct.\n"
		   "'ics-admin vm COMMAND --help' shows a command's options; see ics-admin(8).\n");
}

int ics_admin_vm_run(IcsAdmin *adm, IcsAdminVmMode mode, int argc, char **argv)
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
	if (strcmp(cmd, "define") == 0 || strcmp(cmd, "create") == 0)
		return cmd_define(adm, mode, argc, argv);
	if (strcmp(cmd, "delete") == 0)
		return cmd_delete(adm, mode, argc, argv);
	if (strcmp(cmd, "undefine") == 0) {
		g_printerr("ics-admin: 'vm undefine' is deprecated and will go: use 'vm delete'\n");
		return cmd_delete(adm, mode, argc, argv);
	}
	if (strcmp(cmd, "start") == 0)
		return cmd_power(adm, mode, argc, argv, ICS_ADMIN_VM_START);
	if (strcmp(cmd, "stop") == 0)
		return cmd_power(adm, mode, argc, argv, ICS_ADMIN_VM_STOP);
	if (strcmp(cmd, "reboot") == 0)
		return cmd_power(adm, mode, argc, argv, ICS_ADMIN_VM_REBOOT);
	if (strcmp(cmd, "migrate") == 0)
		return cmd_power(adm, mode, argc, argv, ICS_ADMIN_VM_MIGRATE);
	if (strcmp(cmd, "list") == 0)
		return cmd_list(adm, mode, argc, argv);
	if (strcmp(cmd, "show") == 0)
		return cmd_show(adm, mode, argc, argv);
	if (strcmp(cmd, "console") == 0)
		return cmd_console(adm, mode, argc, argv);
	g_printerr("ics-admin: vm: unknown command \"%s\"\n", cmd);
	vm_usage(stderr);
	return ICS_ADMIN_EXIT_USAGE;
}

int ics_admin_vm_main(IcsAdmin *adm, int argc, char **argv)
{
	return ics_admin_vm_run(adm, ICS_ADMIN_VM_AUTO, argc, argv);
}
