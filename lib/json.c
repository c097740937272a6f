/*
 * json.c: the few jansson helpers every ICS component uses.
 *
 * jansson reports errors in a json_error_t with line, column and text; the
 * helpers turn that into an ICS_ERROR_PARSE GError in the "file:line:col:"
 * form editors and humans understand.  Member access distinguishes a missing
 * member (ICS_ERROR_NOT_FOUND) from one of the wrong type (ICS_ERROR_PARSE)
 * because callers treat them differently: a missing optional member takes
 * its default, a wrong type is always an error.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "ics/error.h"
#include "ics/json.h"

const char *ics_json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

json_t *ics_json_load_file(const char *path, GError **error)
{
	json_error_t jerr;
	json_t *root;
	FILE *f;

	f = fopen(path, "re");
	if (f == NULL) {
		ics_error_set_errno(error, errno, "cannot open %s", path);
		return NULL;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (root == NULL)
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE, "%s:%d:%d: %s", path, jerr.line,
			    jerr.column, jerr.text);
	return root;
}

json_t *ics_json_load_string(const char *text, const char *what, GError **error)
{
	json_error_t jerr;
	json_t *root;

	if (text == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT, "%s: no JSON text", what);
		return NULL;
	}
	root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE, "%s:%d:%d: %s", what, jerr.line,
			    jerr.column, jerr.text);
	return root;
}

gboolean ics_json_require_object(const json_t *obj, const char *what, GError **error)
{
	if (obj != NULL && json_is_object(obj))
		return TRUE;
	g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE, "%s: expected an object, found %s", what,
		    obj ? ics_json_type_name(obj) : "nothing");
	return FALSE;
}

/* The member @key, or NULL with NOT_FOUND.  @obj must be an object. */
static json_t *member(const json_t *obj, const char *key, GError **error)
{
	json_t *v;

	if (!json_is_object(obj)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
			    "cannot read member \"%s\": not an object", key);
		return NULL;
	}
	v = json_object_get(obj, key);
	if (v == NULL)
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "member \"%s\" is missing", key);
	return v;
}

static void wrong_type(const json_t *v, const char *key, const char *expected, GError **error)
{
	g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE, "member \"%s\" must be %s, not %s", key,
		    expected, ics_json_type_name(v));
}

const char *ics_json_get_string(const json_t *obj, const char *key, GError **error)
{
	json_t *v = member(obj, key, error);

	if (v == NULL)
		return NULL;
	if (!json_is_string(v)) {
		wrong_type(v, key, "a string", error);
		return NULL;
	}
	return json_string_value(v);
}

gboolean ics_json_get_int(const json_t *obj, const char *key, gint64 *out, GError **error)
{
	json_t *v = member(obj, key, error);

	if (v == NULL)
		return FALSE;
	if (!json_is_integer(v)) {
		wrong_type(v, key, "an integer", error);
		return FALSE;
	}
	*out = (gint64)json_integer_value(v);
	return TRUE;
}

gboolean ics_json_get_bool(const json_t *obj, const char *key, gboolean *out, GError **error)
{
	json_t *v = member(obj, key, error);

	if (v == NULL)
		return FALSE;
	if (!json_is_boolean(v)) {
		wrong_type(v, key, "a boolean", error);
		return FALSE;
	}
	*out = json_is_true(v);
	return TRUE;
}

const char *ics_json_get_string_or(const json_t *obj, const char *key, const char *def,
				   GError **error)
{
	json_t *v;

	if (!json_is_object(obj))
		return ics_json_get_string(obj, key, error);
	v = json_object_get(obj, key);
	if (v == NULL || json_is_null(v))
		return def;
	return ics_json_get_string(obj, key, error);
}

gboolean ics_json_get_int_or(const json_t *obj, const char *key, gint64 def, gint64 *out,
			     GError **error)
{
	json_t *v;

	if (!json_is_object(obj))
		return ics_json_get_int(obj, key, out, error);
	v = json_object_get(obj, key);
	if (v == NULL || json_is_null(v)) {
		*out = def;
		return TRUE;
	}
	return ics_json_get_int(obj, key, out, error);
}
