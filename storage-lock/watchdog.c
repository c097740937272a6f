/*
 * watchdog.c: whether the local sanlock daemon runs with a watchdog.
 *
 * Everything that declares a host dead from its disk heartbeat alone --
 * sanlock's own expiry, ICS's storage fencing -- rests on the watchdog:
 * a host that stops renewing is reset by wdmd before its delta lease
 * expires, even when its sanlock daemon hangs.  Without one (`sanlock
 * daemon -w 0`, as in the lab, which has no watchdog device) a host whose
 * daemon froze keeps running its VMs.  libsanlock has no call that returns
 * the daemon's settings as data; `sanlock client status -D` prints them:
 * a "daemon <name>" line followed by indented "key=value" lines (then the
 * clients "p ...", lockspaces "s ..." and resources "r ..." with their own
 * indented keys).  use_watchdog is read from the daemon's block only, by a
 * pure parser that is tested on the real output of sanlock 3.8.5.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/exec.h"
#include "lock_internal.h"

gboolean ics_sanlock_watchdog_parse(const char *status_d, gboolean *on, GError **error)
{
	g_auto(GStrv) lines = g_strsplit(status_d ? status_d : "", "\n", -1);
	gboolean in_daemon = FALSE;

	*on = FALSE;
	for (char **l = lines; *l; l++) {
		const char *s = *l;

		if (*s != ' ' && *s != '\t') { /* a new block */
			in_daemon = g_str_has_prefix(s, "daemon ");
			continue;
		}
		if (!in_daemon)
			continue;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!g_str_has_prefix(s, "use_watchdog="))
			continue;
		s += strlen("use_watchdog=");
		if (strcmp(s, "0") == 0 || strcmp(s, "1") == 0) {
			*on = s[0] == '1';
			return TRUE;
		}
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
			    "the local sanlock daemon reports use_watchdog=%s in 'sanlock client "
			    "status -D', neither 0 nor 1",
			    s);
		return FALSE;
	}
	g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
		    "the local sanlock daemon did not report use_watchdog in 'sanlock client "
		    "status -D'; is it sanlock 3.x?");
	return FALSE;
}

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
	return ics_sanlock_watchdog_parse(out, on, error);
}
