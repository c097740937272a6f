/*
 * manager_cmd.c: the `ics-admin manager` group -- the manager as a cluster
 * resource (setup, status, move: manager_ha_cmd.c; cert: manager_cert.c),
 * run on a cluster node.
 *
 * `manager vm ...` was the way to VMs through the manager before `ics-admin
 * vm` learnt to go through it; it stays for one release as a deprecated
 * alias of `ics-admin vm ...` that always goes through the manager.
 */
#include "config.h"

#include "api_cmd.h"

#include "manager_ha.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ics-admin manager setup|status|move|cert [OPTIONS]   (on a cluster node)\n"
		"  setup --backend shared --pool NAME --vip ADDR/PREFIX [--nodes N1,N2] [--port "
		"P]\n"
		"  setup --backend drbd --nodes N1,N2 --drbd-addresses A1,A2 --device DEV\n"
		"        --quorum-disk PATH --vip ADDR/PREFIX [--drbd-resource R] [--dry-run]\n"
		"  status [--json]\n"
		"  move [NODE] [--timeout S] [--keep-constraint]\n"
		"  cert install --cert FILE --key FILE [--chain FILE] [--no-restart]\n"
		"  cert show [--json]\n"
		"VMs: 'ics-admin vm ...' (through the manager when one is configured).\n"
		"See ics-admin(8).\n");
}

int ics_admin_manager_main(int argc, char **argv)
{
	if (argc < 2 || g_str_equal(argv[1], "--help") || g_str_equal(argv[1], "-h") ||
	    g_str_equal(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? ICS_ADMIN_EXIT_USAGE : ICS_ADMIN_EXIT_OK;
	}
	if (ics_admin_manager_ha_command(argv[1]))
		return ics_admin_manager_ha_main(argc - 1, argv + 1);
	if (g_str_equal(argv[1], "vm")) {
		IcsAdmin adm = { 0 };

		g_printerr("ics-admin: 'manager vm' is deprecated and will go: use 'ics-admin vm' "
			   "(through the manager when one is configured)\n");
		return ics_admin_vm_run(&adm, ICS_ADMIN_VM_MANAGER, argc - 1, argv + 1);
	}
	g_printerr("ics-admin: manager: unknown command \"%s\" (setup, status, move or cert)\n",
		   argv[1]);
	return ICS_ADMIN_EXIT_USAGE;
}
