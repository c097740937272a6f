/*
 * ics/log.h: the one logging facility of ICS programs.
 *
 * A program calls ics_log_init() once with its name, a destination and a
 * threshold; afterwards ics_log() writes one line per call.  Messages below
 * the threshold cost one comparison.  The environment variable
 * ICS_LOG_LEVEL (error, warning, notice, info, debug) overrides the level
 * given by the program, so an operator can raise verbosity of an agent run
 * by Pacemaker without changing its configuration.
 */
#ifndef ICS_LOG_H
#define ICS_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include <glib.h>

/* Ordered from most to least severe; values match syslog priorities. */
typedef enum {
	ICS_LOG_ERROR = 3,
	ICS_LOG_WARNING = 4,
	ICS_LOG_NOTICE = 5,
	ICS_LOG_INFO = 6,
	ICS_LOG_DEBUG = 7,
} IcsLogLevel;

typedef enum {
	ICS_LOG_STDERR,
	ICS_LOG_SYSLOG,
} IcsLogDest;

/*
 * Set the program name (used as prefix or syslog ident; copied), the
 * destination and the threshold.  ICS_LOG_LEVEL, when set to a valid level
 * name, wins over @level.  May be called again to reconfigure.
 */
void ics_log_init(const char *progname, IcsLogDest dest, IcsLogLevel level);

/* Current threshold, program name. */
IcsLogLevel ics_log_get_level(void);
const char *ics_log_progname(void);

/* Would a message at @level be written? */
bool ics_log_enabled(IcsLogLevel level);

/* Parse a level name ("error", "warning"/"warn", "notice", "info", "debug") or
 * a syslog number 3..7.  Returns false and leaves @out alone if invalid. */
bool ics_log_level_parse(const char *name, IcsLogLevel *out);
const char *ics_log_level_name(IcsLogLevel level);

void ics_log(IcsLogLevel level, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void ics_logv(IcsLogLevel level, const char *fmt, va_list ap) G_GNUC_PRINTF(2, 0);

#define ics_error(...) ics_log(ICS_LOG_ERROR, __VA_ARGS__)
#define ics_warning(...) ics_log(ICS_LOG_WARNING, __VA_ARGS__)
#define ics_notice(...) ics_log(ICS_LOG_NOTICE, __VA_ARGS__)
#define ics_info(...) ics_log(ICS_LOG_INFO, __VA_ARGS__)
#define ics_debug(...) ics_log(ICS_LOG_DEBUG, __VA_ARGS__)

#endif /* ICS_LOG_H */
