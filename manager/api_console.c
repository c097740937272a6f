/*
 * api_console.c: GET /console/{file} -- the web console's static assets.
 *
 * The console is a set of files (HTML, JavaScript, CSS, images) in one flat
 * directory, [manager] console_dir; the pages call the API like any other
 * client, so the assets themselves need no authentication.  A file name is
 * an object name (no "/", no "..", no hidden file), so nothing outside the
 * directory can be named; only regular files are served.  Without a
 * configured directory every file is 404.  A file is read at each request
 * (assets are small and the page cache holds them), so a new console is
 * served without a restart.  This route is also the benchmark's ceiling: the
 * same server, router and connection handling, no database (bench/manager).
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"

#include "api.h"

static const char *media_type(const char *name)
{
	static const char *const types[][2] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".ico", "image/vnd.microsoft.icon" },
		{ ".txt", "text/plain; charset=utf-8" },
		{ ".woff2", "font/woff2" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(types); i++)
		if (g_str_has_suffix(name, types[i][0]))
			return types[i][1];
	return "application/octet-stream";
}

static gboolean get_asset(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	const char *name = ics_request_param(req, "file");
	g_autofree char *path = NULL, *data = NULL;
	gsize len;

	if (!ics_name_check("file name", name, error))
		return FALSE;
	if (m->cfg.console_dir == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "no web console here ([manager] console_dir is not set)");
		return FALSE;
	}
	path = g_build_filename(m->cfg.console_dir, name, NULL);
	if (!g_file_test(path, G_FILE_TEST_IS_REGULAR) ||
	    !g_file_get_contents(path, &data, &len, NULL)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "no console file %s", name);
		return FALSE;
	}
	resp->status = 200;
	resp->content_type = g_strdup(media_type(name));
	resp->text_len = len;
	resp->text = g_steal_pointer(&data);
	return TRUE;
}

const IcsApiRoute ics_api_console_routes[] = {
	{ "GET", "/console/{file}", get_asset, 0, NULL, NULL, NULL },
	{ 0 },
};
