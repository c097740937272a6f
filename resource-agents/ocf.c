/*
 * ocf.c: the OCF calling convention (see ocf.h).
 *
 * Meta-data is built with libxml2's tree API from the agent's table, so
 * every description is escaped correctly and the output follows
 * ra-api-1.dtd element order (version, longdesc, shortdesc, parameters,
 * actions).  The dispatcher keeps the current action in a static so the
 * probe test (ocf_is_probe) needs no argument threading.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "ics/error.h"
#include "ics/xml.h"
#include "ocf.h"

static const char *current_action;
static const char *current_instance;

const char *ocf_rc_name(int rc)
{
	static const char *const names[] = {
		"OCF_SUCCESS",	     "OCF_ERR_GENERIC",	   "OCF_ERR_ARGS",
		"OCF_ERR_UNIMPLEMENTED", "OCF_ERR_PERM",	   "OCF_ERR_INSTALLED",
		"OCF_ERR_CONFIGURED",    "OCF_NOT_RUNNING",	   "OCF_RUNNING_PROMOTED",
		"OCF_FAILED_PROMOTED",
	};

	if (rc < 0 || rc >= (int)G_N_ELEMENTS(names))
		return "OCF_UNKNOWN";
	return names[rc];
}

const char *ocf_param_raw(const char *name)
{
	g_autofree char *key = g_strconcat("OCF_RESKEY_", name, NULL);
	const char *v = getenv(key);

	return (v != NULL && v[0] != '\0') ? v : NULL;
}

static const OcfParam *find_param(const OcfAgent *agent, const char *name)
{
	for (const OcfParam *p = agent->params; p != NULL && p->name != NULL; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

const char *ocf_param(const OcfAgent *agent, const char *name)
{
	const char *v = ocf_param_raw(name);
	const OcfParam *p;

	if (v != NULL)
		return v;
	p = find_param(agent, name);
	return p != NULL ? p->def : NULL;
}

gboolean ocf_parse_bool(const char *name, const char *value, gboolean *out, GError **error)
{
	static const char *const yes[] = { "1", "yes", "true", "on", NULL };
	static const char *const no[] = { "0", "no", "false", "off", NULL };

	for (guint i = 0; value != NULL && yes[i] != NULL; i++) {
		if (g_ascii_strcasecmp(value, yes[i]) == 0) {
			*out = TRUE;
			return TRUE;
		}
		if (g_ascii_strcasecmp(value, no[i]) == 0) {
			*out = FALSE;
			return TRUE;
		}
	}
	g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
		    "parameter %s='%s' is not a boolean (use true or false)", name,
		    value ? value : "");
	return FALSE;
}

gboolean ocf_parse_uint(const char *name, const char *value, guint64 min, guint64 max,
			guint64 *out, GError **error)
{
	char *end = NULL;
	guint64 v;

	errno = 0;
	if (value == NULL || !g_ascii_isdigit(value[0]))
		goto bad;
	v = g_ascii_strtoull(value, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		goto bad;
	*out = v;
	return TRUE;
bad:
	g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
		    "parameter %s='%s' is not an integer between %" G_GUINT64_FORMAT
		    " and %" G_GUINT64_FORMAT,
		    name, value ? value : "", min, max);
	return FALSE;
}

gboolean ocf_check_required(const OcfAgent *agent, GError **error)
{
	for (const OcfParam *p = agent->params; p != NULL && p->name != NULL; p++) {
		if (p->required && ocf_param_raw(p->name) == NULL) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
				    "required parameter %s is not set", p->name);
			return FALSE;
		}
	}
	return TRUE;
}

const char *ocf_resource_instance(const OcfAgent *agent)
{
	const char *v = getenv("OCF_RESOURCE_INSTANCE");

	return (v != NULL && v[0] != '\0') ? v : agent->name;
}

const char *ocf_current_action(void)
{
	return current_action;
}

gboolean ocf_is_probe(void)
{
	const char *interval = getenv("OCF_RESKEY_CRM_meta_interval");

	return current_action != NULL && strcmp(current_action, "monitor") == 0 &&
	       interval != NULL && strcmp(interval, "0") == 0;
}

guint ocf_timeout_ms(guint def_ms)
{
	const char *v = getenv("OCF_RESKEY_CRM_meta_timeout");
	guint64 ms;

	if (v == NULL || !ocf_parse_uint("CRM_meta_timeout", v, 1, G_MAXUINT, &ms, NULL))
		return def_ms;
	return (guint)ms;
}

void ocf_exit_reason(const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_strdelimit(msg, "\r\n", ' ');
	/* Pacemaker takes the text after the prefix up to the end of line. */
	fprintf(stderr, "ocf-exit-reason:%s\n", msg);
	fflush(stderr);
	ics_log(ICS_LOG_ERROR, "%s: %s", current_instance ? current_instance : "ocf", msg);
}

void ocf_log(IcsLogLevel level, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	if (!ics_log_enabled(level))
		return;
	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	ics_log(level, "%s: %s", current_instance ? current_instance : "ocf", msg);
	fprintf(stderr, "%s: %s: %s\n", current_instance ? current_instance : "ocf",
		ics_log_level_name(level), msg);
	fflush(stderr);
}

static const char *type_name(OcfParamType type)
{
	switch (type) {
	case OCF_TYPE_INTEGER:
		return "integer";
	case OCF_TYPE_BOOLEAN:
		return "boolean";
	case OCF_TYPE_TIME:
		return "time";
	case OCF_TYPE_STRING:
		break;
	}
	return "string";
}

static void add_desc(xmlNode *parent, const char *elem, const char *text)
{
	xmlNode *n = xmlNewTextChild(parent, NULL, BAD_CAST elem, BAD_CAST(text ? text : ""));

	xmlNewProp(n, BAD_CAST "lang", BAD_CAST "en");
}

char *ocf_metadata_xml(const OcfAgent *agent)
{
	g_autoptr(xmlDoc) doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNode *root = xmlNewNode(NULL, BAD_CAST "resource-agent");
	xmlNode *params, *actions;

	xmlDocSetRootElement(doc, root);
	xmlCreateIntSubset(doc, BAD_CAST "resource-agent", NULL, BAD_CAST "ra-api-1.dtd");
	xmlNewProp(root, BAD_CAST "name", BAD_CAST agent->name);
	xmlNewProp(root, BAD_CAST "version", BAD_CAST agent->version);
	xmlNewTextChild(root, NULL, BAD_CAST "version", BAD_CAST "1.1");
	add_desc(root, "longdesc", agent->longdesc);
	add_desc(root, "shortdesc", agent->shortdesc);

	params = xmlNewChild(root, NULL, BAD_CAST "parameters", NULL);
	for (const OcfParam *p = agent->params; p != NULL && p->name != NULL; p++) {
		xmlNode *pn = xmlNewChild(params, NULL, BAD_CAST "parameter", NULL);
		xmlNode *content;

		xmlNewProp(pn, BAD_CAST "name", BAD_CAST p->name);
		xmlNewProp(pn, BAD_CAST "required", BAD_CAST(p->required ? "1" : "0"));
		xmlNewProp(pn, BAD_CAST "unique", BAD_CAST(p->unique ? "1" : "0"));
		add_desc(pn, "longdesc", p->longdesc ? p->longdesc : p->shortdesc);
		add_desc(pn, "shortdesc", p->shortdesc);
		content = xmlNewChild(pn, NULL, BAD_CAST "content", NULL);
		xmlNewProp(content, BAD_CAST "type", BAD_CAST type_name(p->type));
		if (p->def != NULL)
			xmlNewProp(content, BAD_CAST "default", BAD_CAST p->def);
	}

	actions = xmlNewChild(root, NULL, BAD_CAST "actions", NULL);
	for (const OcfAction *a = agent->actions; a != NULL && a->name != NULL; a++) {
		xmlNode *an = xmlNewChild(actions, NULL, BAD_CAST "action", NULL);
		g_autofree char *timeout = g_strdup_printf("%us", a->timeout_s);

		xmlNewProp(an, BAD_CAST "name", BAD_CAST a->name);
		xmlNewProp(an, BAD_CAST "timeout", BAD_CAST timeout);
		if (a->interval_s > 0) {
			g_autofree char *interval = g_strdup_printf("%us", a->interval_s);

			xmlNewProp(an, BAD_CAST "interval", BAD_CAST interval);
		}
		if (a->depth >= 0) {
			g_autofree char *depth = g_strdup_printf("%d", a->depth);

			xmlNewProp(an, BAD_CAST "depth", BAD_CAST depth);
		}
	}
	return ics_xml_to_string(doc);
}

void ocf_print_usage(const OcfAgent *agent, FILE *out)
{
	fprintf(out, "usage: %s {", agent->name);
	for (const OcfAction *a = agent->actions; a != NULL && a->name != NULL; a++)
		fprintf(out, "%s%s", a == agent->actions ? "" : "|", a->name);
	fprintf(out, "}\n\n%s\nParameters come from OCF_RESKEY_<name> variables:\n",
		agent->shortdesc);
	for (const OcfParam *p = agent->params; p != NULL && p->name != NULL; p++)
		fprintf(out, "  %-16s %s%s%s%s\n", p->name, p->shortdesc,
			p->required ? " (required)" : "", p->def ? "; default: " : "",
			p->def ? p->def : "");
}

static void log_init(const OcfAgent *agent)
{
	g_autofree char *ident = g_strconcat("ocf:ics:", agent->name, NULL);

	/* syslog here; ocf_log() adds the stderr copy Pacemaker captures. */
	ics_log_init(ident, ICS_LOG_SYSLOG, ICS_LOG_INFO);
}

int ocf_main(const OcfAgent *agent, int argc, char **argv)
{
	const char *action = argc > 1 ? argv[1] : NULL;

	current_instance = ocf_resource_instance(agent);
	if (action == NULL || argc > 2) {
		ocf_print_usage(agent, stderr);
		return OCF_ERR_ARGS;
	}
	current_action = action;
	if (strcmp(action, "meta-data") == 0) {
		g_autofree char *xml = ocf_metadata_xml(agent);

		fputs(xml, stdout);
		fflush(stdout);
		return OCF_SUCCESS;
	}
	if (strcmp(action, "usage") == 0 || strcmp(action, "help") == 0) {
		ocf_print_usage(agent, stdout);
		return OCF_SUCCESS;
	}
	for (const OcfAction *a = agent->actions; a != NULL && a->name != NULL; a++) {
		int rc;

		if (strcmp(a->name, action) != 0 || a->run == NULL)
			continue;
		log_init(agent);
		ocf_log(ICS_LOG_DEBUG, "%s", action);
		rc = a->run(agent);
		ocf_log(rc == OCF_SUCCESS || (rc == OCF_NOT_RUNNING && ocf_is_probe())
				? ICS_LOG_DEBUG
				: ICS_LOG_INFO,
			"%s: %s", action, ocf_rc_name(rc));
		return rc;
	}
	fprintf(stderr, "%s: action '%s' is not implemented\n", agent->name, action);
	return OCF_ERR_UNIMPLEMENTED;
}
