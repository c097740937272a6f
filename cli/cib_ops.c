/*
 * cib_ops.c: drive cibadmin, crm_resource and crm_mon (see cib_ops.h).
 *
 * The VM's objects themselves are built by libicsvmpool
 * (ics/cib_objects.h), which ics-managerd uses too, so either can find (by
 * the primitive's uuid parameter) and remove what the other created.
 */
#include "config.h"

#include "cib_ops.h"

#include <string.h>

#include "ics/error.h"
#include "ics/xml.h"

#include <libxml/xpathInternals.h>

/* Pacemaker's crm_exit_t values that mean something to callers. */
#define CRM_EX_EXISTS 76
#define CRM_EX_NOSUCH 105
#define CRM_EX_TIMEOUT 124

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlBuffer, xmlBufferFree)

static xmlDoc *new_doc(const char *root_name, xmlNode **root)
{
	xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");

	*root = xmlNewNode(NULL, BAD_CAST root_name);
	xmlDocSetRootElement(doc, *root);
	return doc;
}

/* The XML of @doc's root element alone, without a declaration. */
static char *element_text(xmlDoc *doc)
{
	g_autoptr(xmlBuffer) buf = xmlBufferCreate();

	xmlNodeDump(buf, doc, xmlDocGetRootElement(doc), 0, 0);
	return g_strdup((const char *)xmlBufferContent(buf));
}

/* Run one tool; a non-zero exit becomes an error coded after Pacemaker's
 * exit status.  @out receives stdout when not NULL. */
static gboolean run_tool(IcsCib *cib, const char *const *argv, char **out, GError **error)
{
	IcsExecOptions opts = { 0 };
	g_auto(IcsExecResult) res = { 0 };
	gboolean ok;

	opts.argv = argv;
	opts.timeout_ms = cib->timeout_ms ? cib->timeout_ms : ICS_CIB_DEFAULT_TIMEOUT_MS;
	if (cib->run)
		ok = cib->run(&opts, &res, cib->user, error);
	else
		ok = ics_exec_run(&opts, &res, error);
	if (!ok)
		return FALSE;
	if (!ics_exec_check_exit(&res, argv[0], error)) {
		if (res.exit_status == CRM_EX_EXISTS)
			(*error)->code = ICS_ERROR_CONFLICT;
		else if (res.exit_status == CRM_EX_NOSUCH)
			(*error)->code = ICS_ERROR_NOT_FOUND;
		else if (res.exit_status == CRM_EX_TIMEOUT)
			(*error)->code = ICS_ERROR_TIMEOUT;
		return FALSE;
	}
	if (out) {
		*out = res.out;
		res.out = NULL;
	}
	return TRUE;
}

gboolean ics_cib_create(IcsCib *cib, const char *scope, xmlDoc *obj, GError **error)
{
	g_autofree char *text = element_text(obj);
	const char *argv[] = { "cibadmin", "--create", "--scope", scope, "--xml-text", text, NULL };

	return run_tool(cib, argv, NULL, error);
}

gboolean ics_cib_modify_create(IcsCib *cib, const char *scope, xmlDoc *obj, GError **error)
{
	g_autofree char *text = element_text(obj);
	const char *argv[] = { "cibadmin", "--modify", "--allow-create", "--scope", scope,
			       "--xml-text", text,	 NULL };

	return run_tool(cib, argv, NULL, error);
}

gboolean ics_cib_replace(IcsCib *cib, const char *scope, xmlDoc *obj, GError **error)
{
	g_autofree char *text = element_text(obj);
	const char *argv[] = { "cibadmin", "--replace", "--scope", scope, "--xml-text", text, NULL };

	return run_tool(cib, argv, NULL, error);
}

gboolean ics_cib_delete(IcsCib *cib, const char *scope, const char *tag, const char *id,
			GError **error)
{
	g_autoptr(xmlDoc) doc = NULL;
	g_autofree char *text = NULL;
	xmlNode *n;
	const char *argv[] = { "cibadmin", "--delete", "--scope", scope, "--xml-text", NULL, NULL };

	doc = new_doc(tag, &n);
	xmlNewProp(n, BAD_CAST "id", BAD_CAST id);
	text = element_text(doc);
	argv[5] = text;
	return run_tool(cib, argv, NULL, error);
}

gboolean ics_cib_delete_constraints_of(IcsCib *cib, const char *rsc_id, GError **error)
{
	g_autofree char *xpath = NULL;
	/* --force: cibadmin calls every --delete-all dangerous. */
	const char *argv[] = { "cibadmin", "--delete-all", "--force", "--xpath", NULL, NULL };
	g_autoptr(GError) e = NULL;

	if (!ics_cib_id_valid(rsc_id))
		return ics_error_invalid(error, "\"%s\" is not a valid resource id", rsc_id);
	xpath = g_strdup_printf("/cib/configuration/constraints/*[@rsc='%s' or @with-rsc='%s' or "
				"@first='%s' or @then='%s']",
				rsc_id, rsc_id, rsc_id, rsc_id);
	argv[4] = xpath;
	if (run_tool(cib, argv, NULL, &e) || g_error_matches(e, ICS_ERROR, ICS_ERROR_NOT_FOUND))
		return TRUE;
	g_propagate_error(error, g_steal_pointer(&e));
	return FALSE;
}

static xmlDoc *query_tool(IcsCib *cib, const char *const *argv, const char *what, GError **error)
{
	g_autofree char *out = NULL;

	if (!run_tool(cib, argv, &out, error))
		return NULL;
	return ics_xml_parse_string(out, -1, what, error);
}

xmlDoc *ics_cib_query(IcsCib *cib, const char *scope, GError **error)
{
	const char *argv[] = { "cibadmin", "--query", "--scope", scope, NULL };

	return query_tool(cib, argv, "cibadmin --query", error);
}

xmlDoc *ics_cib_status(IcsCib *cib, GError **error)
{
	const char *argv[] = { "crm_mon", "--output-as=xml", "--inactive", NULL };

	return query_tool(cib, argv, "crm_mon", error);
}

gboolean ics_cib_resource_state(xmlDoc *status, const char *rsc_id, char **role, char **node)
{
	g_autoptr(xmlXPathContext) ctx = xmlXPathNewContext(status);
	g_autoptr(xmlXPathObject) res = NULL;
	xmlNode *r, *c;

	*role = NULL;
	*node = NULL;
	xmlXPathRegisterVariable(ctx, BAD_CAST "id", xmlXPathNewString(BAD_CAST rsc_id));
	res = xmlXPathEvalExpression(BAD_CAST "//resources//resource[@id=$id]", ctx);
	if (res == NULL || res->nodesetval == NULL || res->nodesetval->nodeNr == 0)
		return FALSE;
	r = res->nodesetval->nodeTab[0];
	{
		g_autoptr(xmlChar) v = xmlGetProp(r, BAD_CAST "role");

		*role = g_strdup(v ? (const char *)v : "Unknown");
	}
	for (c = r->children; c; c = c->next) {
		if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST "node")) {
			g_autoptr(xmlChar) n = xmlGetProp(c, BAD_CAST "name");

			if (n) {
				*node = g_strdup((const char *)n);
				break;
			}
		}
	}
	return TRUE;
}

gboolean ics_cib_node_usable(xmlDoc *status, const char *node, GError **error)
{
	g_autoptr(xmlXPathContext) ctx = xmlXPathNewContext(status);
	g_autoptr(xmlXPathObject) all = xmlXPathEvalExpression(BAD_CAST "//nodes/node", ctx);
	g_autoptr(GString) names = g_string_new(NULL);
	static const char *const bad[] = { "standby", "maintenance", "unclean", "pending" };
	int i;

	for (i = 0; all && all->nodesetval && i < all->nodesetval->nodeNr; i++) {
		xmlNode *n = all->nodesetval->nodeTab[i];
		g_autoptr(xmlChar) name = xmlGetProp(n, BAD_CAST "name");
		g_autoptr(xmlChar) online = NULL;

		if (name == NULL)
			continue;
		if (strcmp((const char *)name, node) != 0) {
			g_string_append_printf(names, "%s%s", names->len ? ", " : "", name);
			continue;
		}
		online = xmlGetProp(n, BAD_CAST "online");
		if (online == NULL || strcmp((const char *)online, "true") != 0) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT, "node %s is offline", node);
			return FALSE;
		}
		for (guint b = 0; b < G_N_ELEMENTS(bad); b++) {
			g_autoptr(xmlChar) v = xmlGetProp(n, BAD_CAST bad[b]);

			if (v != NULL && strcmp((const char *)v, "true") == 0) {
				g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
					    "node %s is in %s; choose another node or take it out "
					    "first",
					    node, bad[b]);
				return FALSE;
			}
		}
		return TRUE;
	}
	g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
		    "node %s is not a cluster node (nodes: %s)", node, names->str);
	return FALSE;
}

gboolean ics_cib_set_target_role(IcsCib *cib, const char *rsc_id, const char *role,
				 GError **error)
{
	const char *argv[] = { "crm_resource",	  "--resource",	     rsc_id, "--meta", "--set-parameter",
			       "target-role", "--parameter-value", role,   NULL };

	return run_tool(cib, argv, NULL, error);
}

gboolean ics_cib_move(IcsCib *cib, const char *rsc_id, const char *node, GError **error)
{
	const char *argv[] = { "crm_resource", "--resource", rsc_id, "--move", "--node", node, NULL };

	return run_tool(cib, argv, NULL, error);
}

gboolean ics_cib_clear(IcsCib *cib, const char *rsc_id, GError **error)
{
	const char *argv[] = { "crm_resource", "--resource", rsc_id, "--clear", NULL };

	return run_tool(cib, argv, NULL, error);
}

gboolean ics_cib_run_tool(IcsCib *cib, const char *const *argv, char **out, GError **error)
{
	return run_tool(cib, argv, out, error);
}

gboolean ics_cib_restart(IcsCib *cib, const char *rsc_id, guint timeout_s, GError **error)
{
	g_autofree char *timeout = g_strdup_printf("%us", timeout_s);
	const char *argv[] = { "crm_resource", "--resource", rsc_id, "--restart",
			       "--timeout",    timeout,	     NULL };
	IcsCib longer = *cib;

	/* crm_resource gives up at @timeout_s itself; the deadline is a backstop. */
	longer.timeout_ms = (timeout_s + 30) * 1000;
	return run_tool(&longer, argv, NULL, error);
}
