/*
 * ics/json.h: jansson with GError and g_autoptr.
 *
 * jansson is the JSON library of ICS; this header only adds what every user
 * would otherwise repeat: automatic release of json_t references, loading
 * with an error that names file:line:column, and typed access to required
 * members with an error that names the member and the expected type.
 */
#ifndef ICS_JSON_H
#define ICS_JSON_H

#include <glib.h>
#include <jansson.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_t, json_decref)

/* Parse a file holding one JSON value.  ICS_ERROR_NOT_FOUND when the file
 * does not exist, ICS_ERROR_PARSE "FILE:LINE:COLUMN: message" otherwise. */
json_t *ics_json_load_file(const char *path, GError **error);

/* Parse a string; @what names it in messages ("request body"). */
json_t *ics_json_load_string(const char *text, const char *what, GError **error);

/* Require @obj to be an object.  Sets ICS_ERROR_PARSE when not. */
gboolean ics_json_require_object(const json_t *obj, const char *what, GError **error);

/*
 * Required members of an object: ICS_ERROR_NOT_FOUND when missing,
 * ICS_ERROR_PARSE when present with another type.  The string is borrowed
 * from @obj.  Integers must be JSON integers (not reals).
 */
const char *ics_json_get_string(const json_t *obj, const char *key, GError **error);
gboolean ics_json_get_int(const json_t *obj, const char *key, gint64 *out, GError **error);
gboolean ics_json_get_bool(const json_t *obj, const char *key, gboolean *out, GError **error);

/* Optional variants: the default when the member is absent or null, an
 * error only when present with another type. */
const char *ics_json_get_string_or(const json_t *obj, const char *key, const char *def,
				   GError **error);
gboolean ics_json_get_int_or(const json_t *obj, const char *key, gint64 def, gint64 *out,
			     GError **error);

/* "an object", "a string", "an integer", ... for messages about a value's type. */
const char *ics_json_type_name(const json_t *v);

#endif /* ICS_JSON_H */
