/*
 * api_cmd.h: what the command groups that talk to ics-managerd share --
 * connection options, parsing, output (tables for people, JSON for
 * scripts), pagination, task waits and password prompts (internal to
 * ics-admin).  Each group is one file: session_cmd.c (login, logout,
 * whoami), account_cmd.c (user, role, apikey), totp_cmd.c (account totp),
 * directory_cmd.c (directory), audit_cmd.c, task_cmd.c (task, events),
 * manager_cmd.c (manager).  See docs/ics-admin.8.
 */
#ifndef ICS_ADMIN_API_CMD_H
#define ICS_ADMIN_API_CMD_H

#include <stdio.h>

#include <glib.h>
#include <jansson.h>

#include "client_config.h"
#include "ics/client.h"
#include "vm_cmd.h"

#define ICS_ADMIN_DEFAULT_TASK_WAIT_S 600
/* What ics-admin's requests say they come from (IcsRestConfig.user_agent). */
#define ICS_ADMIN_USER_AGENT "ics-admin/" PACKAGE_VERSION

/* Options every API command takes: --url, --ca, --config, --json. */
typedef struct {
	IcsAdminFlags flags;
	gboolean json;
} IcsAdminCommon;
void ics_admin_common_clear(IcsAdminCommon *c);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(IcsAdminCommon, ics_admin_common_clear)

/* Parse a command's argv (argv[0] = the command's name as shown in
 * messages): the common options plus @extra (may be NULL), then between
 * @min_args and @max_args positionals (max -1: no limit). */
gboolean ics_admin_parse(int *argc, char ***argv, IcsAdminCommon *c, const char *params,
			 const char *summary, GOptionEntry *extra, int min_args, int max_args,
			 GError **error);

/* @rc for @s: URL, CA, ics-admin's user agent and its hints (--url, --ca,
 * login); with @credentials also the session token or the access keys.
 * @rc points into @s. */
void ics_admin_rest_config(const IcsAdminSettings *s, gboolean credentials, IcsRestConfig *rc);

/* The uuid of the VM @ref names (a uuid, or a name listed by the manager):
 * NOT_FOUND, or CONFLICT when two VMs have that name. */
char *ics_admin_vm_uuid(IcsRest *rest, const char *ref, GError **error);

/* A client for the resolved settings, with the saved session or the access
 * keys; PERMISSION ("not logged in") when there are none and @need_auth. */
IcsRest *ics_admin_connect(const IcsAdminCommon *c, gboolean need_auth, GError **error);

/* Print "ics-admin: <message>" when @error; the exit status. */
int ics_admin_finish(const GError *error);

/* Pretty JSON on stdout. */
void ics_admin_print_json(const json_t *v);

/* A string member, or @def. */
const char *ics_admin_str(const json_t *obj, const char *key, const char *def);
/* An array of strings joined by ",", or "-" when empty. */
char *ics_admin_join(const json_t *array);

/* Aligned columns: rows are NULL-terminated string vectors; the first is
 * the header. */
GPtrArray *ics_admin_table_new(const char *first, ...) G_GNUC_NULL_TERMINATED;
void ics_admin_table_add(GPtrArray *table, const char *first, ...) G_GNUC_NULL_TERMINATED;
void ics_admin_table_print(const GPtrArray *table);

/* Every item of a keyset-paginated list (@cursor "after" or "before"),
 * at most @max (0: all), as {"items": [...], "next": ...}. */
json_t *ics_admin_list_pages(IcsRest *rest, const char *path, const GPtrArray *query,
			     const char *cursor, gint64 max, GError **error);

/* Wait until task @id ends (progress on stderr when it is a terminal); the
 * final task, or NULL when it failed (EXEC, with the task's error), was
 * cancelled (EXEC) or did not end within @timeout_s (TIMEOUT).  @last (may
 * be NULL) gets the last state seen in every case but a request failure. */
json_t *ics_admin_task_wait(IcsRest *rest, gint64 id, guint timeout_s, json_t **last,
			    GError **error);

/* A task answer (202): print its id with --no-wait, else wait and print
 * the final task with --json. */
int ics_admin_task_follow(IcsRest *rest, json_t *task, gboolean no_wait, gboolean json,
			  guint timeout_s);

/* A password: one line of standard input with @from_stdin, else asked on
 * the terminal without echo. */
char *ics_admin_read_password(gboolean from_stdin, const char *prompt, GError **error);
void ics_admin_password_free(char *password);

/* A group's commands: argv[1] picks one by name, which gets argv + 1. */
typedef struct {
	const char *name;
	int (*run)(int argc, char **argv);
} IcsAdminCommand;
int ics_admin_dispatch(const char *group, const IcsAdminCommand *commands, const char *usage,
		       int argc, char **argv);

int ics_admin_login_main(int argc, char **argv);
int ics_admin_logout_main(int argc, char **argv);
int ics_admin_whoami_main(int argc, char **argv);
int ics_admin_user_main(int argc, char **argv);
int ics_admin_role_main(int argc, char **argv);
int ics_admin_apikey_main(int argc, char **argv);
int ics_admin_audit_main(int argc, char **argv);
int ics_admin_task_main(int argc, char **argv);
int ics_admin_events_main(int argc, char **argv);
int ics_admin_manager_main(int argc, char **argv);
int ics_admin_drs_main(int argc, char **argv);
int ics_admin_volume_main(int argc, char **argv);
int ics_admin_backup_main(int argc, char **argv);
int ics_admin_directory_main(int argc, char **argv);
int ics_admin_account_main(int argc, char **argv);

/* The whole program: argv[0] = "ics-admin". */
int ics_admin_main(int argc, char **argv);

#endif /* ICS_ADMIN_API_CMD_H */
