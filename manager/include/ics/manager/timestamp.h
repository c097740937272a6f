/*
 * ics/manager/timestamp.h: the manager's clock and its text form.
 *
 * Times are integer microseconds since the epoch everywhere inside the
 * manager (database columns end in _us) and RFC 3339 UTC text in the API
 * ("2026-11-26T16:34:22.123456Z").  The clock can be shifted by tests so
 * expiry and lockout are tested without sleeping.
 */
#ifndef ICS_MANAGER_TIMESTAMP_H
#define ICS_MANAGER_TIMESTAMP_H

#include <glib.h>

/* Now, in microseconds since the epoch (plus the test offset). */
gint64 ics_now_us(void);
/* Tests only: add @delta_us to every later ics_now_us(). */
void ics_clock_advance_for_test(gint64 delta_us);

/* RFC 3339 UTC text of @us; g_free it. */
char *ics_timestamp_format(gint64 us);
/* The same into a buffer, without allocating. */
#define ICS_TIMESTAMP_LEN 32
void ics_timestamp_format_into(gint64 us, char buf[ICS_TIMESTAMP_LEN]);
/* Parse RFC 3339 text (any offset); FALSE with ICS_ERROR_INVALID_ARGUMENT
 * naming @what when malformed. */
gboolean ics_timestamp_parse(const char *text, const char *what, gint64 *out, GError **error);

#endif /* ICS_MANAGER_TIMESTAMP_H */
