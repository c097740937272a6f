/*
 * vm_resource_id.c: the Pacemaker id of a VM's primitive (see
 * ics/cib_objects.h) -- the rule that gives a new VM an id from its name,
 * the look-up of a VM's primitive by its uuid, and the one CIB update that
 * renames a stopped VM.
 *
 * Why names: crm, pcs and crm_resource address resources by id, and
 * operators know their VMs by name (`crm resource move web1 node2`).  A CIB
 * id is an XML NCName, unique in the whole configuration (the schema
 * declares ids xsd:ID: a VM named like a stonith device or a cluster
 * property set must not take its id), hence the fallbacks of the rule, each
 * tried against every id the VM's objects would carry, not only the
 * primitive's.  An id is chosen once: an edit keeps it (Pacemaker cannot
 * change an id in place), and only a rename chooses again, which replaces
 * the objects -- allowed only while the VM is stopped, as Pacemaker would
 * otherwise stop the old resource and start the new one.
 *
 * Nothing reads a uuid out of an id: the "uuid" instance attribute links a
 * primitive to its VM, so the "vm-<uuid>" primitives written before names
 * and the ids crm or pcs users pick keep working, without a migration.
 */
#include "config.h"

#include "ics/cib_objects.h"

#include <string.h>

#include <libxml/xpathInternals.h>

#include "ics/error.h"
#include "ics/xml.h"

/* Ids of ICS's own objects start with this: pool clones, the manager. */
#define RESERVED_PREFIX "ics-"
/* Room for "vm-", a uuid and its dash within ics_cib_id_valid()'s 255. */
#define NAME_PART_MAX 200

/* ---- the rule ------------------------------------------------------------- */

/* @name with every run of characters an id may not hold made one '_';
 * NULL when no letter or digit is left. */
static char *name_part(const char *name)
{
	g_autoptr(GString) s = g_string_new(NULL);
	gboolean run = FALSE, meaningful = FALSE;

	for (const char *p = name; p && *p && s->len < NAME_PART_MAX; p++) {
		if (g_ascii_isalnum(*p) || *p == '_' || *p == '.' || *p == '-') {
			g_string_append_c(s, *p);
			meaningful = meaningful || g_ascii_isalnum(*p);
			run = FALSE;
		} else if (!run) {
			g_string_append_c(s, '_');
			run = TRUE;
		}
	}
	return meaningful ? g_strdup(s->str) : NULL;
}

/* The forms of the rule for @name and @uuid, in order; only valid ids. */
static GPtrArray *candidates(const char *name, const char *uuid)
{
	GPtrArray *c = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *part = name_part(name);
	gboolean with_uuid = uuid && uuid[0];
	GPtrArray *all = g_ptr_array_new_with_free_func(g_free);

	if (name && !g_str_has_prefix(name, RESERVED_PREFIX))
		g_ptr_array_add(all, g_strdup(name));
	if (part) {
		g_ptr_array_add(all, g_strconcat("vm-", part, NULL));
		if (with_uuid) {
			g_ptr_array_add(all, g_strdup_printf("vm-%s-%.8s", part, uuid));
			g_ptr_array_add(all, g_strdup_printf("vm-%s-%s", part, uuid));
		}
	} else if (with_uuid) {
		g_ptr_array_add(all, g_strconcat("vm-", uuid, NULL));
	}
	for (guint i = 0; i < all->len; i++)
		if (ics_cib_id_valid(all->pdata[i]))
			g_ptr_array_add(c, g_strdup(all->pdata[i]));
	g_ptr_array_unref(all);
	return c;
}

static void collect_ids(xmlNode *node, GHashTable *ids)
{
	for (; node; node = node->next) {
		xmlChar *id;

		if (node->type != XML_ELEMENT_NODE)
			continue;
		id = xmlGetProp(node, BAD_CAST "id");
		if (id) {
			g_hash_table_add(ids, g_strdup((const char *)id));
			xmlFree(id);
		}
		collect_ids(node->children, ids);
	}
}

/* The ids of @node and of everything in it. */
static void collect_tree_ids(xmlNode *node, GHashTable *ids)
{
	xmlChar *id = xmlGetProp(node, BAD_CAST "id");

	if (id) {
		g_hash_table_add(ids, g_strdup((const char *)id));
		xmlFree(id);
	}
	collect_ids(node->children, ids);
}

GHashTable *ics_cib_ids(xmlDoc *doc)
{
	GHashTable *ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	if (doc)
		collect_ids(xmlDocGetRootElement(doc), ids);
	return ids;
}

/* Every id the objects of a VM with primitive id @rsc_id carry (the most a
 * primitive of ics_cib_vm_primitive() has: migration_unsafe included). */
static GHashTable *object_ids(const char *rsc_id)
{
	const IcsCibVmSpec spec = { .uuid = "",
				    .rsc_id = rsc_id,
				    .pool_path = "",
				    .pool_name = "",
				    .migration_unsafe = TRUE };
	g_autoptr(xmlDoc) p = ics_cib_vm_primitive(&spec);
	g_autoptr(xmlDoc) o = ics_cib_vm_order(&spec);
	g_autoptr(xmlDoc) c = ics_cib_vm_colocation(&spec);
	GHashTable *ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	collect_ids(xmlDocGetRootElement(p), ids);
	collect_ids(xmlDocGetRootElement(o), ids);
	collect_ids(xmlDocGetRootElement(c), ids);
	return ids;
}

/* The first id of @rsc_id's objects that @taken has, or NULL. */
static const char *first_taken(const char *rsc_id, GHashTable *taken)
{
	g_autoptr(GHashTable) ids = NULL;
	GHashTableIter it;
	gpointer id;

	if (taken == NULL)
		return NULL;
	if (g_hash_table_contains(taken, rsc_id))
		return rsc_id;
	ids = object_ids(rsc_id);
	g_hash_table_iter_init(&it, ids);
	while (g_hash_table_iter_next(&it, &id, NULL))
		if (g_hash_table_contains(taken, id))
			return rsc_id;
	return NULL;
}

char *ics_cib_vm_resource_id(const char *name, const char *uuid, GHashTable *taken, GError **error)
{
	g_autoptr(GPtrArray) c = candidates(name, uuid);
	g_autoptr(GString) tried = g_string_new(NULL);

	for (guint i = 0; i < c->len; i++) {
		if (first_taken(c->pdata[i], taken) == NULL)
			return g_strdup(c->pdata[i]);
		g_string_append_printf(tried, "%s%s", tried->len ? ", " : "",
				       (const char *)c->pdata[i]);
	}
	g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
		    "VM \"%s\": no resource id is free for it in the CIB (tried: %s); rename the "
		    "VM or remove what holds these ids",
		    name ? name : (uuid ? uuid : "?"), tried->len ? tried->str : "none valid");
	return NULL;
}

void ics_cib_vm_take_ids(const char *rsc_id, GHashTable *taken)
{
	g_autoptr(GHashTable) ids = object_ids(rsc_id);
	GHashTableIter it;
	gpointer id;

	g_hash_table_iter_init(&it, ids);
	while (g_hash_table_iter_next(&it, &id, NULL))
		g_hash_table_add(taken, g_strdup(id));
}

/* ---- the query of a define -------------------------------------------------- */

#define VM_PRIMITIVE "primitive[@class='ocf' and @provider='ics' and @type='vm']"
#define UUID_VALUE "translate(@value, 'ABCDEF', 'abcdef')"

char *ics_cib_vm_define_xpath(const IcsCibVmSpec *const *specs, guint n, GError **error)
{
	g_autoptr(GString) ids = g_string_new(NULL);
	g_autoptr(GString) uuids = g_string_new(NULL);

	for (guint i = 0; i < n; i++) {
		g_autoptr(GPtrArray) c = NULL;
		g_autofree char *lower = NULL;

		if (specs[i] == NULL)
			continue;
		if (specs[i]->uuid == NULL || !g_uuid_string_is_valid(specs[i]->uuid)) {
			ics_error_invalid(error, "\"%s\" is not a VM uuid",
					  specs[i]->uuid ? specs[i]->uuid : "(null)");
			return NULL;
		}
		/* Every form of the rule starts with one of the first two. */
		c = candidates(specs[i]->name, specs[i]->uuid);
		for (guint k = 0; k < c->len && k < 2; k++)
			g_string_append_printf(ids, "%s@id='%s' or starts-with(@id, '%s-')",
					       ids->len ? " or " : "", (const char *)c->pdata[k],
					       (const char *)c->pdata[k]);
		lower = g_ascii_strdown(specs[i]->uuid, -1);
		g_string_append_printf(uuids, "%s" UUID_VALUE "='%s'", uuids->len ? " or " : "",
				       lower);
	}
	if (uuids->len == 0) {
		ics_error_invalid(error, "no VM to define");
		return NULL;
	}
	return g_strdup_printf(
		"/cib/configuration//*[%s] | /cib/configuration/resources//" VM_PRIMITIVE
		"[instance_attributes/nvpair[@name='uuid' and (%s)]]",
		ids->len ? ids->str : "false()", uuids->str);
}

/* ---- a VM's primitive by its uuid -------------------------------------------- */

xmlNode *ics_cib_vm_find(xmlDoc *doc, const char *uuid)
{
	g_autoptr(xmlXPathContext) ctx = NULL;
	g_autoptr(xmlXPathObject) res = NULL;
	g_autofree char *lower = NULL;

	if (doc == NULL || uuid == NULL)
		return NULL;
	lower = g_ascii_strdown(uuid, -1);
	ctx = xmlXPathNewContext(doc);
	xmlXPathRegisterVariable(ctx, BAD_CAST "uuid", xmlXPathNewString(BAD_CAST lower));
	res = xmlXPathEvalExpression(BAD_CAST "//" VM_PRIMITIVE "[instance_attributes/nvpair"
					      "[@name='uuid' and " UUID_VALUE " = $uuid]]",
				     ctx);
	if (res == NULL || res->nodesetval == NULL || res->nodesetval->nodeNr == 0)
		return NULL;
	return res->nodesetval->nodeTab[0];
}

char *ics_cib_vm_uuid_xpath(const char *uuid, GError **error)
{
	g_autofree char *lower = NULL;

	if (uuid == NULL || !g_uuid_string_is_valid(uuid)) {
		ics_error_invalid(error, "\"%s\" is not a VM uuid", uuid ? uuid : "(null)");
		return NULL;
	}
	lower = g_ascii_strdown(uuid, -1);
	return g_strdup_printf("/cib/configuration/resources//" VM_PRIMITIVE
			       "[instance_attributes/nvpair[@name='uuid' and " UUID_VALUE "='%s']]",
			       lower);
}

char *ics_cib_vm_find_id(xmlDoc *doc, const char *uuid)
{
	xmlNode *p = ics_cib_vm_find(doc, uuid);
	xmlChar *id = p ? xmlGetProp(p, BAD_CAST "id") : NULL;
	char *out = id ? g_strdup((const char *)id) : NULL;

	xmlFree(id);
	return out;
}

/* ---- rename ------------------------------------------------------------------- */

/* The attributes of a constraint that name a resource. */
static const char *const ref_attrs[] = { "rsc", "with-rsc", "first", "then" };

static char *prop(xmlNode *node, const char *name)
{
	xmlChar *v = xmlGetProp(node, BAD_CAST name);
	char *out = v ? g_strdup((const char *)v) : NULL;

	xmlFree(v);
	return out;
}

static gboolean is_element(const xmlNode *node, const char *name)
{
	return node && node->type == XML_ELEMENT_NODE && xmlStrEqual(node->name, BAD_CAST name);
}

/* What id @id becomes when the VM's id goes from @old to @new: "<new>" for
 * @old, "<new>-x" for "<old>-x", crm_resource's move constraints of @old
 * for @new; NULL when @id does not embed @old. */
static char *renamed_id(const char *id, const char *old, const char *new)
{
	gsize n = strlen(old);
	const char *p;

	if (strcmp(id, old) == 0)
		return g_strdup(new);
	if (strncmp(id, old, n) == 0 && id[n] == '-')
		return g_strconcat(new, id + n, NULL);
	if (g_str_has_prefix(id, "cli-prefer-") && strcmp(id + strlen("cli-prefer-"), old) == 0)
		return g_strconcat("cli-prefer-", new, NULL);
	p = id + strlen("cli-ban-");
	if (g_str_has_prefix(id, "cli-ban-") && strncmp(p, old, n) == 0 &&
	    g_str_has_prefix(p + n, "-on-"))
		return g_strconcat("cli-ban-", new, p + n, NULL);
	return NULL;
}

/* Give @node and everything in it the ids renamed_id() says. */
static void rename_tree(xmlNode *node, const char *old, const char *new)
{
	g_autofree char *id = prop(node, "id");
	g_autofree char *to = id ? renamed_id(id, old, new) : NULL;

	if (to)
		xmlSetProp(node, BAD_CAST "id", BAD_CAST to);
	for (xmlNode *c = node->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			rename_tree(c, old, new);
}

/* The constraints (children of <constraints>) whose reference attributes
 * name @rsc. */
static GPtrArray *constraints_naming(xmlDoc *cib, const char *rsc)
{
	g_autoptr(xmlXPathContext) ctx = xmlXPathNewContext(cib);
	g_autoptr(xmlXPathObject) res = NULL;
	GPtrArray *out = g_ptr_array_new();

	xmlXPathRegisterVariable(ctx, BAD_CAST "rsc", xmlXPathNewString(BAD_CAST rsc));
	res = xmlXPathEvalExpression(BAD_CAST "//constraints/*[@rsc=$rsc or @with-rsc=$rsc or "
					      "@first=$rsc or @then=$rsc]",
				     ctx);
	for (int i = 0; res && res->nodesetval && i < res->nodesetval->nodeNr; i++)
		g_ptr_array_add(out, res->nodesetval->nodeTab[i]);
	return out;
}

/* CONFLICT when a resource set or a tag names @rsc: the objects holding it
 * would have to be rewritten in place, which a rename does not do. */
static gboolean check_sets_and_tags(xmlDoc *cib, const char *uuid, const char *rsc, GError **error)
{
	g_autoptr(xmlXPathContext) ctx = xmlXPathNewContext(cib);
	g_autoptr(xmlXPathObject) res = NULL;
	xmlNode *holder;
	g_autofree char *hid = NULL;

	xmlXPathRegisterVariable(ctx, BAD_CAST "rsc", xmlXPathNewString(BAD_CAST rsc));
	res = xmlXPathEvalExpression(BAD_CAST "//constraints/*[.//resource_ref[@id=$rsc]] | "
					      "//tags/tag[obj_ref[@id=$rsc]]",
				     ctx);
	if (res == NULL || res->nodesetval == NULL || res->nodesetval->nodeNr == 0)
		return TRUE;
	holder = res->nodesetval->nodeTab[0];
	hid = prop(holder, "id");
	g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
		    "VM %s: its resource %s is named in %s \"%s\", which a rename does not "
		    "rewrite; take it out of there first",
		    uuid, rsc, (const char *)holder->name, hid ? hid : "");
	return FALSE;
}

static gboolean target_role_stopped(xmlNode *prim)
{
	for (xmlNode *s = prim->children; s; s = s->next) {
		if (!is_element(s, "meta_attributes"))
			continue;
		for (xmlNode *nv = s->children; nv; nv = nv->next) {
			g_autofree char *name = is_element(nv, "nvpair") ? prop(nv, "name") : NULL;
			g_autofree char *value = NULL;

			if (g_strcmp0(name, "target-role") != 0)
				continue;
			value = prop(nv, "value");
			return value && g_ascii_strcasecmp(value, "Stopped") == 0;
		}
	}
	return FALSE; /* Pacemaker's default: Started */
}

/* Set the "cpu" and "memory" utilization of the primitive @prim (a copy):
 * in every set that has them, else in its first set, else in a new one. */
static void set_utilization(xmlNode *prim, const char *rsc, guint vcpus, guint64 memory_mib)
{
	g_autofree char *cpu = g_strdup_printf("%u", vcpus);
	g_autofree char *mem = g_strdup_printf("%" G_GUINT64_FORMAT, memory_mib);
	const char *names[] = { "cpu", "memory" };
	const char *values[] = { cpu, mem };

	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		xmlNode *first = NULL, *nv;
		gboolean done = FALSE;
		g_autofree char *set_id = NULL, *nv_id = NULL;

		for (xmlNode *s = prim->children; s; s = s->next) {
			if (!is_element(s, "utilization"))
				continue;
			if (first == NULL)
				first = s;
			for (xmlNode *n = s->children; n; n = n->next) {
				g_autofree char *name =
					is_element(n, "nvpair") ? prop(n, "name") : NULL;

				if (g_strcmp0(name, names[i]) == 0) {
					xmlSetProp(n, BAD_CAST "value", BAD_CAST values[i]);
					done = TRUE;
				}
			}
		}
		if (done)
			continue;
		if (first == NULL) {
			g_autofree char *id = g_strconcat(rsc, "-utilization", NULL);

			first = xmlNewChild(prim, NULL, BAD_CAST "utilization", NULL);
			xmlNewProp(first, BAD_CAST "id", BAD_CAST id);
		}
		set_id = prop(first, "id");
		nv_id = g_strdup_printf("%s-%s", set_id, names[i]);
		nv = xmlNewChild(first, NULL, BAD_CAST "nvpair", NULL);
		xmlNewProp(nv, BAD_CAST "id", BAD_CAST nv_id);
		xmlNewProp(nv, BAD_CAST "name", BAD_CAST names[i]);
		xmlNewProp(nv, BAD_CAST "value", BAD_CAST values[i]);
	}
}

/* <@tag id="@id" __delete__="true"/> in @parent: gone after the update. */
static void add_delete(xmlNode *parent, const xmlChar *tag, const char *id)
{
	xmlNode *d = xmlNewChild(parent, NULL, tag, NULL);

	xmlNewProp(d, BAD_CAST "id", BAD_CAST id);
	xmlNewProp(d, BAD_CAST "__delete__", BAD_CAST "true");
}

/* CONFLICT when an id of @node's tree is in @taken. */
static gboolean ids_free(xmlNode *node, GHashTable *taken, const char *uuid, const char *rsc,
			 GError **error)
{
	g_autoptr(GHashTable) ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GHashTableIter it;
	gpointer id;

	collect_tree_ids(node, ids);
	g_hash_table_iter_init(&it, ids);
	while (g_hash_table_iter_next(&it, &id, NULL)) {
		if (g_hash_table_contains(taken, id)) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "VM %s: cannot become resource %s: the CIB has another element "
				    "with id \"%s\"",
				    uuid, rsc, (const char *)id);
			return FALSE;
		}
	}
	return TRUE;
}

xmlDoc *ics_cib_vm_rename(xmlDoc *cib, const IcsCibVmSpec *spec, char **rsc_id, GError **error)
{
	xmlNode *prim = ics_cib_vm_find(cib, spec->uuid);
	g_autofree char *old = NULL, *new = NULL;
	g_autoptr(GPtrArray) cons = NULL;
	g_autoptr(GHashTable) taken = NULL;
	g_autoptr(GHashTable) going = NULL;
	g_autoptr(xmlDoc) doc = NULL;
	xmlNode *conf, *resources, *constraints, *copy;
	GHashTableIter it;
	gpointer id;

	*rsc_id = NULL;
	if (prim == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "VM %s has no ocf:ics:vm primitive in the CIB", spec->uuid);
		return NULL;
	}
	old = prop(prim, "id");
	if (old == NULL || !is_element(prim->parent, "resources")) {
		g_autofree char *pid = prim->parent ? prop(prim->parent, "id") : NULL;

		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "VM %s: its primitive %s is inside %s \"%s\"; rename it there by hand",
			    spec->uuid, old ? old : "",
			    prim->parent ? (const char *)prim->parent->name : "", pid ? pid : "");
		return NULL;
	}
	if (!check_sets_and_tags(cib, spec->uuid, old, error))
		return NULL;
	cons = constraints_naming(cib, old);

	/* What the update deletes no longer holds its ids. */
	taken = ics_cib_ids(cib);
	going = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	collect_tree_ids(prim, going);
	for (guint i = 0; i < cons->len; i++) {
		g_autofree char *cid = prop(cons->pdata[i], "id");
		g_autofree char *to = cid ? renamed_id(cid, old, "x") : NULL;

		if (to)
			collect_tree_ids(cons->pdata[i], going);
	}
	g_hash_table_iter_init(&it, going);
	while (g_hash_table_iter_next(&it, &id, NULL))
		g_hash_table_remove(taken, id);
	new = ics_cib_vm_resource_id(spec->name, spec->uuid, taken, error);
	if (new == NULL)
		return NULL;

	doc = xmlNewDoc(BAD_CAST "1.0");
	conf = xmlNewNode(NULL, BAD_CAST "configuration");
	xmlDocSetRootElement(doc, conf);
	resources = xmlNewChild(conf, NULL, BAD_CAST "resources", NULL);
	constraints = xmlNewChild(conf, NULL, BAD_CAST "constraints", NULL);
	copy = xmlDocCopyNode(prim, doc, 1);
	set_utilization(copy, old, spec->vcpus, spec->memory_mib);
	if (strcmp(new, old) == 0) {
		xmlAddChild(resources, copy);
		*rsc_id = g_steal_pointer(&new);
		return g_steal_pointer(&doc);
	}
	if (!target_role_stopped(prim)) {
		xmlFreeNode(copy);
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "VM %s: its resource id %s would become %s, which Pacemaker cannot do "
			    "while the VM may run (target-role is not Stopped); stop it first",
			    spec->uuid, old, new);
		return NULL;
	}
	add_delete(resources, prim->name, old);
	rename_tree(copy, old, new);
	xmlAddChild(resources, copy);
	if (!ids_free(copy, taken, spec->uuid, new, error))
		return NULL;
	for (guint i = 0; i < cons->len; i++) {
		xmlNode *c = cons->pdata[i], *nc;
		g_autofree char *cid = prop(c, "id");
		g_autofree char *to = cid ? renamed_id(cid, old, new) : NULL;

		if (cid == NULL)
			continue;
		if (to) {
			/* Its id follows: the old one goes, a copy comes. */
			add_delete(constraints, c->name, cid);
			nc = xmlDocCopyNode(c, doc, 1);
			rename_tree(nc, old, new);
			xmlAddChild(constraints, nc);
			if (!ids_free(nc, taken, spec->uuid, new, error))
				return NULL;
		} else {
			/* Its id stays: only the references change, in place. */
			nc = xmlNewChild(constraints, NULL, c->name, NULL);
			xmlNewProp(nc, BAD_CAST "id", BAD_CAST cid);
		}
		for (guint k = 0; k < G_N_ELEMENTS(ref_attrs); k++) {
			g_autofree char *v = prop(c, ref_attrs[k]);

			if (g_strcmp0(v, old) == 0)
				xmlSetProp(nc, BAD_CAST ref_attrs[k], BAD_CAST new);
		}
	}
	*rsc_id = g_steal_pointer(&new);
	return g_steal_pointer(&doc);
}
