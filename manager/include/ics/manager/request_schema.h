/*
 * ics/manager/request_schema.h: strict validation of request bodies.
 *
 * Every body the API accepts is a JSON object described by an IcsSchema: a
 * list of fields with a type, whether it is required, and bounds.  A body
 * is rejected (ICS_ERROR_INVALID_ARGUMENT, or ICS_ERROR_PARSE for text that
 * is not JSON) when it is not an object, has a field the schema does not
 * name, lacks a required field, or has a value of another type or out of
 * bounds; the message names the field.  Names of objects (users, roles,
 * VMs) match ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$, so no name can traverse a
 * path or carry markup.  These functions touch no state, which is what the
 * fuzz target exercises.
 */
#ifndef ICS_MANAGER_REQUEST_SCHEMA_H
#define ICS_MANAGER_REQUEST_SCHEMA_H

#include <glib.h>
#include <jansson.h>

typedef enum {
	ICS_FIELD_STRING, /* any UTF-8 text, length min..max (default 0..4096) */
	ICS_FIELD_NAME,	  /* an object name (see above) */
	ICS_FIELD_SECRET, /* a password: 1..1024 bytes, never echoed */
	ICS_FIELD_INT,	  /* integer in min..max (both 0: any) */
	ICS_FIELD_BOOL,
	ICS_FIELD_OBJECT,	    /* any object: validated by its own parser */
	ICS_FIELD_NAME_ARRAY,	    /* array of up to 64 distinct names */
	ICS_FIELD_PERMISSION_ARRAY, /* array of up to 64 distinct permission names */
} IcsFieldType;

typedef struct {
	const char *name;
	IcsFieldType type;
	gboolean required;
	gint64 min, max;
} IcsField;

typedef struct {
	const char *what;	/* "login request" */
	const IcsField *fields; /* ends with a field whose name is NULL */
} IcsSchema;

/* Parse a request body: non-empty JSON text without NUL bytes or duplicate
 * keys, an object at the top. */
json_t *ics_request_parse(const char *body, gsize len, GError **error);

/* Check @obj against @schema (see above). */
gboolean ics_schema_check(const IcsSchema *schema, const json_t *obj, GError **error);

/* Parse and check in one step. */
json_t *ics_request_parse_checked(const IcsSchema *schema, const char *body, gsize len,
				  GError **error);

gboolean ics_name_valid(const char *name);
/* ics_name_valid or ICS_ERROR_INVALID_ARGUMENT naming @what. */
gboolean ics_name_check(const char *what, const char *name, GError **error);

/* The schemas of the API's request bodies. */
extern const IcsSchema ics_schema_login;
extern const IcsSchema ics_schema_user_create;
extern const IcsSchema ics_schema_user_update;
extern const IcsSchema ics_schema_password_change;
extern const IcsSchema ics_schema_role_create;
extern const IcsSchema ics_schema_role_update;
/* {"code"}: a second factor code (or a recovery code where accepted). */
extern const IcsSchema ics_schema_code;
extern const IcsSchema ics_schema_apikey_create;
extern const IcsSchema ics_schema_vm_create;
extern const IcsSchema ics_schema_vm_update;
extern const IcsSchema ics_schema_vm_migrate;
/* LDAP directory domains (directory.h checks what the schema cannot). */
extern const IcsSchema ics_schema_directory_create;
extern const IcsSchema ics_schema_directory_update;
/* All of them, NULL-terminated (for the fuzz target). */
extern const IcsSchema *const ics_request_schemas[];

#endif /* ICS_MANAGER_REQUEST_SCHEMA_H */
