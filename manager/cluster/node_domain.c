/*
 * node_domain.c: acting on one domain through its node's libvirtd.
 *
 * Pacemaker has no "power off now": stopping a VM runs the vm agent's
 * stop, which asks the guest for an ACPI shutdown and destroys the domain
 * only after its shutdown timeout.  A forced stop sets target-role Stopped
 * (so Pacemaker does not recover what disappears) and then destroys the
 * domain on the node that runs it; the agent's stop then finds it gone.
 * A reboot is the guest's own (ACPI): QEMU stays, Pacemaker sees nothing.
 * These are the manager's only read-write uses of a node's libvirtd; the
 * console information is read from the live domain XML.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "cluster_internal.h"
#include "node_domain.h"
#include "ics/error.h"
#include "ics/xml.h"

static void silent(void *user, virErrorPtr err)
{
	(void)user;
	(void)err;
}

virDomainPtr ics_node_domain_open(const char *node, const char *uri, const char *uuid,
				  gboolean readonly, virConnectPtr *conn, GError **error)
{
	g_autofree char *own = uri ? NULL : ics_node_libvirt_uri(node);
	virDomainPtr dom;

	virSetErrorFunc(NULL, silent);
	*conn = readonly ? virConnectOpenReadOnly(uri ? uri : own)
			 : virConnectOpen(uri ? uri : own);
	if (*conn == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "node %s: cannot reach libvirtd at %s: %s", node, uri ? uri : own,
			    virGetLastErrorMessage());
		return NULL;
	}
	dom = virDomainLookupByUUIDString(*conn, uuid);
	if (dom == NULL)
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "node %s: no domain %s (stopped already?)", node, uuid);
	return dom;
}

static void node_domain_close(virConnectPtr conn, virDomainPtr dom)
{
	if (dom)
		virDomainFree(dom);
	if (conn)
		virConnectClose(conn);
}

gboolean ics_cluster_node_destroy_domain(const char *node, const char *uri, const char *uuid,
					 GError **error)
{
	virConnectPtr conn = NULL;
	virDomainPtr dom = ics_node_domain_open(node, uri, uuid, FALSE, &conn, error);
	gboolean ok = FALSE;

	if (dom == NULL) {
		/* error set */
	} else if (virDomainIsActive(dom) == 1 && virDomainDestroy(dom) != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "node %s: cannot destroy domain %s: %s",
			    node, uuid, virGetLastErrorMessage());
	} else {
		ok = TRUE;
	}
	node_domain_close(conn, dom);
	return ok;
}

gboolean ics_cluster_node_reboot_domain(const char *node, const char *uri, const char *uuid,
					GError **error)
{
	virConnectPtr conn = NULL;
	virDomainPtr dom = ics_node_domain_open(node, uri, uuid, FALSE, &conn, error);
	gboolean ok = FALSE;

	if (dom == NULL) {
		/* error set */
	} else if (virDomainIsActive(dom) != 1) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT, "node %s: domain %s is not running",
			    node, uuid);
	} else if (virDomainReboot(dom, 0) != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "node %s: cannot reboot domain %s: %s",
			    node, uuid, virGetLastErrorMessage());
	} else {
		ok = TRUE;
	}
	node_domain_close(conn, dom);
	return ok;
}

/* The live domain's XML; @secure: with its secrets (a read-write
 * connection), the copy libvirt made wiped before it is freed. */
static char *domain_xml(const char *node, const char *uri, const char *uuid, gboolean secure,
			GError **error)
{
	virConnectPtr conn = NULL;
	virDomainPtr dom = ics_node_domain_open(node, uri, uuid, !secure, &conn, error);
	char *xml = NULL, *copy = NULL;

	if (dom != NULL) {
		xml = virDomainGetXMLDesc(dom, secure ? VIR_DOMAIN_XML_SECURE : 0);
		if (xml == NULL)
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
				    "node %s: cannot read the definition of domain %s: %s", node,
				    uuid, virGetLastErrorMessage());
		copy = g_strdup(xml);
		if (xml && secure)
			memset(xml, 0, strlen(xml));
		free(xml);
	}
	node_domain_close(conn, dom);
	return copy;
}

char *ics_cluster_node_domain_xml(const char *node, const char *uri, const char *uuid,
				  GError **error)
{
	return domain_xml(node, uri, uuid, FALSE, error);
}

static json_t *attrs_json(xmlNode *n, const char *const *names)
{
	json_t *o = json_object();

	for (guint i = 0; names[i]; i++) {
		g_autoptr(xmlChar) v = xmlGetProp(n, (const xmlChar *)names[i]);

		if (v)
			json_object_set_new(o, names[i], json_string((const char *)v));
	}
	return o;
}

static xmlNode *child(xmlNode *n, const char *name)
{
	for (xmlNode *c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, (const xmlChar *)name))
			return c;
	return NULL;
}

json_t *ics_domain_console_json(const char *xml, GError **error)
{
	/* Never "passwd": the console password is not information to hand out. */
	static const char *const graphics_attrs[] = { "type", "port", "tlsPort", "autoport",
						      "listen", "socket", NULL };
	static const char *const source_attrs[] = { "path", "host", "service", "mode", NULL };
	g_autoptr(xmlDoc) doc = ics_xml_parse_string(xml, -1, "domain XML", error);
	json_t *out, *graphics, *serials;
	xmlNode *devices;

	if (doc == NULL)
		return NULL;
	devices = child(xmlDocGetRootElement(doc), "devices");
	out = json_object();
	graphics = json_array();
	serials = json_array();
	for (xmlNode *c = devices ? devices->children : NULL; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrEqual(c->name, (const xmlChar *)"graphics")) {
			json_array_append_new(graphics, attrs_json(c, graphics_attrs));
		} else if (xmlStrEqual(c->name, (const xmlChar *)"serial")) {
			g_autoptr(xmlChar) type = xmlGetProp(c, (const xmlChar *)"type");
			xmlNode *src = child(c, "source"), *target = child(c, "target");
			g_autoptr(xmlChar) port =
				target ? xmlGetProp(target, (const xmlChar *)"port") : NULL;
			json_t *one = src ? attrs_json(src, source_attrs) : json_object();

			json_object_set_new(one, "type", json_string(type ? (char *)type : "?"));
			if (port)
				json_object_set_new(one, "port", json_string((const char *)port));
			json_array_append_new(serials, one);
		}
	}
	json_object_set_new(out, "graphics", graphics);
	json_object_set_new(out, "serial", serials);
	return out;
}

/* The host part of a libvirt URI ("qemu+tcp://node1/system" -> node1), NULL
 * for a local one ("qemu:///system", "test:///..."). */
static char *uri_host(const char *uri)
{
	g_autoptr(GUri) u = g_uri_parse(uri, G_URI_FLAGS_NONE, NULL);
	const char *h = u ? g_uri_get_host(u) : NULL;

	return h && h[0] ? g_strdup(h) : NULL;
}

static gboolean wildcard(const char *a)
{
	return a == NULL || a[0] == '\0' || strcmp(a, "0.0.0.0") == 0 || strcmp(a, "::") == 0;
}

static gboolean loopback(const char *a)
{
	return g_str_has_prefix(a, "127.") || strcmp(a, "::1") == 0 ||
	       strcmp(a, "localhost") == 0;
}

gboolean ics_domain_vnc_endpoint(const char *xml, const char *uri, char **address,
				 guint16 *port, char **password, GError **error)
{
	g_autoptr(xmlDoc) doc = ics_xml_parse_string(xml, -1, "domain XML", error);
	g_autofree char *host = uri_host(uri);
	xmlNode *devices;

	if (doc == NULL)
		return FALSE;
	devices = child(xmlDocGetRootElement(doc), "devices");
	for (xmlNode *c = devices ? devices->children : NULL; c; c = c->next) {
		g_autoptr(xmlChar) type = NULL, p = NULL, listen = NULL, pw = NULL;
		gint64 n;

		if (c->type != XML_ELEMENT_NODE || !xmlStrEqual(c->name, BAD_CAST "graphics"))
			continue;
		type = xmlGetProp(c, BAD_CAST "type");
		if (!xmlStrEqual(type, BAD_CAST "vnc"))
			continue;
		p = xmlGetProp(c, BAD_CAST "port");
		listen = xmlGetProp(c, BAD_CAST "listen");
		pw = xmlGetProp(c, BAD_CAST "passwd");
		n = p ? g_ascii_strtoll((const char *)p, NULL, 10) : 0;
		if (n <= 0 || n > 65535) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "its VNC server has no TCP port (a socket or not started)");
			return FALSE;
		}
		if (!wildcard((const char *)listen) && !loopback((const char *)listen))
			*address = g_strdup((const char *)listen);
		else if (wildcard((const char *)listen) && host)
			*address = g_strdup(host);
		else if (host == NULL)
			*address = g_strdup(listen && !wildcard((const char *)listen)
						    ? (const char *)listen
						    : "127.0.0.1");
		else {
			g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
				    "its VNC server listens on %s, which the manager cannot reach; "
				    "set vnc_listen in the node's qemu.conf to its cluster address",
				    (const char *)listen);
			return FALSE;
		}
		*port = (guint16)n;
		*password = pw ? g_strdup((const char *)pw) : NULL;
		return TRUE;
	}
	g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
		    "it has no VNC screen (graphics \"none\", or started before VMs had one)");
	return FALSE;
}

char *ics_cluster_node_domain_xml_secure(const char *node, const char *uri, const char *uuid,
					 GError **error)
{
	return domain_xml(node, uri, uuid, TRUE, error);
}
