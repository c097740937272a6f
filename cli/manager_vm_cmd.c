/*
 * manager_vm_cmd.c: `ics-admin manager vm ...` -- VMs through ics-managerd.
 *
 * A separate verb from `ics-admin vm`, which acts directly on the pools
 * and the CIB (vm_cmd.c, used by the cluster tests and on nodes without a
 * manager): the two differ in model (inventory with owners and tasks vs
 * pool, lease slot and primitive), in options and in what can fail, and a
 * command whose backend changed with the presence of a config file would
 * surprise scripts.  Here the manager decides everything: validation,
 * ownership, placement; this file only maps argv to requests.
 *
 * A VM is named by uuid or by name; a name is looked up in the (paged)
 * list the caller may see.  Power operations are tasks: waited for with
 * progress unless --no-wait.
 */
#include "config.h"

#include "api_cmd.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"
#include "manager_ha.h"

/* The uuid of the VM @ref (a uuid or a name) names. */
static char *resolve(IcsRest *rest, const char *ref, GError **error)
{
	g_autoptr(json_t) all = NULL;
	char *found = NULL;
	json_t *vm;
	size_t i;

	if (g_uuid_string_is_valid(ref))
		return g_ascii_strdown(ref, -1);
	all = ics_admin_list_pages(rest, "/api/v1/vms", NULL, "after", 0, error);
	if (all == NULL)
		return NULL;
	json_array_foreach(json_object_get(all, "items"), i, vm)
	{
		if (g_strcmp0(ics_admin_str(vm, "name", NULL), ref) != 0)
			continue;
		if (found) {
			g_free(found);
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "more than one VM is named \"%s\"; give its uuid", ref);
			return NULL;
		}
		found = g_strdup(ics_admin_str(vm, "uuid", ""));
	}
	if (found == NULL)
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "VM \"%s\" does not exist (or is not yours)", ref);
	return found;
}

static char *memory_text(const json_t *obj)
{
	json_t *m = json_object_get(obj, "memory_mib");

	return json_is_integer(m)
		       ? g_strdup_printf("%" JSON_INTEGER_FORMAT "M", json_integer_value(m))
		       : g_strdup("-");
}

static char *int_text(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? g_strdup_printf("%" JSON_INTEGER_FORMAT, json_integer_value(v))
				  : g_strdup("-");
}

static int cmd_list(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) all = NULL;
	g_autoptr(GPtrArray) t = NULL;
	gint limit = 0;
	json_t *vm;
	size_t i;
	GOptionEntry extra[] = {
		{ "limit", 0, 0, G_OPTION_ARG_INT, &limit, "At most N VMs (default: all)", "N" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(&argc, &argv, &c, "", "List the VMs (in uuid order).", extra, 0, 0,
			     &error) ||
	    (rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (all = ics_admin_list_pages(rest, "/api/v1/vms", NULL, "after", MAX(limit, 0),
					&error)) == NULL)
		return ics_admin_finish(error);
	if (c.json) {
		ics_admin_print_json(all);
		return ICS_ADMIN_EXIT_OK;
	}
	t = ics_admin_table_new("NAME", "UUID", "OWNER", "VCPUS", "MEMORY", NULL);
	json_array_foreach(json_object_get(all, "items"), i, vm)
	{
		g_autofree char *vcpus = int_text(vm, "vcpus"), *mem = memory_text(vm);

		ics_admin_table_add(t, ics_admin_str(vm, "name", "?"),
				    ics_admin_str(vm, "uuid", "?"), ics_admin_str(vm, "owner", "-"),
				    vcpus, mem, NULL);
	}
	ics_admin_table_print(t);
	return ICS_ADMIN_EXIT_OK;
}

static void print_vm(const json_t *vm)
{
	json_t *rt = json_object_get(vm, "runtime");
	json_t *def = json_object_get(vm, "definition");
	g_autofree char *vcpus = int_text(vm, "vcpus"), *mem = memory_text(vm);
	json_t *disks = json_object_get(def, "disks"), *d;
	size_t i;

	printf("name:         %s\n", ics_admin_str(vm, "name", "?"));
	printf("uuid:         %s\n", ics_admin_str(vm, "uuid", "?"));
	printf("owner:        %s\n", ics_admin_str(vm, "owner", "-"));
	printf("state:        %s\n", rt ? ics_admin_str(rt, "state", "?") : "- (no cluster)");
	printf("host:         %s\n", rt ? ics_admin_str(rt, "host", "-") : "-");
	printf("vcpus:        %s\n", vcpus);
	printf("memory:       %s\n", mem);
	printf("virt type:    %s\n", ics_admin_str(def, "virt_type", "-"));
	printf("crash policy: %s\n", ics_admin_str(def, "crash_policy", "-"));
	json_array_foreach(disks, i, d)
		printf("disk %-7zu %s (%s, %s)\n", i, ics_admin_str(d, "path", "?"),
		       ics_admin_str(d, "format", "-"), ics_admin_str(d, "bus", "-"));
	printf("created:      %s\n", ics_admin_str(vm, "created_at", "?"));
	printf("updated:      %s\n", ics_admin_str(vm, "updated_at", "?"));
}

static int cmd_show(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) vm = NULL;
	g_autofree char *uuid = NULL, *path = NULL;

	if (!ics_admin_parse(&argc, &argv, &c, "UUID|NAME", "Show one VM with its definition.",
			     NULL, 1, 1, &error) ||
	    (rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (uuid = resolve(rest, argv[1], &error)) == NULL)
		return ics_admin_finish(error);
	path = g_strconcat("/api/v1/vms/", uuid, NULL);
	vm = ics_rest_call(rest, "GET", path, NULL, NULL, &error);
	if (vm == NULL)
		return ics_admin_finish(error);
	if (c.json)
		ics_admin_print_json(vm);
	else
		print_vm(vm);
	return ICS_ADMIN_EXIT_OK;
}

static int cmd_create(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) def = NULL, body = NULL, vm = NULL;
	g_autofree char *name = NULL, *from_json = NULL, *owner = NULL, *virt_type = NULL;
	g_autofree char *crash = NULL, *uuid = NULL;
	gint vcpus = -1;
	gint64 memory = -1;
	GOptionEntry extra[] = {
		{ "name", 0, 0, G_OPTION_ARG_STRING, &name, "VM name", "NAME" },
		{ "vcpus", 0, 0, G_OPTION_ARG_INT, &vcpus, "Virtual CPUs", "N" },
		{ "memory", 0, 0, G_OPTION_ARG_INT64, &memory, "Memory in MiB", "MIB" },
		{ "virt-type", 0, 0, G_OPTION_ARG_STRING, &virt_type, "kvm or qemu (TCG)", "TYPE" },
		{ "crash-policy", 0, 0, G_OPTION_ARG_STRING, &crash,
		  "ha, restart, poweroff or none", "POLICY" },
		{ "uuid", 0, 0, G_OPTION_ARG_STRING, &uuid,
		  "The VM's uuid (default: the manager's)", "UUID" },
		{ "owner", 0, 0, G_OPTION_ARG_STRING, &owner, "Owner (default: you)", "USER" },
		{ "from-json", 0, 0, G_OPTION_ARG_FILENAME, &from_json,
		  "Start from this definition (vm.json; options override its members)", "FILE" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(&argc, &argv, &c, "", "Define a VM in the manager's inventory.", extra,
			     0, 0, &error))
		return ics_admin_finish(error);
	if (from_json) {
		def = ics_json_load_file(from_json, &error);
		if (def == NULL || !ics_json_require_object(def, from_json, &error))
			return ics_admin_finish(error);
	} else {
		if (name == NULL || vcpus < 0 || memory < 0) {
			ics_error_invalid(&error,
					  "manager vm create: --name, --vcpus and --memory are "
					  "required (or --from-json)");
			return ics_admin_finish(error);
		}
		def = json_object();
	}
	ics_admin_def_apply(def, &(IcsAdminDefOptions){ name, virt_type, crash, uuid, vcpus,
							 memory });
	body = json_pack("{s:O}", "definition", def);
	if (owner)
		json_object_set_new(body, "owner", json_string(owner));
	if ((rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (vm = ics_rest_call(rest, "POST", "/api/v1/vms", NULL, body, &error)) == NULL)
		return ics_admin_finish(error);
	if (c.json)
		ics_admin_print_json(vm);
	else
		printf("%s\n", ics_admin_str(vm, "uuid", "?"));
	return ICS_ADMIN_EXIT_OK;
}

static int cmd_delete(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) r = NULL;
	g_autofree char *uuid = NULL, *path = NULL;

	if (!ics_admin_parse(&argc, &argv, &c, "UUID|NAME", "Delete a VM.", NULL, 1, 1, &error) ||
	    (rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (uuid = resolve(rest, argv[1], &error)) == NULL)
		return ics_admin_finish(error);
	path = g_strconcat("/api/v1/vms/", uuid, NULL);
	r = ics_rest_call(rest, "DELETE", path, NULL, NULL, &error);
	return ics_admin_finish(error);
}

typedef enum { OP_START, OP_STOP, OP_MIGRATE, OP_REBOOT } PowerOp;

static int cmd_power(int argc, char **argv, PowerOp op)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) task = NULL, body = NULL;
	g_autoptr(GPtrArray) q = ics_rest_query_new();
	g_autofree char *uuid = NULL, *path = NULL;
	gboolean force = FALSE, no_wait = FALSE;
	gint timeout = ICS_ADMIN_DEFAULT_TASK_WAIT_S;
	static const char *const verbs[] = { "start", "stop", "migrate", "reboot" };
	GOptionEntry extra[] = {
		{ "no-wait", 0, 0, G_OPTION_ARG_NONE, &no_wait, "Print the task id and return",
		  NULL },
		{ "timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "Seconds to wait for the task (600)",
		  "S" },
		{ op == OP_STOP ? "force" : NULL, 0, 0, G_OPTION_ARG_NONE, &force,
		  "Power off without a guest shutdown", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	if (!ics_admin_parse(&argc, &argv, &c, op == OP_MIGRATE ? "UUID|NAME HOST" : "UUID|NAME",
			     op == OP_START	? "Start a VM (a task)."
			     : op == OP_STOP	? "Stop a VM (a task)."
			     : op == OP_REBOOT	? "Reboot a running VM's guest (ACPI; a task)."
						: "Live-migrate a VM to HOST (a task).",
			     extra, op == OP_MIGRATE ? 2 : 1, op == OP_MIGRATE ? 2 : 1, &error))
		return ics_admin_finish(error);
	if (timeout <= 0) {
		ics_error_invalid(&error, "%s: --timeout must be positive", argv[0]);
		return ics_admin_finish(error);
	}
	if ((rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (uuid = resolve(rest, argv[1], &error)) == NULL)
		return ics_admin_finish(error);
	path = g_strdup_printf("/api/v1/vms/%s/%s", uuid, verbs[op]);
	if (force)
		ics_rest_query_add(q, "force", "true");
	if (op == OP_MIGRATE)
		body = json_pack("{s:s}", "target_host", argv[2]);
	task = ics_rest_call(rest, "POST", path, q, body, &error);
	if (task == NULL)
		return ics_admin_finish(error);
	return ics_admin_task_follow(rest, task, no_wait, c.json, (guint)timeout);
}

/* Where the VM's console is: host, libvirt URI, serial ports, graphics. */
static int cmd_console(int argc, char **argv)
{
	g_auto(IcsAdminCommon) c = { 0 };
	g_autoptr(GError) error = NULL;
	g_autoptr(IcsRest) rest = NULL;
	g_autoptr(json_t) out = NULL;
	g_autofree char *uuid = NULL, *path = NULL;
	json_t *dev;
	size_t i;

	if (!ics_admin_parse(&argc, &argv, &c, "UUID|NAME",
			     "Show how to reach a running VM's console.", NULL, 1, 1, &error) ||
	    (rest = ics_admin_connect(&c, TRUE, &error)) == NULL ||
	    (uuid = resolve(rest, argv[1], &error)) == NULL)
		return ics_admin_finish(error);
	path = g_strdup_printf("/api/v1/vms/%s/console", uuid);
	out = ics_rest_call(rest, "GET", path, NULL, NULL, &error);
	if (out == NULL)
		return ics_admin_finish(error);
	if (c.json) {
		ics_admin_print_json(out);
		return ICS_ADMIN_EXIT_OK;
	}
	printf("host:        %s\n", ics_admin_str(out, "host", "-"));
	json_array_foreach(json_object_get(out, "serial"), i, dev)
		printf("serial %s:    %s %s\n", ics_admin_str(dev, "port", "?"),
		       ics_admin_str(dev, "type", "?"), ics_admin_str(dev, "path", ""));
	json_array_foreach(json_object_get(out, "graphics"), i, dev)
		printf("graphics:    %s port %s listen %s\n", ics_admin_str(dev, "type", "?"),
		       ics_admin_str(dev, "port", "-"), ics_admin_str(dev, "listen", "-"));
	if (json_array_size(json_object_get(out, "serial")) > 0)
		printf("connect:     virsh -c %s console %s\n",
		       ics_admin_str(out, "libvirt_uri", "?"), uuid);
	return ICS_ADMIN_EXIT_OK;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ics-admin manager setup|status|move [OPTIONS]   (on a cluster node)\n"
		   "  setup --backend shared --pool NAME --vip ADDR/PREFIX [--nodes N1,N2] [--port P]\n"
		   "  setup --backend drbd --nodes N1,N2 --drbd-addresses A1,A2 --device DEV\n"
		   "        --quorum-disk PATH --vip ADDR/PREFIX [--drbd-resource R] [--dry-run]\n"
		   "  status [--json]\n"
		   "  move [NODE] [--timeout S] [--keep-constraint]\n"
		   "usage: ics-admin manager vm COMMAND [OPTIONS]   (through ics-managerd)\n"
		   "  list [--limit N]\n"
		   "  show UUID|NAME\n"
		   "  create --name NAME --vcpus N --memory MIB [--owner USER] [--from-json FILE]\n"
		   "  delete UUID|NAME\n"
		   "  start UUID|NAME [--no-wait] [--timeout S]\n"
		   "  stop UUID|NAME [--force] [--no-wait] [--timeout S]\n"
		   "  migrate UUID|NAME HOST [--no-wait] [--timeout S]\n"
		   "  reboot UUID|NAME [--no-wait] [--timeout S]\n"
		   "  console UUID|NAME\n"
		   "Every command takes --url URL, --ca FILE, --config FILE and --json; see "
		   "ics-admin(8).\n");
}

int ics_admin_manager_main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2 || g_str_equal(argv[1], "--help") || g_str_equal(argv[1], "-h") ||
	    g_str_equal(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? ICS_ADMIN_EXIT_USAGE : ICS_ADMIN_EXIT_OK;
	}
	if (ics_admin_manager_ha_command(argv[1]))
		return ics_admin_manager_ha_main(argc - 1, argv + 1);
	if (!g_str_equal(argv[1], "vm")) {
		g_printerr("ics-admin: manager: unknown command \"%s\" (setup, status, move or "
			   "vm)\n",
			   argv[1]);
		return ICS_ADMIN_EXIT_USAGE;
	}
	cmd = argc > 2 ? argv[2] : NULL;
	if (cmd == NULL || g_str_equal(cmd, "--help") || g_str_equal(cmd, "-h") ||
	    g_str_equal(cmd, "help")) {
		usage(cmd ? stdout : stderr);
		return cmd ? ICS_ADMIN_EXIT_OK : ICS_ADMIN_EXIT_USAGE;
	}
	argc -= 2;
	argv += 2;
	if (g_str_equal(cmd, "list"))
		return cmd_list(argc, argv);
	if (g_str_equal(cmd, "show"))
		return cmd_show(argc, argv);
	if (g_str_equal(cmd, "create"))
		return cmd_create(argc, argv);
	if (g_str_equal(cmd, "delete"))
		return cmd_delete(argc, argv);
	if (g_str_equal(cmd, "start"))
		return cmd_power(argc, argv, OP_START);
	if (g_str_equal(cmd, "stop"))
		return cmd_power(argc, argv, OP_STOP);
	if (g_str_equal(cmd, "migrate"))
		return cmd_power(argc, argv, OP_MIGRATE);
	if (g_str_equal(cmd, "reboot"))
		return cmd_power(argc, argv, OP_REBOOT);
	if (g_str_equal(cmd, "console"))
		return cmd_console(argc, argv);
	g_printerr("ics-admin: manager vm: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return ICS_ADMIN_EXIT_USAGE;
}
