/*
 * ics-admin.c: the operator's command-line tool -- main and command groups.
 *
 * A thin main: it picks the command group and hands over.  Until the
 * manager exists the `vm` group acts on the pool definitions and the CIB
 * directly (vm_backend.h); later groups and the REST backend plug in here
 * without changing what the commands look like.  See ics-admin(8).
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "ics/log.h"
#include "vm_cmd.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: ics-admin [--version] GROUP COMMAND [OPTIONS]\n"
		   "groups:\n"
		   "  vm     define, undefine, start, stop, migrate, list, show VMs\n"
		   "'ics-admin vm --help' lists the vm commands; see ics-admin(8).\n");
}

int main(int argc, char **argv)
{
	IcsAdmin adm = { 0 };

	setlocale(LC_ALL, "");
	ics_log_init("ics-admin", ICS_LOG_STDERR, ICS_LOG_WARNING);
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
	if (strcmp(argv[1], "vm") == 0)
		return ics_admin_vm_main(&adm, argc - 1, argv + 1);
	fprintf(stderr, "ics-admin: unknown command group \"%s\"\n", argv[1]);
	usage(stderr);
	return ICS_ADMIN_EXIT_USAGE;
}
