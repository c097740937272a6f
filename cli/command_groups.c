/*
 * command_groups.c: ics-admin's command groups and which file runs each.
 *
 * `vm` (vm_cmd.c) goes through ics-managerd when one is configured and
 * directly to this node's cluster otherwise or with --direct: the same
 * commands, columns and JSON either way.  `manager` (manager_cmd.c) makes
 * and moves the manager as a cluster resource, on a cluster node.  Every
 * other group talks to the manager's REST API (api_cmd.h).
 */
#include "config.h"

#include "api_cmd.h"

#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: ics-admin [--version] GROUP COMMAND [OPTIONS]\n"
		   "  vm       list, show, create, delete, start, stop, reboot, migrate,\n"
		   "           console VMs: through the manager when one is configured,\n"
		   "           else (or with --direct) on this node's cluster\n"
		   "through ics-managerd (REST API):\n"
		   "  login    log in and keep the session; logout ends it; whoami\n"
		   "  user     list, show, create, delete, passwd, set-roles, second-factor,\n"
		   "           reset-totp\n"
		   "  role     list, show, create, delete, second-factor\n"
		   "  apikey   list, create, delete access keys\n"
		   "  account  totp: your own second factor (enroll, confirm, disable...)\n"
		   "  directory list, show, create, update, delete, sync, test LDAP domains\n"
		   "  audit    list, export the audit trail\n"
		   "  task     list, show, cancel, wait\n"
		   "  events   follow the manager's events\n"
		   "  drs      plan, apply, history, config of DRS (load balancing)\n"
		   "  volume   list, show, create, resize, delete volumes on pools\n"
		   "  backup   repositories (repo list, add, remove), a VM's backups (list),\n"
		   "           back up a VM (run)\n"
		   "on a cluster node, the manager as a cluster resource (CIB):\n"
		   "  manager  manager setup|status|move|cert\n"
		   "'ics-admin GROUP --help' lists a group's commands; see ics-admin(8).\n");
}

int ics_admin_main(int argc, char **argv)
{
	static const IcsAdminCommand groups[] = {
		{ "login", ics_admin_login_main },
		{ "logout", ics_admin_logout_main },
		{ "whoami", ics_admin_whoami_main },
		{ "manager", ics_admin_manager_main },
		{ "user", ics_admin_user_main },
		{ "role", ics_admin_role_main },
		{ "apikey", ics_admin_apikey_main },
		{ "account", ics_admin_account_main },
		{ "directory", ics_admin_directory_main },
		{ "audit", ics_admin_audit_main },
		{ "task", ics_admin_task_main },
		{ "events", ics_admin_events_main },
		{ "drs", ics_admin_drs_main },
		{ "volume", ics_admin_volume_main },
		{ "backup", ics_admin_backup_main },
		{ NULL, NULL },
	};

	if (argc < 2) {
		usage(stderr);
		return ICS_ADMIN_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return ICS_ADMIN_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("ics-admin %s\n", PACKAGE_VERSION);
		return ICS_ADMIN_EXIT_OK;
	}
	if (strcmp(argv[1], "vm") == 0) {
		IcsAdmin adm = { 0 };

		return ics_admin_vm_main(&adm, argc - 1, argv + 1);
	}
	for (const IcsAdminCommand *g = groups; g->name; g++)
		if (strcmp(argv[1], g->name) == 0)
			return g->run(argc - 1, argv + 1);
	fprintf(stderr, "ics-admin: unknown command group \"%s\"\n", argv[1]);
	usage(stderr);
	return ICS_ADMIN_EXIT_USAGE;
}
