/*
 * manager_group.c: the manager group's CIB objects and DRBD resource file
 * (see manager_group.h).
 *
 * Ids are fixed ("ics-manager", "ics-manager-daemon", ...): there is one
 * manager per cluster, and fixed ids are what makes `setup` idempotent --
 * a second run finds the same objects and replaces them with what it
 * would have created.  The shapes follow docs/manager-ha.md, which shows
 * the same objects as crm shell commands; the operation timeouts are the
 * ones ocf_ics_manager(7) recommends (monitor every 10 s = the quorum
 * disk's record period for drbd).
 */
#include "config.h"

#include "manager_group.h"

#include <arpa/inet.h>
#include <string.h>

#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "ics/error.h"
#include "ics/xml.h"

void ics_manager_spec_clear(IcsManagerSpec *s)
{
	g_free(s->vip);
	g_free(s->nic);
	g_strfreev(s->nodes);
	g_free(s->binary);
	g_free(s->state_dir);
	g_free(s->pool_name);
	g_free(s->pool_path);
	g_free(s->drbd_resource);
	g_free(s->drbd_disk);
	g_strfreev(s->drbd_addrs);
	g_free(s->quorum_disk);
	g_free(s->fstype);
	g_free(s->tls_names);
	memset(s, 0, sizeof(*s));
}

gboolean ics_manager_parse_vip(const char *text, IcsManagerSpec *spec, GError **error)
{
	const char *slash = text ? strchr(text, '/') : NULL;
	g_autofree char *addr = NULL;
	struct in_addr in;
	guint64 prefix;
	guint32 a;
	char buf[INET_ADDRSTRLEN];

	if (slash == NULL)
		return ics_error_invalid(error,
					 "--vip \"%s\": expected ADDRESS/PREFIX, e.g. "
					 "192.0.2.10/24",
					 text ? text : "");
	addr = g_strndup(text, slash - text);
	if (inet_pton(AF_INET, addr, &in) != 1)
		return ics_error_invalid(error, "--vip \"%s\": \"%s\" is not an IPv4 address", text,
					 addr);
	if (!g_ascii_string_to_unsigned(slash + 1, 10, 1, 32, &prefix, NULL))
		return ics_error_invalid(error, "--vip \"%s\": prefix \"%s\" is not 1 to 32", text,
					 slash + 1);
	a = ntohl(in.s_addr);
	if (a == 0 || a == 0xffffffffu || (a >> 24) == 127 || (a >> 28) == 0xe)
		return ics_error_invalid(error,
					 "--vip \"%s\": %s cannot be a floating IP (unspecified, "
					 "broadcast, loopback or multicast)",
					 text, addr);
	if (prefix < 31) {
		guint32 host = a & ((1u << (32 - prefix)) - 1);

		if (host == 0 || host == (1u << (32 - prefix)) - 1)
			return ics_error_invalid(error,
						 "--vip \"%s\": %s is the network or broadcast "
						 "address of /%u",
						 text, addr, (guint)prefix);
	}
	inet_ntop(AF_INET, &in, buf, sizeof(buf));
	g_free(spec->vip);
	spec->vip = g_strdup(buf);
	spec->prefix = (guint)prefix;
	return TRUE;
}

static gboolean node_name_valid(const char *n)
{
	if (n[0] == '\0' || strlen(n) > 64 || !g_ascii_isalnum(n[0]))
		return FALSE;
	for (const char *p = n; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
			return FALSE;
	return TRUE;
}

gboolean ics_manager_parse_nodes(const char *text, guint exactly, IcsManagerSpec *spec,
				 GError **error)
{
	g_auto(GStrv) parts = g_strsplit(text ? text : "", ",", -1);
	g_autoptr(GStrvBuilder) b = g_strv_builder_new();
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	guint n = 0;

	for (char **p = parts; *p; p++) {
		if (!node_name_valid(*p))
			return ics_error_invalid(error, "--nodes \"%s\": \"%s\" is not a node name",
						 text, *p);
		if (!g_hash_table_add(seen, *p))
			return ics_error_invalid(error, "--nodes \"%s\": %s is named twice", text,
						 *p);
		g_strv_builder_add(b, *p);
		n++;
	}
	if (n == 0)
		return ics_error_invalid(error, "--nodes: no node given");
	if (exactly > 0 && n != exactly)
		return ics_error_invalid(error,
					 "--nodes \"%s\": the drbd backend needs exactly %u "
					 "manager nodes, not %u",
					 text, exactly, n);
	g_strfreev(spec->nodes);
	spec->nodes = g_strv_builder_end(b);
	return TRUE;
}

static gboolean abs_path(const char *opt, const char *v, GError **error)
{
	if (v && g_path_is_absolute(v) && strpbrk(v, "\n\"") == NULL)
		return TRUE;
	return ics_error_invalid(error, "%s: \"%s\" is not an absolute path", opt, v ? v : "");
}

gboolean ics_manager_spec_check(const IcsManagerSpec *s, GError **error)
{
	if (s->vip == NULL)
		return ics_error_invalid(error, "--vip ADDRESS/PREFIX is required");
	if (s->port == 0 || s->port > 65535)
		return ics_error_invalid(error, "--port must be 1 to 65535");
	if (!abs_path("state directory", s->state_dir, error) ||
	    (s->binary && !abs_path("--binary", s->binary, error)))
		return FALSE;
	if (s->nic && !node_name_valid(s->nic))
		return ics_error_invalid(error, "--nic \"%s\" is not an interface name", s->nic);
	if (s->backend == ICS_MGR_SHARED)
		return abs_path("pool path", s->pool_path, error) &&
		       (s->pool_name != NULL ||
			ics_error_invalid(error, "--pool NAME is required with --backend shared"));
	if (s->nodes == NULL || g_strv_length(s->nodes) != 2)
		return ics_error_invalid(error, "--backend drbd needs --nodes NODE1,NODE2 (the two "
						"manager nodes)");
	if (s->drbd_addrs == NULL || g_strv_length(s->drbd_addrs) != 2)
		return ics_error_invalid(error, "--backend drbd needs --drbd-addresses ADDR1,ADDR2 "
						"(each manager node's replication address)");
	for (guint i = 0; i < 2; i++) {
		struct in_addr in;

		if (inet_pton(AF_INET, s->drbd_addrs[i], &in) != 1)
			return ics_error_invalid(error,
						 "--drbd-addresses: \"%s\" is not an IPv4 address",
						 s->drbd_addrs[i]);
	}
	if (s->drbd_resource == NULL || !node_name_valid(s->drbd_resource))
		return ics_error_invalid(error,
					 "--drbd-resource \"%s\" is not a DRBD resource name",
					 s->drbd_resource ? s->drbd_resource : "");
	if (s->drbd_minor > 1048575)
		return ics_error_invalid(error, "--minor %u is out of range", s->drbd_minor);
	if (s->fstype == NULL || !node_name_valid(s->fstype))
		return ics_error_invalid(error, "--fstype \"%s\" is not a file system type",
					 s->fstype ? s->fstype : "");
	return abs_path("--device", s->drbd_disk, error) &&
	       abs_path("--quorum-disk", s->quorum_disk, error);
}

/* ---- reading the CIB ---------------------------------------------------- */

static char *xpath_str(xmlDoc *doc, const char *expr, const char *var)
{
	g_autoptr(xmlXPathContext) ctx = xmlXPathNewContext(doc);
	g_autoptr(xmlXPathObject) o = NULL;

	if (var)
		xmlXPathRegisterVariable(ctx, BAD_CAST "v", xmlXPathNewString(BAD_CAST var));
	o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	if (o == NULL || o->type != XPATH_STRING || o->stringval == NULL || !o->stringval[0])
		return NULL;
	return g_strdup((const char *)o->stringval);
}

char *ics_manager_pool_path(xmlDoc *resources, const char *name, GError **error)
{
	g_autofree char *clone = g_strconcat("ics-pool-", name, NULL);
	g_autoptr(xmlXPathContext) ctx = xmlXPathNewContext(resources);
	g_autoptr(xmlXPathObject) all = NULL;
	g_autoptr(GString) known = g_string_new(NULL);
	char *path = xpath_str(resources,
			       "string(//clone[@id=$v]/primitive[@class='ocf' and "
			       "@provider='ics' and @type='pool']/instance_attributes/"
			       "nvpair[@name='path']/@value)",
			       clone);

	if (path)
		return path;
	all = xmlXPathEvalExpression(BAD_CAST "//clone[primitive[@provider='ics' and "
					      "@type='pool']]",
				     ctx);
	for (int i = 0; all && all->nodesetval && i < all->nodesetval->nodeNr; i++) {
		g_autoptr(xmlChar) id = xmlGetProp(all->nodesetval->nodeTab[i], BAD_CAST "id");

		if (id && g_str_has_prefix((const char *)id, "ics-pool-"))
			g_string_append_printf(known, "%s%s", known->len ? ", " : "",
					       (const char *)id + strlen("ics-pool-"));
	}
	g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
		    "pool \"%s\" is not in the cluster (no ocf:ics:pool clone \"%s\"; pools: %s)",
		    name, clone, known->len ? known->str : "none");
	return NULL;
}

static char *param(xmlDoc *cib, const char *prim, const char *name)
{
	g_autofree char *expr = g_strdup_printf("string(//primitive[@id='%s']/instance_attributes/"
						"nvpair[@name=$v]/@value)",
						prim);

	return xpath_str(cib, expr, name);
}

gboolean ics_manager_spec_from_cib(xmlDoc *cib, IcsManagerSpec *s, GError **error)
{
	g_autofree char *backend = NULL, *listen = NULL, *prefix = NULL, *first = NULL;
	g_autofree char *peer = NULL;
	g_autoptr(xmlXPathContext) ctx = xmlXPathNewContext(cib);
	g_autoptr(xmlXPathObject) exprs = NULL;
	g_autoptr(GStrvBuilder) nodes = g_strv_builder_new();
	const char *colon;
	guint64 port = 0, pfx = 0;

	ics_manager_spec_clear(s);
	backend = param(cib, ICS_MGR_DAEMON_ID, "backend");
	if (ics_xml_xpath_count(cib, "//group[@id='" ICS_MGR_GROUP_ID "']", NULL) <= 0 ||
	    backend == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "the manager is not set up in this cluster (no group \"%s\"): run "
			    "'ics-admin manager setup'",
			    ICS_MGR_GROUP_ID);
		return FALSE;
	}
	s->backend = g_str_equal(backend, "drbd") ? ICS_MGR_DRBD : ICS_MGR_SHARED;
	s->state_dir = param(cib, ICS_MGR_DAEMON_ID, "state_dir");
	s->binary = param(cib, ICS_MGR_DAEMON_ID, "binary");
	s->pool_path = param(cib, ICS_MGR_DAEMON_ID, "pool");
	s->drbd_resource = param(cib, ICS_MGR_DAEMON_ID, "drbd_resource");
	s->drbd_disk = param(cib, ICS_MGR_DAEMON_ID, "drbd_meta");
	s->quorum_disk = param(cib, ICS_MGR_DAEMON_ID, "quorum_disk");
	listen = param(cib, ICS_MGR_DAEMON_ID, "listen");
	colon = listen ? strrchr(listen, ':') : NULL;
	if (colon && g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &port, NULL))
		s->port = (guint)port;
	else
		s->port = ICS_MGR_DEFAULT_PORT;
	s->tls_names = param(cib, ICS_MGR_DAEMON_ID, "tls_names");
	s->vip = param(cib, ICS_MGR_VIP_ID, "ip");
	s->nic = param(cib, ICS_MGR_VIP_ID, "nic");
	prefix = param(cib, ICS_MGR_VIP_ID, "cidr_netmask");
	if (prefix && g_ascii_string_to_unsigned(prefix, 10, 1, 32, &pfx, NULL))
		s->prefix = (guint)pfx;
	first = xpath_str(cib, "string(//rsc_order[@id=$v]/@first)", ICS_MGR_ORDER_ID);
	if (s->backend == ICS_MGR_SHARED && first && g_str_has_prefix(first, "ics-pool-"))
		s->pool_name = g_strdup(first + strlen("ics-pool-"));
	exprs = xmlXPathEvalExpression(BAD_CAST "//rsc_location[@id='" ICS_MGR_LOCATION_ID
						"']/rule/expression[@attribute='#uname']",
				       ctx);
	for (int i = 0; exprs && exprs->nodesetval && i < exprs->nodesetval->nodeNr; i++) {
		g_autoptr(xmlChar) v = xmlGetProp(exprs->nodesetval->nodeTab[i], BAD_CAST "value");

		if (v)
			g_strv_builder_add(nodes, (const char *)v);
	}
	s->nodes = g_strv_builder_end(nodes);
	if (s->nodes[0] == NULL && (peer = param(cib, ICS_MGR_DAEMON_ID, "peer")) != NULL) {
		g_strfreev(s->nodes);
		s->nodes = g_strsplit(peer, ",", -1);
	}
	return TRUE;
}

/* ---- building ----------------------------------------------------------- */

static xmlNode *child(xmlNode *parent, const char *name, const char *id)
{
	xmlNode *n = xmlNewChild(parent, NULL, BAD_CAST name, NULL);

	if (id)
		xmlNewProp(n, BAD_CAST "id", BAD_CAST id);
	return n;
}

char *ics_manager_tls_names(const IcsManagerSpec *s, const char *cmap)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) name_of = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
								g_free); /* index -> name */
	g_auto(GStrv) lines = g_strsplit(cmap ? cmap : "", "\n", -1);

	g_ptr_array_add(out, g_strdup(s->vip));
	for (guint i = 0; s->nodes && s->nodes[i]; i++)
		g_ptr_array_add(out, g_strdup(s->nodes[i]));
	/* "nodelist.node.N.KEY (str) = VALUE" */
	for (int pass = 0; pass < 2; pass++)
		for (guint i = 0; lines[i]; i++) {
			g_auto(GStrv) kv = g_strsplit(lines[i], " = ", 2);
			g_auto(GStrv) k = NULL;
			const char *node;

			if (kv[0] == NULL || kv[1] == NULL ||
			    !g_str_has_prefix(kv[0], "nodelist.node."))
				continue;
			k = g_strsplit(kv[0] + strlen("nodelist.node."), ".", 2);
			if (k[0] == NULL || k[1] == NULL)
				continue;
			g_strstrip(kv[1]);
			if (pass == 0 && g_str_has_prefix(k[1], "name ")) {
				g_hash_table_replace(name_of, g_strdup(k[0]), g_strdup(kv[1]));
				continue;
			}
			if (pass == 0 || !g_regex_match_simple("^ring[0-9]+_addr ", k[1], 0, 0))
				continue;
			node = g_hash_table_lookup(name_of, k[0]);
			if (node == NULL ||
			    (s->nodes && !g_strv_contains((const char *const *)s->nodes, node)))
				continue;
			if (s->nodes == NULL)
				g_ptr_array_add(out, g_strdup(node));
			g_ptr_array_add(out, g_strdup(kv[1]));
		}
	/* each once, in order */
	for (guint i = 0; i < out->len; i++)
		for (guint j = i + 1; j < out->len;)
			if (g_str_equal(out->pdata[i], out->pdata[j]))
				g_ptr_array_remove_index(out, j);
			else
				j++;
	g_ptr_array_add(out, NULL);
	return g_strjoinv(",", (char **)out->pdata);
}

static void nvpair(xmlNode *set, const char *owner, const char *name, const char *value)
{
	g_autofree char *id = NULL, *n = g_strdup(name);
	xmlNode *p;

	if (value == NULL)
		return;
	g_strdelimit(n, "_", '-');
	id = g_strdup_printf("%s-%s", owner, n);
	p = child(set, "nvpair", id);
	xmlNewProp(p, BAD_CAST "name", BAD_CAST name);
	xmlNewProp(p, BAD_CAST "value", BAD_CAST value);
}

static void op(xmlNode *ops, const char *owner, const char *name, const char *interval,
	       const char *timeout, const char *role)
{
	g_autofree char *id = g_strdup_printf("%s-%s-%s%s%s", owner, name, interval,
					      role ? "-" : "", role ? role : "");
	xmlNode *o = child(ops, "op", id);

	xmlNewProp(o, BAD_CAST "name", BAD_CAST name);
	xmlNewProp(o, BAD_CAST "interval", BAD_CAST interval);
	xmlNewProp(o, BAD_CAST "timeout", BAD_CAST timeout);
	if (role)
		xmlNewProp(o, BAD_CAST "role", BAD_CAST role);
}

static xmlNode *primitive(xmlNode *parent, const char *id, const char *provider, const char *type,
			  xmlNode **params, xmlNode **ops)
{
	xmlNode *p = child(parent, "primitive", id);
	g_autofree char *pid = g_strconcat(id, "-params", NULL);

	xmlNewProp(p, BAD_CAST "class", BAD_CAST "ocf");
	xmlNewProp(p, BAD_CAST "provider", BAD_CAST provider);
	xmlNewProp(p, BAD_CAST "type", BAD_CAST type);
	*params = child(p, "instance_attributes", pid);
	*ops = child(p, "operations", NULL);
	return p;
}

static xmlDoc *doc_with_root(const char *name, const char *id, xmlNode **root)
{
	xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");

	*root = xmlNewNode(NULL, BAD_CAST name);
	xmlNewProp(*root, BAD_CAST "id", BAD_CAST id);
	xmlDocSetRootElement(doc, *root);
	return doc;
}

static char *joined_nodes(const IcsManagerSpec *s)
{
	return s->nodes ? g_strjoinv(",", s->nodes) : NULL;
}

static void daemon_primitive(xmlNode *group, const IcsManagerSpec *s)
{
	g_autofree char *listen = g_strdup_printf("0.0.0.0:%u", s->port);
	g_autofree char *minor = g_strdup_printf("%u", s->drbd_minor);
	g_autofree char *peers = joined_nodes(s);
	xmlNode *params, *ops, *meta;

	primitive(group, ICS_MGR_DAEMON_ID, "ics", "manager", &params, &ops);
	/* A start this node refused (it cannot take the lease over) bans it
	 * for a minute, not until an operator cleans up. */
	meta = xmlAddPrevSibling(params, xmlNewNode(NULL, BAD_CAST "meta_attributes"));
	xmlNewProp(meta, BAD_CAST "id", BAD_CAST ICS_MGR_DAEMON_ID "-meta");
	nvpair(meta, ICS_MGR_DAEMON_ID, "failure-timeout", "60s");
	nvpair(params, ICS_MGR_DAEMON_ID, "backend",
	       s->backend == ICS_MGR_DRBD ? "drbd" : "shared");
	nvpair(params, ICS_MGR_DAEMON_ID, "state_dir", s->state_dir);
	nvpair(params, ICS_MGR_DAEMON_ID, "listen", listen);
	nvpair(params, ICS_MGR_DAEMON_ID, "binary", s->binary);
	nvpair(params, ICS_MGR_DAEMON_ID, "tls_names", s->tls_names);
	if (s->backend == ICS_MGR_SHARED) {
		nvpair(params, ICS_MGR_DAEMON_ID, "pool", s->pool_path);
		nvpair(params, ICS_MGR_DAEMON_ID, "lease", ICS_MGR_LEASE);
	} else {
		nvpair(params, ICS_MGR_DAEMON_ID, "drbd_resource", s->drbd_resource);
		nvpair(params, ICS_MGR_DAEMON_ID, "drbd_minor", minor);
		nvpair(params, ICS_MGR_DAEMON_ID, "drbd_meta", s->drbd_disk);
		nvpair(params, ICS_MGR_DAEMON_ID, "quorum_disk", s->quorum_disk);
		nvpair(params, ICS_MGR_DAEMON_ID, "peer", peers);
		nvpair(params, ICS_MGR_DAEMON_ID, "record_period", "10");
	}
	op(ops, ICS_MGR_DAEMON_ID, "start", "0s", "90s", NULL);
	op(ops, ICS_MGR_DAEMON_ID, "stop", "0s", "60s", NULL);
	op(ops, ICS_MGR_DAEMON_ID, "monitor", "10s", "30s", NULL);
	/* drbd: the standby records its GIs too (ocf_ics_manager(7)). */
	if (s->backend == ICS_MGR_DRBD)
		op(ops, ICS_MGR_DAEMON_ID, "monitor", "11s", "30s", "Stopped");
}

static void vip_primitive(xmlNode *group, const IcsManagerSpec *s)
{
	g_autofree char *prefix = g_strdup_printf("%u", s->prefix);
	xmlNode *params, *ops;

	primitive(group, ICS_MGR_VIP_ID, "heartbeat", "IPaddr2", &params, &ops);
	nvpair(params, ICS_MGR_VIP_ID, "ip", s->vip);
	nvpair(params, ICS_MGR_VIP_ID, "cidr_netmask", prefix);
	nvpair(params, ICS_MGR_VIP_ID, "nic", s->nic);
	op(ops, ICS_MGR_VIP_ID, "monitor", "10s", "20s", NULL);
}

static xmlDoc *drbd_clone(const IcsManagerSpec *s)
{
	static const char *const meta[][2] = {
		{ "promotable", "true" }, { "promoted-max", "1" },   { "promoted-node-max", "1" },
		{ "clone-max", "2" },	  { "clone-node-max", "1" }, { "notify", "true" },
	};
	xmlNode *clone, *m, *params, *ops;
	xmlDoc *doc = doc_with_root("clone", ICS_MGR_DRBD_CLONE_ID, &clone);

	m = child(clone, "meta_attributes", ICS_MGR_DRBD_CLONE_ID "-meta");
	for (guint i = 0; i < G_N_ELEMENTS(meta); i++)
		nvpair(m, ICS_MGR_DRBD_CLONE_ID, meta[i][0], meta[i][1]);
	primitive(clone, ICS_MGR_DRBD_ID, "linbit", "drbd", &params, &ops);
	nvpair(params, ICS_MGR_DRBD_ID, "drbd_resource", s->drbd_resource);
	op(ops, ICS_MGR_DRBD_ID, "monitor", "29s", "20s", "Promoted");
	op(ops, ICS_MGR_DRBD_ID, "monitor", "31s", "20s", "Unpromoted");
	return doc;
}

GPtrArray *ics_manager_resources(const IcsManagerSpec *s)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)xmlFreeDoc);
	xmlNode *group, *params, *ops;
	xmlDoc *doc;

	if (s->backend == ICS_MGR_DRBD)
		g_ptr_array_add(out, drbd_clone(s));
	doc = doc_with_root("group", ICS_MGR_GROUP_ID, &group);
	if (s->backend == ICS_MGR_DRBD) {
		g_autofree char *dev = g_strdup_printf("/dev/drbd%u", s->drbd_minor);

		primitive(group, ICS_MGR_FS_ID, "heartbeat", "Filesystem", &params, &ops);
		nvpair(params, ICS_MGR_FS_ID, "device", dev);
		nvpair(params, ICS_MGR_FS_ID, "directory", s->state_dir);
		nvpair(params, ICS_MGR_FS_ID, "fstype", s->fstype);
		op(ops, ICS_MGR_FS_ID, "monitor", "20s", "40s", NULL);
	}
	daemon_primitive(group, s);
	vip_primitive(group, s);
	g_ptr_array_add(out, doc);
	return out;
}

/* A location rule over #uname: @score for the named nodes ("eq", "or"),
 * or -INFINITY for every other node ("ne", "and"). */
static xmlDoc *nodes_location(const char *id, const char *rsc, GStrv nodes, gboolean only)
{
	g_autofree char *rule_id = g_strconcat(id, "-rule", NULL);
	xmlNode *loc, *rule;
	xmlDoc *doc = doc_with_root("rsc_location", id, &loc);

	xmlNewProp(loc, BAD_CAST "rsc", BAD_CAST rsc);
	rule = child(loc, "rule", rule_id);
	xmlNewProp(rule, BAD_CAST "score", BAD_CAST(only ? "-INFINITY" : "100"));
	xmlNewProp(rule, BAD_CAST "boolean-op", BAD_CAST(only ? "and" : "or"));
	for (guint i = 0; nodes[i]; i++) {
		g_autofree char *eid = g_strdup_printf("%s-%u", id, i + 1);
		xmlNode *e = child(rule, "expression", eid);

		xmlNewProp(e, BAD_CAST "attribute", BAD_CAST "#uname");
		xmlNewProp(e, BAD_CAST "operation", BAD_CAST(only ? "ne" : "eq"));
		xmlNewProp(e, BAD_CAST "value", BAD_CAST nodes[i]);
	}
	return doc;
}

GPtrArray *ics_manager_constraints(const IcsManagerSpec *s)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)xmlFreeDoc);
	g_autofree char *clone = s->backend == ICS_MGR_DRBD
					 ? g_strdup(ICS_MGR_DRBD_CLONE_ID)
					 : g_strconcat("ics-pool-", s->pool_name, NULL);
	xmlNode *n;
	xmlDoc *doc;

	/* Shared: the order names the manager's primitive, not the group.  An
	 * order after a clone waits for every start of the clone in the same
	 * transition, on any node; against the group, the VIP's start after a
	 * failover waited for the pool to start on the fenced node that had
	 * just rebooted (8 s in the lab).  The daemon, the group's first
	 * member, still starts after the local pool and stops before it. */
	doc = doc_with_root("rsc_order", ICS_MGR_ORDER_ID, &n);
	xmlNewProp(n, BAD_CAST "first", BAD_CAST clone);
	if (s->backend == ICS_MGR_DRBD)
		xmlNewProp(n, BAD_CAST "first-action", BAD_CAST "promote");
	xmlNewProp(n, BAD_CAST "then",
		   BAD_CAST(s->backend == ICS_MGR_DRBD ? ICS_MGR_GROUP_ID : ICS_MGR_DAEMON_ID));
	xmlNewProp(n, BAD_CAST "then-action", BAD_CAST "start");
	xmlNewProp(n, BAD_CAST "kind", BAD_CAST "Mandatory");
	g_ptr_array_add(out, doc);

	doc = doc_with_root("rsc_colocation", ICS_MGR_COLOCATION_ID, &n);
	xmlNewProp(n, BAD_CAST "rsc", BAD_CAST ICS_MGR_GROUP_ID);
	xmlNewProp(n, BAD_CAST "with-rsc", BAD_CAST clone);
	if (s->backend == ICS_MGR_DRBD)
		xmlNewProp(n, BAD_CAST "with-rsc-role", BAD_CAST "Promoted");
	xmlNewProp(n, BAD_CAST "score", BAD_CAST "INFINITY");
	g_ptr_array_add(out, doc);

	if (s->nodes && s->nodes[0])
		g_ptr_array_add(out, nodes_location(ICS_MGR_LOCATION_ID, ICS_MGR_GROUP_ID, s->nodes,
						    s->backend == ICS_MGR_DRBD));
	if (s->backend == ICS_MGR_DRBD)
		g_ptr_array_add(out, nodes_location(ICS_MGR_DRBD_CLONE_ID "-nodes",
						    ICS_MGR_DRBD_CLONE_ID, s->nodes, TRUE));
	return out;
}

char *ics_manager_drbd_res(const IcsManagerSpec *s)
{
	GString *t = g_string_new(NULL);

	g_string_append_printf(
		t,
		"# %s.res: the ICS manager's state volume, written by 'ics-admin manager "
		"setup'.\n"
		"# A Primary that loses its peer freezes I/O until Pacemaker fenced or outdated "
		"the peer\n"
		"# (resource-and-stonith); see docs/manager-ha.md.\n"
		"resource \"%s\" {\n"
		"    protocol C;\n"
		"    net {\n"
		"        fencing resource-and-stonith;\n"
		"    }\n"
		"    handlers {\n"
		"        fence-peer \"/usr/lib/drbd/crm-fence-peer.9.sh\";\n"
		"        unfence-peer \"/usr/lib/drbd/crm-unfence-peer.9.sh\";\n"
		"    }\n"
		"    device /dev/drbd%u;\n"
		"    disk %s;\n"
		"    meta-disk internal;\n",
		s->drbd_resource, s->drbd_resource, s->drbd_minor, s->drbd_disk);
	for (guint i = 0; i < 2; i++)
		g_string_append_printf(t,
				       "    on %s {\n"
				       "        node-id %u;\n"
				       "        address %s:%u;\n"
				       "    }\n",
				       s->nodes[i], i, s->drbd_addrs[i], s->drbd_port);
	g_string_append(t, "}\n");
	return g_string_free(t, FALSE);
}
