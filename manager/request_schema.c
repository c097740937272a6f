/*
 * request_schema.c: the strict validator of request bodies and the schemas
 * of the API's requests.
 *
 * Validation is table driven rather than per handler so every endpoint
 * rejects the same mistakes the same way, and so the fuzz target can run
 * every schema.  Object names are a deliberately small alphabet: they end
 * up in URLs, logs, CSV exports and CIB ids, none of which then needs
 * escaping rules of its own.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"
#include "ics/manager/request_schema.h"

#define MAX_STRING 4096
#define MAX_SECRET 1024
#define MAX_ARRAY 64

gboolean ics_name_valid(const char *name)
{
	gsize n = 0;

	if (name == NULL || !g_ascii_isalnum(name[0]))
		return FALSE;
	for (const char *p = name; *p; p++, n++) {
		if (!g_ascii_isalnum(*p) && *p != '.' && *p != '_' && *p != '-')
			return FALSE;
	}
	return n <= 63;
}

gboolean ics_name_check(const char *what, const char *name, GError **error)
{
	if (ics_name_valid(name))
		return TRUE;
	return ics_error_invalid(error,
				 "%s must be 1 to 63 letters, digits, '.', '_' or '-', starting "
				 "with a letter or digit",
				 what);
}

static gboolean permission_name_valid(const char *s)
{
	const char *dot = strchr(s, '.');

	if (dot == NULL || dot == s || dot[1] == '\0' || strlen(s) > 64)
		return FALSE;
	for (const char *p = s; *p; p++)
		if (!g_ascii_islower(*p) && *p != '.' && *p != '_')
			return FALSE;
	return TRUE;
}

json_t *ics_request_parse(const char *body, gsize len, GError **error)
{
	json_error_t jerr;
	json_t *root;

	if (len == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
			    "request body is empty; a JSON object "
			    "is expected");
		return NULL;
	}
	if (memchr(body, '\0', len) != NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE, "request body contains a NUL byte");
		return NULL;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (root == NULL) {
		/* jansson quotes the offending token ("near 'x'"): it could be
		 * part of a password, and messages end up in the audit log. */
		char *near = strstr(jerr.text, " near ");

		if (near)
			*near = '\0';
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
			    "request body is not valid JSON: "
			    "line %d column %d: %s",
			    jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
			    "request body must be a JSON object, "
			    "not %s",
			    ics_json_type_name(root));
		json_decref(root);
		return NULL;
	}
	return root;
}

static gboolean check_string_array(const IcsField *f, const json_t *v, gboolean names,
				   GError **error)
{
	size_t i;
	json_t *item;
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

	if (!json_is_array(v))
		return ics_error_invalid(error, "field \"%s\" must be an array, not %s", f->name,
					 ics_json_type_name(v));
	if (json_array_size(v) > MAX_ARRAY)
		return ics_error_invalid(error, "field \"%s\" has more than %d items", f->name,
					 MAX_ARRAY);
	json_array_foreach(v, i, item)
	{
		const char *s = json_string_value(item);

		if (s == NULL)
			return ics_error_invalid(error,
						 "field \"%s\"[%zu] must be a string, not %s",
						 f->name, i, ics_json_type_name(item));
		if (names ? !ics_name_valid(s) : !permission_name_valid(s))
			return ics_error_invalid(error, "field \"%s\"[%zu] is not a valid %s",
						 f->name, i, names ? "name" : "permission name");
		if (!g_hash_table_add(seen, (gpointer)s))
			return ics_error_invalid(error, "field \"%s\" lists \"%s\" twice", f->name,
						 s);
	}
	return TRUE;
}

static gboolean check_field(const IcsField *f, const json_t *v, GError **error)
{
	switch (f->type) {
	case ICS_FIELD_STRING:
	case ICS_FIELD_NAME:
	case ICS_FIELD_SECRET: {
		gint64 max =
			f->max ? f->max : (f->type == ICS_FIELD_SECRET ? MAX_SECRET : MAX_STRING);
		gint64 min = f->type == ICS_FIELD_SECRET && f->min == 0 ? 1 : f->min;
		gsize n;

		if (!json_is_string(v))
			return ics_error_invalid(error, "field \"%s\" must be a string, not %s",
						 f->name, ics_json_type_name(v));
		n = json_string_length(v);
		if (strlen(json_string_value(v)) != n)
			return ics_error_invalid(error, "field \"%s\" contains a NUL character",
						 f->name);
		if (f->type == ICS_FIELD_NAME)
			return ics_name_check(f->name, json_string_value(v), error);
		if ((gint64)n < min || (gint64)n > max)
			return ics_error_invalid(error,
						 "field \"%s\" must be %" G_GINT64_FORMAT
						 " to %" G_GINT64_FORMAT " bytes long",
						 f->name, min, max);
		return TRUE;
	}
	case ICS_FIELD_INT: {
		json_int_t i;

		if (!json_is_integer(v))
			return ics_error_invalid(error, "field \"%s\" must be an integer, not %s",
						 f->name, ics_json_type_name(v));
		i = json_integer_value(v);
		if ((f->min || f->max) && (i < f->min || i > f->max))
			return ics_error_invalid(error,
						 "field \"%s\" must be %" G_GINT64_FORMAT
						 " to %" G_GINT64_FORMAT,
						 f->name, f->min, f->max);
		return TRUE;
	}
	case ICS_FIELD_BOOL:
		if (!json_is_boolean(v))
			return ics_error_invalid(error, "field \"%s\" must be a boolean, not %s",
						 f->name, ics_json_type_name(v));
		return TRUE;
	case ICS_FIELD_OBJECT:
		if (!json_is_object(v))
			return ics_error_invalid(error, "field \"%s\" must be an object, not %s",
						 f->name, ics_json_type_name(v));
		return TRUE;
	case ICS_FIELD_NAME_ARRAY:
		return check_string_array(f, v, TRUE, error);
	case ICS_FIELD_PERMISSION_ARRAY:
		return check_string_array(f, v, FALSE, error);
	}
	return FALSE;
}

gboolean ics_schema_check(const IcsSchema *schema, const json_t *obj, GError **error)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return ics_error_invalid(error, "%s must be a JSON object, not %s", schema->what,
					 ics_json_type_name(obj));
	json_object_foreach((json_t *)obj, key, v)
	{
		const IcsField *f = schema->fields;

		while (f->name && strcmp(f->name, key) != 0)
			f++;
		if (f->name == NULL) {
			g_autoptr(GString) known = g_string_new(NULL);

			for (f = schema->fields; f->name; f++)
				g_string_append_printf(known, "%s%s", known->len ? ", " : "",
						       f->name);
			g_autofree char *shown = g_utf8_make_valid(key, MIN(strlen(key), 64));
			return ics_error_invalid(error, "%s: unknown field \"%s\" (known: %s)",
						 schema->what, shown, known->str);
		}
		if (!check_field(f, v, error)) {
			ics_error_prefix(error, "%s: ", schema->what);
			return FALSE;
		}
	}
	for (const IcsField *f = schema->fields; f->name; f++) {
		if (f->required && json_object_get(obj, f->name) == NULL)
			return ics_error_invalid(error, "%s: field \"%s\" is required",
						 schema->what, f->name);
	}
	return TRUE;
}

json_t *ics_request_parse_checked(const IcsSchema *schema, const char *body, gsize len,
				  GError **error)
{
	g_autoptr(json_t) root = ics_request_parse(body, len, error);

	if (root == NULL || !ics_schema_check(schema, root, error))
		return NULL;
	return g_steal_pointer(&root);
}

/* ---- the API's request bodies ------------------------------------------ */

static const IcsField login_fields[] = {
	{ "username", ICS_FIELD_NAME, TRUE, 0, 0 },
	{ "password", ICS_FIELD_SECRET, TRUE, 0, 0 },
	{ "code", ICS_FIELD_SECRET, FALSE, 1, 64 },
	{ 0 },
};
const IcsSchema ics_schema_login = { "login request", login_fields };

static const IcsField user_create_fields[] = {
	{ "name", ICS_FIELD_NAME, TRUE, 0, 0 },
	{ "password", ICS_FIELD_SECRET, TRUE, 0, 0 },
	{ "roles", ICS_FIELD_NAME_ARRAY, FALSE, 0, 0 },
	{ "enabled", ICS_FIELD_BOOL, FALSE, 0, 0 },
	{ "second_factor_required", ICS_FIELD_BOOL, FALSE, 0, 0 },
	{ 0 },
};
const IcsSchema ics_schema_user_create = { "user", user_create_fields };

static const IcsField user_update_fields[] = {
	{ "password", ICS_FIELD_SECRET, FALSE, 0, 0 },
	{ "roles", ICS_FIELD_NAME_ARRAY, FALSE, 0, 0 },
	{ "enabled", ICS_FIELD_BOOL, FALSE, 0, 0 },
	{ "second_factor_required", ICS_FIELD_BOOL, FALSE, 0, 0 },
	{ 0 },
};
const IcsSchema ics_schema_user_update = { "user update", user_update_fields };

static const IcsField password_change_fields[] = {
	{ "old_password", ICS_FIELD_SECRET, TRUE, 0, 0 },
	{ "new_password", ICS_FIELD_SECRET, TRUE, 0, 0 },
	{ 0 },
};
const IcsSchema ics_schema_password_change = { "password change", password_change_fields };

static const IcsField role_create_fields[] = {
	{ "name", ICS_FIELD_NAME, TRUE, 0, 0 },
	{ "permissions", ICS_FIELD_PERMISSION_ARRAY, TRUE, 0, 0 },
	{ "description", ICS_FIELD_STRING, FALSE, 0, 256 },
	{ "second_factor_required", ICS_FIELD_BOOL, FALSE, 0, 0 },
	{ 0 },
};
const IcsSchema ics_schema_role_create = { "role", role_create_fields };

static const IcsField role_update_fields[] = {
	{ "second_factor_required", ICS_FIELD_BOOL, FALSE, 0, 0 },
	{ 0 },
};
const IcsSchema ics_schema_role_update = { "role update", role_update_fields };

static const IcsField code_fields[] = {
	{ "code", ICS_FIELD_SECRET, TRUE, 1, 64 },
	{ 0 },
};
const IcsSchema ics_schema_code = { "second factor code", code_fields };

static const IcsField apikey_create_fields[] = {
	{ "description", ICS_FIELD_STRING, FALSE, 0, 256 },
	{ 0 },
};
const IcsSchema ics_schema_apikey_create = { "API key", apikey_create_fields };

static const IcsField vm_create_fields[] = {
	{ "definition", ICS_FIELD_OBJECT, TRUE, 0, 0 },
	{ "owner", ICS_FIELD_NAME, FALSE, 0, 0 },
	{ 0 },
};
const IcsSchema ics_schema_vm_create = { "VM", vm_create_fields };

static const IcsField vm_update_fields[] = {
	{ "definition", ICS_FIELD_OBJECT, FALSE, 0, 0 },
	{ "owner", ICS_FIELD_NAME, FALSE, 0, 0 },
	{ 0 },
};
const IcsSchema ics_schema_vm_update = { "VM update", vm_update_fields };

static const IcsField vm_migrate_fields[] = {
	{ "target_host", ICS_FIELD_NAME, TRUE, 0, 0 },
	{ 0 },
};
const IcsSchema ics_schema_vm_migrate = { "migration request", vm_migrate_fields };

#define DIRECTORY_FIELDS                                                                           \
	{ "url", ICS_FIELD_STRING, FALSE, 0, 512 }, { "insecure", ICS_FIELD_BOOL, FALSE, 0, 0 },   \
		{ "ca_certificate", ICS_FIELD_STRING, FALSE, 0, 65536 },                           \
		{ "bind_dn", ICS_FIELD_STRING, FALSE, 0, 1024 },                                   \
		{ "bind_password", ICS_FIELD_SECRET, FALSE, 0, 0 },                                \
		{ "user_base", ICS_FIELD_STRING, FALSE, 0, 1024 },                                 \
		{ "user_filter", ICS_FIELD_STRING, FALSE, 0, 1024 },                               \
		{ "login_attribute", ICS_FIELD_STRING, FALSE, 0, 64 },                             \
		{ "disabled_filter", ICS_FIELD_STRING, FALSE, 0, 1024 },                           \
		{ "group_base", ICS_FIELD_STRING, FALSE, 0, 1024 },                                \
		{ "group_filter", ICS_FIELD_STRING, FALSE, 0, 1024 },                              \
		{ "member_attribute", ICS_FIELD_STRING, FALSE, 0, 64 },                            \
		{ "group_roles", ICS_FIELD_OBJECT, FALSE, 0, 0 },                                  \
	{                                                                                          \
		"sync_period_seconds", ICS_FIELD_INT, FALSE, 0, 7 * 86400                          \
	}

static const IcsField directory_create_fields[] = {
	{ "name", ICS_FIELD_NAME, TRUE, 0, 0 },
	DIRECTORY_FIELDS,
	{ 0 },
};
const IcsSchema ics_schema_directory_create = { "directory", directory_create_fields };

static const IcsField directory_update_fields[] = {
	DIRECTORY_FIELDS,
	{ 0 },
};
const IcsSchema ics_schema_directory_update = { "directory update", directory_update_fields };

const IcsSchema *const ics_request_schemas[] = {
	&ics_schema_login,
	&ics_schema_user_create,
	&ics_schema_user_update,
	&ics_schema_password_change,
	&ics_schema_role_create,
	&ics_schema_apikey_create,
	&ics_schema_role_update,
	&ics_schema_code,
	&ics_schema_directory_create,
	&ics_schema_directory_update,
	&ics_schema_vm_create,
	&ics_schema_vm_update,
	&ics_schema_vm_migrate,
	NULL,
};
