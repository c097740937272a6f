/*
 * vm_resource_id.c: the Pacemaker id of a VM's primitive (see
 * ics/cib_objects.h) -- the rule that gives a new VM an id from its name,
 * and the look-up of a VM's primitive by its uuid.
 *
 * Why names: crm, pcs and crm_resource address resources by id, and
 * operators know their VMs by name (`crm resource move web1 node2`).  A CIB
 * id is an XML NCName, unique in the whole configuration (the schema
 * declares ids xsd:ID: a VM named like a stonith device or a cluster
 * property set must not take its id), hence the fallbacks of the rule, each
 * tried against every id the VM's objects would carry, not only the
 * primitive's.  An id is chosen once: an edit keeps it (Pacemaker cannot
 * change an id in place).
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
