/*
 * xml.c: libxml2 parsing and XPath with errors as GErrors.
 *
 * libxml2 reports errors through a per-thread structured error handler.
 * While one of these helpers parses, it installs its own handler that keeps
 * the first error (the cause; later ones are usually consequences such as
 * "premature end of data") and restores the previous handler afterwards,
 * so nothing is printed on stderr and the caller gets one message with the
 * line number.  Parsing never loads from the network and never substitutes
 * external entities: ICS parses libvirt domain XML and CIB fragments, and
 * neither needs them.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <libxml/xmlerror.h>
#include <libxml/xpathInternals.h>

#include "ics/error.h"
#include "ics/xml.h"

#define PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

typedef struct {
	char *message;
	int line;
} FirstError;

static void keep_first_error(void *data, xmlErrorPtr err)
{
	FirstError *first = data;

	if (first->message != NULL || err == NULL || err->level < XML_ERR_ERROR)
		return;
	first->message = g_strstrip(g_strdup(err->message ? err->message : "unknown error"));
	first->line = err->line;
}

typedef xmlDoc *(*ParseFunc)(const void *arg, gssize len);

static xmlDoc *read_memory(const void *arg, gssize len)
{
	return xmlReadMemory(arg, (int)len, NULL, NULL, PARSE_OPTIONS);
}

static xmlDoc *read_file(const void *arg, gssize len)
{
	return xmlReadFile(arg, NULL, PARSE_OPTIONS);
}

static xmlDoc *parse_captured(ParseFunc parse, const void *arg, gssize len, const char *what,
			      GError **error)
{
	FirstError first = { NULL, 0 };
	xmlStructuredErrorFunc old_handler = xmlStructuredError;
	void *old_data = xmlStructuredErrorContext;
	xmlGenericErrorFunc old_generic = xmlGenericError;
	void *old_generic_data = xmlGenericErrorContext;
	xmlDoc *doc;

	xmlSetStructuredErrorFunc(&first, keep_first_error);
	doc = parse(arg, len);
	xmlSetStructuredErrorFunc(old_data, old_handler);
	xmlSetGenericErrorFunc(old_generic_data, old_generic);

	if (doc == NULL || first.message != NULL) {
		if (first.message != NULL)
			g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE, "%s:%d: %s", what,
				    first.line, first.message);
		else
			g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
				    "%s: not a valid XML document", what);
		if (doc != NULL)
			xmlFreeDoc(doc);
		doc = NULL;
	}
	g_free(first.message);
	return doc;
}

xmlDoc *ics_xml_parse_string(const char *text, gssize len, const char *what, GError **error)
{
	if (text == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT, "%s: no XML text", what);
		return NULL;
	}
	if (len < 0)
		len = (gssize)strlen(text);
	if (len > G_MAXINT) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "%s: XML text too large (%" G_GSSIZE_FORMAT " bytes)", what, len);
		return NULL;
	}
	if (len == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE, "%s: empty document", what);
		return NULL;
	}
	return parse_captured(read_memory, text, len, what, error);
}

xmlDoc *ics_xml_parse_file(const char *path, GError **error)
{
	if (access(path, R_OK) != 0) {
		ics_error_set_errno(error, errno, "cannot read %s", path);
		return NULL;
	}
	return parse_captured(read_file, path, 0, path, error);
}

static xmlXPathObject *evaluate(xmlDoc *doc, const char *xpath, GError **error)
{
	g_autoptr(xmlXPathContext) ctx = NULL;
	FirstError first = { NULL, 0 };
	xmlStructuredErrorFunc old_handler = xmlStructuredError;
	void *old_data = xmlStructuredErrorContext;
	xmlXPathObject *obj;

	ctx = xmlXPathNewContext(doc);
	if (ctx == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "XPath: out of memory");
		return NULL;
	}
	xmlSetStructuredErrorFunc(&first, keep_first_error);
	obj = xmlXPathEvalExpression((const xmlChar *)xpath, ctx);
	xmlSetStructuredErrorFunc(old_data, old_handler);
	if (obj == NULL)
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "invalid XPath expression '%s': %s", xpath,
			    first.message ? first.message : "evaluation failed");
	g_free(first.message);
	return obj;
}

char *ics_xml_xpath_string(xmlDoc *doc, const char *xpath, GError **error)
{
	g_autoptr(xmlXPathObject) obj = evaluate(doc, xpath, error);
	g_autoptr(xmlChar) value = NULL;

	if (obj == NULL)
		return NULL;
	if (obj->type == XPATH_NODESET) {
		if (xmlXPathNodeSetIsEmpty(obj->nodesetval)) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "nothing matches '%s'",
				    xpath);
			return NULL;
		}
		value = xmlNodeGetContent(obj->nodesetval->nodeTab[0]);
	} else {
		value = xmlXPathCastToString(obj);
	}
	return g_strdup(value ? (const char *)value : "");
}

int ics_xml_xpath_count(xmlDoc *doc, const char *xpath, GError **error)
{
	g_autoptr(xmlXPathObject) obj = evaluate(doc, xpath, error);

	if (obj == NULL)
		return -1;
	if (obj->type != XPATH_NODESET) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "XPath expression '%s' does not select nodes", xpath);
		return -1;
	}
	return xmlXPathNodeSetGetLength(obj->nodesetval);
}

char *ics_xml_to_string(xmlDoc *doc)
{
	xmlChar *buf = NULL;
	int len = 0;
	char *copy;

	/* No encoding in the declaration (UTF-8 is XML's default): consumers
	 * such as crmsh parse the text as a decoded string, and lxml refuses
	 * decoded strings that declare an encoding. */
	xmlDocDumpFormatMemory(doc, &buf, &len, 1);
	copy = g_strndup((const char *)buf, (gsize)MAX(len, 0));
	xmlFree(buf);
	return copy;
}
