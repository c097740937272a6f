/*
 * client_config.c: admin.conf, the environment and the session file.
 *
 * The session file is JSON {"url", "user", "token", "expires_at"}: a
 * token is only ever sent to the manager it was issued by, so logging in
 * to a second manager does not hand the first one's token to it.  Private
 * files are opened without following symlinks and checked on the open
 * descriptor (no window between check and read).  Secrets read from files
 * are wiped from memory when the settings are cleared.
 */
#include "config.h"

#include "client_config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ics/error.h"
#include "ics/json.h"
#include "ics/client.h"

#define CONFIG_GROUP "manager"

static void wipe(char **s)
{
	if (*s) {
		explicit_bzero(*s, strlen(*s));
		g_clear_pointer(s, g_free);
	}
}

void ics_admin_flags_clear(IcsAdminFlags *f)
{
	g_clear_pointer(&f->config_file, g_free);
	g_clear_pointer(&f->url, g_free);
	g_clear_pointer(&f->ca, g_free);
}

void ics_admin_settings_clear(IcsAdminSettings *s)
{
	g_clear_pointer(&s->url, g_free);
	g_clear_pointer(&s->ca, g_free);
	g_clear_pointer(&s->user, g_free);
	g_clear_pointer(&s->access_key, g_free);
	wipe(&s->secret_key);
	wipe(&s->token);
	g_clear_pointer(&s->session_user, g_free);
}

char *ics_admin_config_dir(void)
{
	const char *xdg = g_getenv("XDG_CONFIG_HOME");
	const char *home = g_getenv("HOME");

	if (xdg && g_path_is_absolute(xdg))
		return g_build_filename(xdg, "ics", NULL);
	return g_build_filename(home && *home ? home : g_get_home_dir(), ".config", "ics", NULL);
}

char *ics_admin_session_path(void)
{
	g_autofree char *dir = ics_admin_config_dir();

	return g_build_filename(dir, "session", NULL);
}

gboolean ics_admin_read_private_file(const char *path, char **contents, gboolean *exists,
				     GError **error)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	GString *buf;
	struct stat st;
	char chunk[4096];
	ssize_t n;

	*exists = FALSE;
	*contents = NULL;
	if (fd < 0) {
		if (errno == ENOENT)
			return TRUE;
		ics_error_set_errno(error, errno, "cannot open %s", path);
		return FALSE;
	}
	*exists = TRUE;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "%s is not a regular file", path);
		return FALSE;
	}
	if (st.st_uid != geteuid()) {
		close(fd);
		g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION,
			    "%s may hold credentials but belongs to uid %u, not to you; remove it "
			    "or make it yours ('chown' it, then 'chmod 600' it)",
			    path, (unsigned)st.st_uid);
		return FALSE;
	}
	if ((st.st_mode & 077) != 0) {
		close(fd);
		g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION,
			    "%s may hold credentials but is accessible by other users (mode %04o); "
			    "run 'chmod 600 %s'",
			    path, (unsigned)(st.st_mode & 07777), path);
		return FALSE;
	}
	buf = g_string_new(NULL);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		g_string_append_len(buf, chunk, n);
	explicit_bzero(chunk, sizeof(chunk));
	if (n < 0) {
		ics_error_set_errno(error, errno, "cannot read %s", path);
		close(fd);
		explicit_bzero(buf->str, buf->len);
		g_string_free(buf, TRUE);
		return FALSE;
	}
	close(fd);
	*contents = g_string_free(buf, FALSE);
	return TRUE;
}

static void take(char **field, char *value)
{
	if (value == NULL)
		return;
	wipe(field);
	*field = value;
}

static gboolean load_config_file(IcsAdminSettings *s, const char *path, gboolean required,
				 GError **error)
{
	g_autofree char *text = NULL;
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) err = NULL;
	gboolean exists;

	if (!ics_admin_read_private_file(path, &text, &exists, error))
		return FALSE;
	if (!exists) {
		if (required) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
				    "configuration file %s does not exist", path);
			return FALSE;
		}
		return TRUE;
	}
	if (!g_key_file_load_from_data(kf, text, strlen(text), G_KEY_FILE_NONE, &err)) {
		explicit_bzero(text, strlen(text));
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE, "%s: %s", path, err->message);
		return FALSE;
	}
	explicit_bzero(text, strlen(text));
	take(&s->url, g_key_file_get_string(kf, CONFIG_GROUP, "url", NULL));
	take(&s->ca, g_key_file_get_string(kf, CONFIG_GROUP, "ca", NULL));
	take(&s->user, g_key_file_get_string(kf, CONFIG_GROUP, "user", NULL));
	take(&s->access_key, g_key_file_get_string(kf, CONFIG_GROUP, "access_key", NULL));
	take(&s->secret_key, g_key_file_get_string(kf, CONFIG_GROUP, "secret_key", NULL));
	return TRUE;
}

static char *env(const char *name)
{
	const char *v = g_getenv(name);

	return v && *v ? g_strdup(v) : NULL;
}

/* The session file: its URL becomes the manager when nothing else named
 * one; its token is taken (with @with_token) only for the URL it was
 * issued for. */
static gboolean load_session(IcsAdminSettings *s, gboolean with_token, GError **error)
{
	g_autofree char *path = ics_admin_session_path();
	g_autofree char *text = NULL;
	g_autoptr(json_t) j = NULL;
	gboolean exists;
	const char *url, *token;

	if (!ics_admin_read_private_file(path, &text, &exists, error))
		return FALSE;
	if (!exists)
		return TRUE;
	j = json_loads(text, 0, NULL);
	explicit_bzero(text, strlen(text));
	url = json_string_value(json_object_get(j, "url"));
	token = json_string_value(json_object_get(j, "token"));
	if (url == NULL || token == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
			    "%s is not a session file; remove it and run 'ics-admin login'", path);
		return FALSE;
	}
	if (s->url == NULL) {
		s->url = g_strdup(url);
		s->configured = TRUE;
	}
	/* A token only goes back to the manager that issued it. */
	if (with_token && g_str_equal(url, s->url)) {
		s->token = g_strdup(token);
		s->session_user = g_strdup(json_string_value(json_object_get(j, "user")));
	}
	explicit_bzero((char *)token, strlen(token));
	return TRUE;
}

static void strip_slashes(char *url)
{
	while (g_str_has_suffix(url, "/") && strlen(url) > 1)
		url[strlen(url) - 1] = '\0';
}

gboolean ics_admin_settings_load(IcsAdminSettings *s, const IcsAdminFlags *flags,
				 gboolean with_session, GError **error)
{
	g_autofree char *config = NULL;
	gboolean required = TRUE;

	memset(s, 0, sizeof(*s));
	if (flags->config_file)
		config = g_strdup(flags->config_file);
	else if ((config = env("ICS_CONFIG")) == NULL) {
		g_autofree char *dir = ics_admin_config_dir();

		config = g_build_filename(dir, "admin.conf", NULL);
		required = FALSE;
	}
	if (!load_config_file(s, config, required, error))
		return FALSE;
	take(&s->url, env("ICS_URL"));
	take(&s->ca, env("ICS_CA"));
	take(&s->access_key, env("ICS_ACCESS_KEY"));
	take(&s->secret_key, env("ICS_SECRET_KEY"));
	take(&s->url, g_strdup(flags->url));
	take(&s->ca, g_strdup(flags->ca));
	if ((s->access_key == NULL) != (s->secret_key == NULL))
		return ics_error_invalid(error,
					 "an access key needs its secret key and the other way "
					 "round (ICS_ACCESS_KEY and ICS_SECRET_KEY, or access_key= "
					 "and secret_key= in admin.conf)");
	if (s->url) {
		strip_slashes(s->url);
		s->configured = TRUE;
	}
	if (s->access_key)
		s->configured = TRUE;
	if (!load_session(s, with_session, error))
		return FALSE;
	if (s->url == NULL)
		s->url = g_strdup(ICS_REST_DEFAULT_URL);
	strip_slashes(s->url);
	return TRUE;
}

gboolean ics_admin_session_save(const char *url, const char *user, const char *token,
				const char *expires_at, GError **error)
{
	g_autofree char *dir = ics_admin_config_dir();
	g_autofree char *path = g_build_filename(dir, "session", NULL);
	g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
	g_autoptr(json_t) j = json_pack("{s:s, s:s, s:s, s:s?}", "url", url, "user", user, "token",
					token, "expires_at", expires_at);
	g_autofree char *text = json_dumps(j, JSON_INDENT(2));
	gsize len = strlen(text);
	gboolean ok;
	int fd;

	if (g_mkdir_with_parents(dir, 0700) != 0) {
		ics_error_set_errno(error, errno, "cannot create %s", dir);
		return FALSE;
	}
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		ics_error_set_errno(error, errno, "cannot create %s", tmp);
		explicit_bzero(text, len);
		return FALSE;
	}
	ok = write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
	if (!ok)
		ics_error_set_errno(error, errno, "cannot write %s", tmp);
	close(fd);
	explicit_bzero(text, len);
	if (ok && rename(tmp, path) != 0) {
		ics_error_set_errno(error, errno, "cannot rename %s to %s", tmp, path);
		ok = FALSE;
	}
	if (!ok)
		unlink(tmp);
	return ok;
}

gboolean ics_admin_session_delete(GError **error)
{
	g_autofree char *path = ics_admin_session_path();

	if (unlink(path) != 0 && errno != ENOENT) {
		ics_error_set_errno(error, errno, "cannot remove %s", path);
		return FALSE;
	}
	return TRUE;
}
