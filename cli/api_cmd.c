/*
 * api_cmd.c: the parts the API command groups share.
 *
 * Output is for two readers: people get aligned tables and short lines,
 * scripts get --json, which prints the manager's JSON as it came (pretty
 * printed; lists that took several pages are joined into one "items"
 * array).  Errors are printed once, by ics_admin_finish(), with the
 * manager's own message, and the exit status says what kind of failure it
 * was (docs/ics-admin.8).  Progress goes to stderr and only to a terminal,
 * so it never mixes with output a script reads.
 */
#include "config.h"

#include "api_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ics/error.h"
#include "ics/json.h"

void ics_admin_common_clear(IcsAdminCommon *c)
{
	ics_admin_flags_clear(&c->flags);
}

gboolean ics_admin_parse(int *argc, char ***argv, IcsAdminCommon *c, const char *params,
			 const char *summary, GOptionEntry *extra, int min_args, int max_args,
			 GError **error)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new(params);
	GOptionEntry common[] = {
		{ "url", 0, 0, G_OPTION_ARG_STRING, &c->flags.url,
		  "The manager (default $ICS_URL, url= in admin.conf, " ICS_REST_DEFAULT_URL ")",
		  "URL" },
		{ "ca", 0, 0, G_OPTION_ARG_FILENAME, &c->flags.ca,
		  "Trust this CA or certificate (default $ICS_CA, ca= in admin.conf)", "FILE" },
		{ "config", 0, 0, G_OPTION_ARG_FILENAME, &c->flags.config_file,
		  "Configuration file (default $ICS_CONFIG, ~/.config/ics/admin.conf)", "FILE" },
		{ "json", 0, 0, G_OPTION_ARG_NONE, &c->json, "Print the manager's JSON", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	const char *cmd = (*argv)[0];
	int n;

	g_option_context_set_summary(ctx, summary);
	g_option_context_add_main_entries(ctx, common, NULL);
	if (extra)
		g_option_context_add_main_entries(ctx, extra, NULL);
	if (!g_option_context_parse(ctx, argc, argv, error))
		return FALSE;
	n = *argc - 1;
	if (n < min_args || (max_args >= 0 && n > max_args))
		return ics_error_invalid(
			error, "%s: expected %s%s", cmd, *params ? params : "no arguments",
			n > 0 && max_args >= 0 && n > max_args ? " (too many arguments)" : "");
	return TRUE;
}

void ics_admin_rest_config(const IcsAdminSettings *s, gboolean credentials, IcsRestConfig *rc)
{
	memset(rc, 0, sizeof(*rc));
	rc->url = s->url;
	rc->ca_file = s->ca;
	if (credentials) {
		rc->token = s->token;
		rc->access_key = s->access_key;
		rc->secret_key = s->secret_key;
	}
	rc->user_agent = ICS_ADMIN_USER_AGENT;
	rc->hint_url = "check --url, ICS_URL or url= in admin.conf and that ics-managerd runs";
	rc->hint_trust = "give the manager's certificate (its state directory's tls-cert.pem) "
			 "or its CA with --ca FILE, ICS_CA or ca= in admin.conf";
	rc->hint_login = "run 'ics-admin login'";
}

IcsRest *ics_admin_connect(const IcsAdminCommon *c, gboolean need_auth, GError **error)
{
	g_auto(IcsAdminSettings) s = { 0 };
	IcsRestConfig rc;

	if (!ics_admin_settings_load(&s, &c->flags, TRUE, error))
		return NULL;
	ics_admin_rest_config(&s, TRUE, &rc);
	if (need_auth && s.token == NULL && s.access_key == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION,
			    "not logged in to %s: run 'ics-admin login' (or set ICS_ACCESS_KEY and "
			    "ICS_SECRET_KEY)",
			    s.url);
		return NULL;
	}
	return ics_rest_new(&rc, error);
}

int ics_admin_finish(const GError *error)
{
	if (error)
		g_printerr("ics-admin: %s\n", error->message);
	return ics_admin_exit_code(error);
}

void ics_admin_print_json(const json_t *v)
{
	g_autofree char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);

	printf("%s\n", s ? s : "null");
}

const char *ics_admin_str(const json_t *obj, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : def;
}

char *ics_admin_join(const json_t *array)
{
	GString *s = g_string_new(NULL);
	const json_t *v;
	size_t i;

	json_array_foreach(array, i, v)
		g_string_append_printf(s, "%s%s", i ? "," : "", json_string_value(v));
	if (s->len == 0)
		g_string_append(s, "-");
	return g_string_free(s, FALSE);
}

static GStrv row_from(const char *first, va_list ap)
{
	GStrvBuilder *b = g_strv_builder_new();
	GStrv row;

	for (const char *s = first; s; s = va_arg(ap, const char *))
		g_strv_builder_add(b, s);
	row = g_strv_builder_end(b);
	g_strv_builder_unref(b);
	return row;
}

GPtrArray *ics_admin_table_new(const char *first, ...)
{
	GPtrArray *t = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	va_list ap;

	va_start(ap, first);
	g_ptr_array_add(t, row_from(first, ap));
	va_end(ap);
	return t;
}

void ics_admin_table_add(GPtrArray *table, const char *first, ...)
{
	va_list ap;

	va_start(ap, first);
	g_ptr_array_add(table, row_from(first, ap));
	va_end(ap);
}

void ics_admin_table_print(const GPtrArray *table)
{
	g_autoptr(GArray) width = g_array_new(FALSE, TRUE, sizeof(glong));
	g_autoptr(GString) line = g_string_new(NULL);

	for (guint r = 0; r < table->len; r++) {
		GStrv row = table->pdata[r];

		for (guint i = 0; row[i]; i++) {
			glong w = g_utf8_strlen(row[i], -1);

			if (i >= width->len)
				g_array_set_size(width, i + 1);
			if (w > g_array_index(width, glong, i))
				g_array_index(width, glong, i) = w;
		}
	}
	for (guint r = 0; r < table->len; r++) {
		GStrv row = table->pdata[r];

		g_string_truncate(line, 0);
		for (guint i = 0; row[i]; i++) {
			g_string_append(line, row[i]);
			if (row[i + 1] == NULL)
				break;
			for (glong pad =
				     g_array_index(width, glong, i) - g_utf8_strlen(row[i], -1) + 2;
			     pad > 0; pad--)
				g_string_append_c(line, ' ');
		}
		printf("%s\n", line->str);
	}
}

json_t *ics_admin_list_pages(IcsRest *rest, const char *path, const GPtrArray *query,
			     const char *cursor, gint64 max, GError **error)
{
	g_autoptr(json_t) items = json_array();
	g_autoptr(json_t) next = json_null();

	for (;;) {
		g_autoptr(GPtrArray) q = ics_rest_query_new();
		g_autofree char *limit = NULL, *cursor_text = NULL;
		g_autoptr(json_t) page = NULL;
		gint64 want = 1000;

		if (max > 0)
			want = MIN(want, max - (gint64)json_array_size(items));
		limit = g_strdup_printf("%" G_GINT64_FORMAT, want);
		for (guint i = 0; query && i + 1 < query->len; i += 2)
			ics_rest_query_add(q, query->pdata[i], query->pdata[i + 1]);
		ics_rest_query_add(q, "limit", limit);
		if (json_is_string(next))
			cursor_text = g_strdup(json_string_value(next));
		else if (json_is_integer(next))
			cursor_text =
				g_strdup_printf("%" JSON_INTEGER_FORMAT, json_integer_value(next));
		ics_rest_query_add(q, cursor, cursor_text);
		page = ics_rest_call(rest, "GET", path, q, NULL, error);
		if (page == NULL)
			return NULL;
		json_array_extend(items, json_object_get(page, "items"));
		json_decref(next);
		next = json_incref(json_object_get(page, "next"));
		if (next == NULL)
			next = json_null();
		if (json_is_null(next) || (max > 0 && (gint64)json_array_size(items) >= max))
			break;
	}
	return json_pack("{s:O, s:O}", "items", items, "next", next);
}

static gboolean task_done(const char *state)
{
	return g_strcmp0(state, "succeeded") == 0 || g_strcmp0(state, "failed") == 0 ||
	       g_strcmp0(state, "cancelled") == 0;
}

json_t *ics_admin_task_wait(IcsRest *rest, gint64 id, guint timeout_s, json_t **last,
			    GError **error)
{
	g_autofree char *path = g_strdup_printf("/api/v1/tasks/%" G_GINT64_FORMAT, id);
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
	gboolean tty = isatty(STDERR_FILENO);
	gulong delay_ms = 100;
	g_autoptr(json_t) t = NULL;
	const char *state;

	for (;;) {
		json_decref(t);
		t = ics_rest_call(rest, "GET", path, NULL, NULL, error);
		if (t == NULL)
			return NULL;
		state = ics_admin_str(t, "state", "?");
		if (tty)
			g_printerr("\rtask %" G_GINT64_FORMAT " %s: %3" JSON_INTEGER_FORMAT
				   "%% %-10s %-40.40s",
				   id, ics_admin_str(t, "kind", "?"),
				   json_integer_value(json_object_get(t, "progress")), state,
				   ics_admin_str(t, "message", ""));
		if (task_done(state) || g_get_monotonic_time() >= deadline)
			break;
		g_usleep(delay_ms * 1000);
		delay_ms = MIN(delay_ms * 2, 1000);
	}
	if (tty)
		g_printerr("\n");
	if (last)
		*last = json_incref(t);
	if (g_str_equal(state, "succeeded"))
		return g_steal_pointer(&t);
	if (g_str_equal(state, "failed"))
		g_set_error(error, ICS_ERROR, ICS_ERROR_EXEC,
			    "task %" G_GINT64_FORMAT " (%s) failed: %s", id,
			    ics_admin_str(t, "kind", "?"),
			    ics_admin_str(t, "error", "no reason given"));
	else if (g_str_equal(state, "cancelled"))
		g_set_error(error, ICS_ERROR, ICS_ERROR_EXEC,
			    "task %" G_GINT64_FORMAT " was cancelled", id);
	else
		g_set_error(error, ICS_ERROR, ICS_ERROR_TIMEOUT,
			    "task %" G_GINT64_FORMAT " is still %s after %u s; follow it with "
			    "'ics-admin task wait %" G_GINT64_FORMAT "'",
			    id, state, timeout_s, id);
	return NULL;
}

int ics_admin_task_follow(IcsRest *rest, json_t *task, gboolean no_wait, gboolean json,
			  guint timeout_s)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(json_t) done = NULL, last = NULL;
	json_int_t id = json_integer_value(json_object_get(task, "id"));

	if (no_wait) {
		if (json)
			ics_admin_print_json(task);
		else
			printf("%" JSON_INTEGER_FORMAT "\n", id);
		return ICS_ADMIN_EXIT_OK;
	}
	done = ics_admin_task_wait(rest, id, timeout_s, &last, &error);
	if (json && last)
		ics_admin_print_json(last);
	return ics_admin_finish(error);
}

static char *read_line_fd(int fd, gboolean *eof)
{
	GString *s = g_string_new(NULL);
	char ch;
	ssize_t n;

	*eof = FALSE;
	while ((n = read(fd, &ch, 1)) == 1 && ch != '\n')
		g_string_append_c(s, ch);
	if (n <= 0 && s->len == 0)
		*eof = TRUE;
	if (s->len && s->str[s->len - 1] == '\r')
		g_string_truncate(s, s->len - 1);
	return g_string_free(s, FALSE);
}

char *ics_admin_read_password(gboolean from_stdin, const char *prompt, GError **error)
{
	struct termios old, quiet;
	gboolean eof;
	char *pw;
	int fd;

	if (from_stdin) {
		pw = read_line_fd(STDIN_FILENO, &eof);
		if (eof || *pw == '\0') {
			ics_admin_password_free(pw);
			ics_error_invalid(error, "--password-stdin: no password on standard input");
			return NULL;
		}
		return pw;
	}
	fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (fd < 0 || tcgetattr(fd, &old) != 0) {
		if (fd >= 0)
			close(fd);
		ics_error_invalid(error,
				  "no terminal to ask for the password: use --password-stdin");
		return NULL;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	if (write(fd, prompt, strlen(prompt)) < 0 || tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		close(fd);
		ics_error_set_errno(error, errno, "cannot ask for the password on the terminal");
		return NULL;
	}
	pw = read_line_fd(fd, &eof);
	tcsetattr(fd, TCSAFLUSH, &old);
	close(fd);
	if (*pw == '\0') {
		ics_admin_password_free(pw);
		ics_error_invalid(error, "no password given");
		return NULL;
	}
	return pw;
}

void ics_admin_password_free(char *password)
{
	if (password) {
		explicit_bzero(password, strlen(password));
		g_free(password);
	}
}

int ics_admin_dispatch(const char *group, const IcsAdminCommand *commands, const char *usage,
		       int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (cmd == NULL || g_str_equal(cmd, "--help") || g_str_equal(cmd, "-h") ||
	    g_str_equal(cmd, "help")) {
		fprintf(cmd ? stdout : stderr, "usage: ics-admin %s COMMAND [OPTIONS]\n%s", group,
			usage);
		fprintf(cmd ? stdout : stderr,
			"Every command takes --url URL, --ca FILE, --config FILE and --json; "
			"'ics-admin %s COMMAND --help' shows its options; see ics-admin(8).\n",
			group);
		return cmd ? ICS_ADMIN_EXIT_OK : ICS_ADMIN_EXIT_USAGE;
	}
	for (const IcsAdminCommand *c = commands; c->name; c++)
		if (g_str_equal(c->name, cmd))
			return c->run(argc - 1, argv + 1);
	g_printerr("ics-admin: %s: unknown command \"%s\"\n", group, cmd);
	g_printerr("usage: ics-admin %s COMMAND [OPTIONS]\n%s", group, usage);
	return ICS_ADMIN_EXIT_USAGE;
}

/* The uuid of the VM @ref (a uuid or a name) names. */
char *ics_admin_vm_uuid(IcsRest *rest, const char *ref, GError **error)
{
	g_autoptr(json_t) all = NULL;
	char *found = NULL;
	json_t *vm;
	size_t i;

	if (g_uuid_string_is_valid(ref))
		return g_ascii_strdown(ref, -1);
	all = ics_admin_list_pages(rest, "/api/v1/vms", NULL, "after", 0, error);
	if (all == NULL)
		return NULL;
	json_array_foreach(json_object_get(all, "items"), i, vm)
	{
		if (g_strcmp0(ics_admin_str(vm, "name", NULL), ref) != 0)
			continue;
		if (found) {
			g_free(found);
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "more than one VM is named \"%s\"; give its uuid", ref);
			return NULL;
		}
		found = g_strdup(ics_admin_str(vm, "uuid", ""));
	}
	if (found == NULL)
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "VM \"%s\" does not exist (or is not yours)", ref);
	return found;
}
