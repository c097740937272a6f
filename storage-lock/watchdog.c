/*
 * watchdog.c: whether the local sanlock daemon runs with a watchdog.
 *
 * Everything that declares a host dead from its disk heartbeat alone --
 * sanlock's own expiry, ICS's storage fencing -- rests on the watchdog:
 * a host that stops renewing is reset by wdmd before its delta lease
 * expires, even when its sanlock daemon hangs.  Without one (`sanlock
 * daemon -w 0`, as in the lab, which has no watchdog device) a host whose
 * daemon froze keeps running its VMs.  libsanlock has no call that returns
 * the daemon's settings as data; `sanlock client status -D` prints them
 * ("use_watchdog=0|1" under the "daemon" line), so that one key is read
 * from it.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/exec.h"
#include "lock_internal.h"

gboolean ics_sanlock_watchdog(gboolean *on, GError **error)
{
	const char *argv[] = { "sanlock", "client", "status", "-D", NULL };
	g_autofree char *out = NULL;

	*on = FALSE;
	if (!ics_exec_simple(argv, 10000, &out, error)) {
		ics_error_prefix(error, "cannot ask the local sanlock daemon whether it uses a "
					"watchdog: ");
		return FALSE;
	}
	g_auto(GStrv) lines = g_strsplit(out ? out : "", "\n", -1);
	for (char **l = lines; *l; l++) {
		const char *s = g_strstrip(*l);

		if (g_str_has_prefix(s, "use_watchdog=")) {
			*on = strcmp(s + strlen("use_watchdog="), "0") != 0;
			return TRUE;
		}
	}
	g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
		    "the local sanlock daemon did not report use_watchdog in 'sanlock client "
		    "status -D'; is it sanlock 3.x?");
	return FALSE;
}
