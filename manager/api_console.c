/*
 * api_console.c: the web console's static files -- GET / (a redirect),
 * GET /console/ (the page) and GET /console/{file} (its assets).
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
 *
 * Caching: the build names every asset but index.html after a hash of its
 * content (esbuild's "name-XXXXXXXX.ext"), so those are immutable for a
 * year and a new console is one fresh index.html away ("no-cache": the
 * browser revalidates it at every load).  Compression costs nothing at run
 * time: the build leaves "FILE.gz" beside each text asset, served instead
 * of FILE to clients that accept gzip; the daemon never compresses.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"

#include "api.h"

#define CONSOLE_INDEX "index.html"
#define IMMUTABLE "public, max-age=31536000, immutable"

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

/* "name-XXXXXXXX.ext": esbuild's content hash (8 of A-Z, 0-9) closes the
 * stem, so the name changes whenever the content does. */
gboolean ics_console_name_hashed(const char *name)
{
	const char *dot = strchr(name, '.');
	gsize stem = dot ? (gsize)(dot - name) : strlen(name);

	if (stem < 10 || name[stem - 9] != '-')
		return FALSE;
	for (gsize i = stem - 8; i < stem; i++)
		if (!g_ascii_isupper(name[i]) && !g_ascii_isdigit(name[i]))
			return FALSE;
	return TRUE;
}

static gboolean accepts_gzip(const IcsRequest *req)
{
	const char *ae = ics_request_header(req, "Accept-Encoding");
	g_auto(GStrv) codings = NULL;

	if (ae == NULL)
		return FALSE;
	codings = g_strsplit(ae, ",", -1);
	for (guint i = 0; codings[i]; i++) {
		g_autofree char *c = g_strstrip(g_strdup(codings[i]));

		/* "gzip" or "gzip;q=..." (but not "gzip;q=0") */
		if (g_ascii_strncasecmp(c, "gzip", 4) == 0 && (c[4] == '\0' || c[4] == ';') &&
		    !g_str_has_suffix(c, "q=0"))
			return TRUE;
	}
	return FALSE;
}

static gboolean read_regular(const char *path, char **data, gsize *len)
{
	return g_file_test(path, G_FILE_TEST_IS_REGULAR) &&
	       g_file_get_contents(path, data, len, NULL);
}

static gboolean serve(IcsManager *m, IcsRequest *req, IcsResponse *resp, const char *name,
		      GError **error)
{
	g_autofree char *path = NULL, *gz = NULL, *data = NULL;
	gsize len;

	if (!ics_name_check("file name", name, error))
		return FALSE;
	if (m->cfg.console_dir == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "no web console here ([manager] console_dir is not set)");
		return FALSE;
	}
	path = g_build_filename(m->cfg.console_dir, name, NULL);
	gz = g_strconcat(path, ".gz", NULL);
	if (!g_str_has_suffix(name, ".gz") && accepts_gzip(req) && read_regular(gz, &data, &len)) {
		ics_response_header(resp, "Content-Encoding", "gzip");
	} else if (!read_regular(path, &data, &len)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "no console file %s", name);
		return FALSE;
	}
	ics_response_header(resp, "Vary", "Accept-Encoding");
	ics_response_header(resp, "Cache-Control",
			    ics_console_name_hashed(name) ? IMMUTABLE : "no-cache");
	resp->status = 200;
	resp->content_type = g_strdup(media_type(name));
	resp->text_len = len;
	resp->text = g_steal_pointer(&data);
	return TRUE;
}

static gboolean get_asset(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	return serve(m, req, resp, ics_request_param(req, "file"), error);
}

static gboolean get_index(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	return serve(m, req, resp, CONSOLE_INDEX, error);
}

/* The address of the manager is the address of its console. */
static gboolean get_root(IcsManager *m, IcsRequest *req, IcsResponse *resp, GError **error)
{
	(void)m;
	(void)req;
	(void)error;
	resp->status = 302;
	ics_response_header(resp, "Location", "/console/");
	return TRUE;
}

const IcsApiRoute ics_api_console_routes[] = {
	{ "GET", "/", get_root, 0, NULL, NULL, NULL },
	{ "GET", "/console/", get_index, 0, NULL, NULL, NULL },
	{ "GET", "/console/{file}", get_asset, 0, NULL, NULL, NULL },
	{ 0 },
};
