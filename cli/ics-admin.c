/*
 * ics-admin.c: the operator's command-line tool -- main.
 *
 * A thin main: process-wide setup (locale, log, libcurl), then the command
 * groups (command_groups.c).  `vm` acts on the pool definitions and the
 * CIB directly (vm_backend.h); the other groups are a client of
 * ics-managerd's REST API (api_cmd.h).  See ics-admin(8).
 */
#include "config.h"

#include <locale.h>

#include <curl/curl.h>

#include "api_cmd.h"
#include "ics/log.h"

int main(int argc, char **argv)
{
	int rc;

	setlocale(LC_ALL, "");
	ics_log_init("ics-admin", ICS_LOG_STDERR, ICS_LOG_WARNING);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "ics-admin: cannot initialise libcurl\n");
		return ICS_ADMIN_EXIT_ERROR;
	}
	rc = ics_admin_main(argc, argv);
	curl_global_cleanup();
	return rc;
}
