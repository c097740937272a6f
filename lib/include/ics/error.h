/*
 * ics/error.h: the one error type of ICS.
 *
 * Errors are GErrors in the ICS_ERROR domain.  A function that can fail
 * takes a trailing "GError **error" and returns FALSE/NULL/-1 on failure;
 * the error is set once, where the failure is understood, with the name of
 * the object and what to do.  Callers pass it up, optionally adding context
 * with ics_error_prefix() ("pool \"gold\": " + original message).  The code
 * says what kind of failure it was, so callers can branch (retry on
 * ICS_ERROR_BUSY, map ICS_ERROR_NOT_FOUND to an OCF "not installed", ...).
 */
#ifndef ICS_ERROR_H
#define ICS_ERROR_H

#include <glib.h>

#define ICS_ERROR (ics_error_quark())
GQuark ics_error_quark(void);

typedef enum {
	ICS_ERROR_INVALID_ARGUMENT,
	ICS_ERROR_NOT_FOUND,
	ICS_ERROR_IO,
	ICS_ERROR_TIMEOUT,
	ICS_ERROR_EXEC,
	ICS_ERROR_PARSE,
	ICS_ERROR_BUSY,
	ICS_ERROR_CONFLICT,
	ICS_ERROR_PERMISSION,
	ICS_ERROR_UNAVAILABLE,
	ICS_ERROR_LIMIT,       /* a configured limit is reached: retry later (HTTP 429) */
	ICS_ERROR_UNREACHABLE, /* nothing answered at the address (refused, no route, unknown
				  name): the request was never delivered */
} IcsErrorCode;

/* Stable short name of a code ("invalid-argument", "not-found", ...). */
const char *ics_error_code_name(IcsErrorCode code);

/*
 * Add context in front of an existing error's message (no-op when @error
 * or *@error is NULL), e.g. ics_error_prefix(error, "pool \"%s\": ", name).
 */
void ics_error_prefix(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/*
 * Set @error in the ICS domain from an errno value: ENOENT maps to
 * NOT_FOUND, EACCES/EPERM to PERMISSION, EBUSY/EAGAIN to BUSY, ETIMEDOUT to
 * TIMEOUT, EEXIST to CONFLICT, anything else to IO.  The message is the
 * formatted text followed by ": " and strerror(errnum).
 */
void ics_error_set_errno(GError **error, int errnum, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* Set an ICS_ERROR_INVALID_ARGUMENT error and return FALSE, for validators:
 * "return ics_error_invalid(error, "vcpus must be 1..256");". */
gboolean ics_error_invalid(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Map an errno value to a code (see ics_error_set_errno). */
IcsErrorCode ics_error_code_from_errno(int errnum);

#endif /* ICS_ERROR_H */
