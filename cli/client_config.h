/*
 * client_config.h: where ics-admin finds its manager and credentials --
 * ~/.config/ics/admin.conf, the environment, the command line, and the
 * session file written by `ics-admin login` (internal to ics-admin).
 *
 * Precedence, lowest first: admin.conf, environment (ICS_URL, ICS_CA,
 * ICS_ACCESS_KEY, ICS_SECRET_KEY, ICS_CONFIG), flags (--url, --ca,
 * --config).  When none of them names a URL, the saved session's is used
 * (the manager of the last login), else https://localhost:8443.  Files holding credentials must be
 * private: admin.conf and the session file are refused when they are not owned by the user or are
 * accessible by group or others.  The configuration directory is
 * $XDG_CONFIG_HOME/ics, else $HOME/.config/ics (read at each call, not
 * cached, so tests can point HOME elsewhere).
 */
#ifndef ICS_ADMIN_CLIENT_CONFIG_H
#define ICS_ADMIN_CLIENT_CONFIG_H

#include <glib.h>
#include <jansson.h>

/* What a command line gave (each may be NULL). */
typedef struct {
	char *config_file;
	char *url;
	char *ca;
} IcsAdminFlags;
void ics_admin_flags_clear(IcsAdminFlags *f);

typedef struct {
	char *url; /* never NULL once loaded */
	char *ca;
	char *user; /* default login name (admin.conf user=) */
	char *access_key;
	char *secret_key;
	char *token; /* the session file's, when it was made for @url */
	char *session_user;
	/* A manager was named: by a flag, the environment, admin.conf (url= or
	 * access keys) or a saved session.  `ics-admin vm` goes through the
	 * manager only then. */
	gboolean configured;
} IcsAdminSettings;
void ics_admin_settings_clear(IcsAdminSettings *s);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(IcsAdminSettings, ics_admin_settings_clear)

/* ~/.config/ics (see above); g_free it. */
char *ics_admin_config_dir(void);
char *ics_admin_session_path(void);

/* Read a file that must be private to the user: *@exists FALSE (and TRUE
 * returned) when it is absent; PERMISSION when others may read or write it
 * or another user owns it. */
gboolean ics_admin_read_private_file(const char *path, char **contents, gboolean *exists,
				     GError **error);

/* Resolve the settings; reads the session file unless @with_session is
 * FALSE. */
gboolean ics_admin_settings_load(IcsAdminSettings *s, const IcsAdminFlags *flags,
				 gboolean with_session, GError **error);

/* Write the session file (mode 0600, replaced atomically). */
gboolean ics_admin_session_save(const char *url, const char *user, const char *token,
				const char *expires_at, GError **error);
/* Remove it; TRUE when it was absent. */
gboolean ics_admin_session_delete(GError **error);

#endif /* ICS_ADMIN_CLIENT_CONFIG_H */
