/*
 * log.c: leveled logging to stderr or syslog.
 *
 * Deliberately small: one process-wide configuration (programs are
 * single-purpose and short-lived, agents run once per action), one line per
 * message, formatted in a single write so concurrent writers on the same
 * stderr do not interleave within a line.  Stderr lines read
 * "progname: level: message"; syslog gets the message with the level as
 * priority and the program name as ident.  Nothing here allocates after
 * ics_log_init() except the formatted message itself.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "ics/log.h"

static struct {
	char progname[64];
	IcsLogDest dest;
	IcsLogLevel level;
	bool syslog_open;
} state = {
	.progname = "ics",
	.dest = ICS_LOG_STDERR,
	.level = ICS_LOG_NOTICE,
};

static const char *const level_names[] = {
	[ICS_LOG_ERROR] = "error", [ICS_LOG_WARNING] = "warning", [ICS_LOG_NOTICE] = "notice",
	[ICS_LOG_INFO] = "info",   [ICS_LOG_DEBUG] = "debug",
};

const char *ics_log_level_name(IcsLogLevel level)
{
	if (level < ICS_LOG_ERROR || level > ICS_LOG_DEBUG)
		return "unknown";
	return level_names[level];
}

bool ics_log_level_parse(const char *name, IcsLogLevel *out)
{
	if (name == NULL)
		return false;
	for (int l = ICS_LOG_ERROR; l <= ICS_LOG_DEBUG; l++) {
		if (g_ascii_strcasecmp(name, level_names[l]) == 0) {
			*out = (IcsLogLevel)l;
			return true;
		}
	}
	if (g_ascii_strcasecmp(name, "warn") == 0 || g_ascii_strcasecmp(name, "err") == 0) {
		*out = name[0] == 'w' || name[0] == 'W' ? ICS_LOG_WARNING : ICS_LOG_ERROR;
		return true;
	}
	if (name[0] >= '3' && name[0] <= '7' && name[1] == '\0') {
		*out = (IcsLogLevel)(name[0] - '0');
		return true;
	}
	return false;
}

void ics_log_init(const char *progname, IcsLogDest dest, IcsLogLevel level)
{
	IcsLogLevel env_level;

	if (progname != NULL) {
		const char *base = strrchr(progname, '/');

		g_strlcpy(state.progname, base != NULL ? base + 1 : progname,
			  sizeof(state.progname));
	}
	if (level < ICS_LOG_ERROR)
		level = ICS_LOG_ERROR;
	if (level > ICS_LOG_DEBUG)
		level = ICS_LOG_DEBUG;
	state.level = level;
	if (ics_log_level_parse(g_getenv("ICS_LOG_LEVEL"), &env_level))
		state.level = env_level;

	if (state.syslog_open && dest != ICS_LOG_SYSLOG) {
		closelog();
		state.syslog_open = false;
	}
	state.dest = dest;
	if (dest == ICS_LOG_SYSLOG) {
		/* openlog keeps the pointer: state.progname lives forever. */
		openlog(state.progname, LOG_PID, LOG_DAEMON);
		state.syslog_open = true;
	}
}

IcsLogLevel ics_log_get_level(void)
{
	return state.level;
}

const char *ics_log_progname(void)
{
	return state.progname;
}

bool ics_log_enabled(IcsLogLevel level)
{
	return level <= state.level;
}

void ics_logv(IcsLogLevel level, const char *fmt, va_list ap)
{
	g_autofree char *msg = NULL;
	g_autofree char *line = NULL;

	if (!ics_log_enabled(level))
		return;
	msg = g_strdup_vprintf(fmt, ap);
	if (state.dest == ICS_LOG_SYSLOG) {
		syslog((int)level, "%s", msg);
		return;
	}
	line = g_strdup_printf("%s: %s: %s\n", state.progname, ics_log_level_name(level), msg);
	fputs(line, stderr);
	fflush(stderr);
}

void ics_log(IcsLogLevel level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ics_logv(level, fmt, ap);
	va_end(ap);
}
