/*
 * error.c: the ICS_ERROR GError domain.
 *
 * GLib's GError already gives what ICS needs from an error type: a domain,
 * a code to branch on, a message for the operator, and g_autoptr cleanup.
 * This file only registers the domain and adds the two operations used
 * everywhere: prefixing context while passing an error up, and turning an
 * errno into the right code.  Errors from GLib's own domains (G_SPAWN_ERROR,
 * G_FILE_ERROR) are converted at the boundary where they are first seen, so
 * callers only ever test ICS_ERROR codes.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "ics/error.h"

GQuark ics_error_quark(void)
{
	return g_quark_from_static_string("ics-error-quark");
}

static const char *const code_names[] = {
	[ICS_ERROR_INVALID_ARGUMENT] = "invalid-argument",
	[ICS_ERROR_NOT_FOUND] = "not-found",
	[ICS_ERROR_IO] = "io",
	[ICS_ERROR_TIMEOUT] = "timeout",
	[ICS_ERROR_EXEC] = "exec",
	[ICS_ERROR_PARSE] = "parse",
	[ICS_ERROR_BUSY] = "busy",
	[ICS_ERROR_CONFLICT] = "conflict",
	[ICS_ERROR_PERMISSION] = "permission",
	[ICS_ERROR_UNAVAILABLE] = "unavailable",
	[ICS_ERROR_LIMIT] = "limit",
	[ICS_ERROR_UNREACHABLE] = "unreachable",
};

const char *ics_error_code_name(IcsErrorCode code)
{
	if ((unsigned)code >= G_N_ELEMENTS(code_names))
		return "unknown";
	return code_names[code];
}

void ics_error_prefix(GError **error, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *prefix = NULL;
	char *msg;

	if (error == NULL || *error == NULL)
		return;
	va_start(ap, fmt);
	prefix = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	msg = g_strconcat(prefix, (*error)->message, NULL);
	g_free((*error)->message);
	(*error)->message = msg;
}

IcsErrorCode ics_error_code_from_errno(int errnum)
{
	switch (errnum) {
	case ENOENT:
	case ENOTDIR:
	case ESRCH:
		return ICS_ERROR_NOT_FOUND;
	case EACCES:
	case EPERM:
	case EROFS:
		return ICS_ERROR_PERMISSION;
	case EBUSY:
	case EAGAIN:
		return ICS_ERROR_BUSY;
	case ETIMEDOUT:
		return ICS_ERROR_TIMEOUT;
	case EEXIST:
		return ICS_ERROR_CONFLICT;
	case EINVAL:
	case ENAMETOOLONG:
		return ICS_ERROR_INVALID_ARGUMENT;
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
		return ICS_ERROR_UNAVAILABLE;
	default:
		return ICS_ERROR_IO;
	}
}

void ics_error_set_errno(GError **error, int errnum, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *what = NULL;

	if (error == NULL)
		return;
	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(error, ICS_ERROR, ics_error_code_from_errno(errnum), "%s: %s", what,
		    g_strerror(errnum));
}

gboolean ics_error_invalid(GError **error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (error)
		*error = g_error_new_valist(ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT, fmt, ap);
	va_end(ap);
	return FALSE;
}
