/*
 * http_router.c: method + path pattern -> route.
 *
 * Patterns are split into segments once, when added; matching splits the
 * request path and compares segment by segment, a "{name}" segment taking
 * any one non-empty segment.  The API has a few dozen routes, so a linear
 * scan is both the simplest and fast enough (well under a microsecond per
 * route).  A path is tried against every pattern before the method is
 * looked at, so the router can tell 404 (no such resource) from 405 (no
 * such operation on it).
 */
#include "config.h"

#include <string.h>

#include "ics/manager/http.h"

typedef struct {
	char *method;
	char **segments; /* NULL-terminated */
	const void *route;
} Entry;

struct IcsRouter {
	GPtrArray *entries; /* Entry* */
};

static void entry_free(gpointer p)
{
	Entry *e = p;

	g_free(e->method);
	g_strfreev(e->segments);
	g_free(e);
}

IcsRouter *ics_router_new(void)
{
	IcsRouter *r = g_new0(IcsRouter, 1);

	r->entries = g_ptr_array_new_with_free_func(entry_free);
	return r;
}

void ics_router_free(IcsRouter *router)
{
	if (router == NULL)
		return;
	g_ptr_array_unref(router->entries);
	g_free(router);
}

void ics_router_add(IcsRouter *router, const char *method, const char *pattern, const void *route)
{
	Entry *e = g_new0(Entry, 1);

	e->method = g_strdup(method);
	e->segments = g_strsplit(pattern + (pattern[0] == '/'), "/", -1);
	e->route = route;
	g_ptr_array_add(router->entries, e);
}

static gboolean segments_match(char *const *pattern, char *const *path, GHashTable *params)
{
	guint i;

	for (i = 0; pattern[i] && path[i]; i++) {
		const char *p = pattern[i];
		gsize n = strlen(p);

		if (n > 2 && p[0] == '{' && p[n - 1] == '}') {
			if (path[i][0] == '\0')
				return FALSE;
			if (params)
				g_hash_table_replace(params, g_strndup(p + 1, n - 2),
						     g_strdup(path[i]));
		} else if (strcmp(p, path[i]) != 0) {
			return FALSE;
		}
	}
	return pattern[i] == NULL && path[i] == NULL;
}

IcsRouteMatch ics_router_match(IcsRouter *router, IcsRequest *req, const void **route, char **allow)
{
	const char *path = req->path;
	g_auto(GStrv) segs = NULL;
	g_autoptr(GString) methods = g_string_new(NULL);
	gboolean path_known = FALSE;

	if (path[0] != '/')
		return ICS_ROUTE_NOT_FOUND;
	segs = g_strsplit(path + 1, "/", -1);
	for (guint i = 0; i < router->entries->len; i++) {
		Entry *e = g_ptr_array_index(router->entries, i);

		if (!segments_match(e->segments, segs, NULL))
			continue;
		path_known = TRUE;
		if (strcmp(e->method, req->method) == 0) {
			segments_match(e->segments, segs, req->params);
			*route = e->route;
			return ICS_ROUTE_FOUND;
		}
		g_string_append_printf(methods, "%s%s", methods->len ? ", " : "", e->method);
	}
	if (!path_known)
		return ICS_ROUTE_NOT_FOUND;
	if (allow)
		*allow = g_strdup(methods->str);
	return ICS_ROUTE_METHOD_NOT_ALLOWED;
}
