/*
 * ics/xml.h: libxml2 with GError and g_autoptr.
 *
 * libxml2 prints parse errors on stderr through a global handler unless told
 * otherwise; ICS programs (agents run by Pacemaker, the manager) must report
 * them as errors instead.  These helpers parse with errors captured into a
 * GError ("what:line: message"), never touch the network, and read single
 * values with XPath.
 */
#ifndef ICS_XML_H
#define ICS_XML_H

#include <glib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathObject, xmlXPathFreeObject)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlChar, xmlFree)

/* Parse @len bytes (or up to NUL when @len < 0).  @what names the document
 * in messages.  ICS_ERROR_PARSE on malformed input.  No network, no
 * external entities. */
xmlDoc *ics_xml_parse_string(const char *text, gssize len, const char *what, GError **error);

/* Parse a file; ICS_ERROR_NOT_FOUND when it does not exist. */
xmlDoc *ics_xml_parse_file(const char *path, GError **error);

/*
 * Evaluate @xpath against @doc and return its string value (newly allocated;
 * g_free it).  For a node set, the first node's content.  ICS_ERROR_NOT_FOUND
 * when the expression selects nothing, ICS_ERROR_INVALID_ARGUMENT when it is
 * not a valid expression.
 */
char *ics_xml_xpath_string(xmlDoc *doc, const char *xpath, GError **error);

/* Number of nodes @xpath selects (0 when none), -1 with an error when the
 * expression is invalid or does not yield a node set. */
int ics_xml_xpath_count(xmlDoc *doc, const char *xpath, GError **error);

/* Serialise @doc (formatted, with an XML declaration that names no encoding:
 * the text is UTF-8).  g_free the result. */
char *ics_xml_to_string(xmlDoc *doc);

#endif /* ICS_XML_H */
