/*
 * cib_objects.c: build the CIB objects of an ICS VM (see ics/cib_objects.h).
 *
 * Every id is built from the primitive's (spec->rsc_id, chosen by the rule
 * in vm_resource_id.c), so an operator reading the CIB sees at once which
 * VM a constraint or an nvpair belongs to, and every element Pacemaker
 * requires an id of gets a unique one.  Which VM a primitive stands for is
 * its "uuid" parameter, written here and read back by ics_cib_vm_find().
 */
#include "config.h"

#include "ics/cib_objects.h"

#include <string.h>

#include "ics/xml.h"

char *ics_cib_pool_clone_id(const char *pool_name)
{
	return g_strdup_printf("ics-pool-%s", pool_name);
}

char *ics_cib_vm_order_id(const char *rsc_id)
{
	return g_strdup_printf("%s-after-pool", rsc_id);
}

char *ics_cib_vm_colocation_id(const char *rsc_id)
{
	return g_strdup_printf("%s-with-pool", rsc_id);
}

static void add_nvpair(xmlNode *set, const char *name, const char *value)
{
	g_autoptr(xmlChar) set_id = xmlGetProp(set, BAD_CAST "id");
	g_autofree char *id = g_strdup_printf("%s-%s", (const char *)set_id, name);
	xmlNode *nv = xmlNewChild(set, NULL, BAD_CAST "nvpair", NULL);

	xmlNewProp(nv, BAD_CAST "id", BAD_CAST id);
	xmlNewProp(nv, BAD_CAST "name", BAD_CAST name);
	xmlNewProp(nv, BAD_CAST "value", BAD_CAST value);
}

static xmlNode *add_set(xmlNode *parent, const char *element, const char *rsc_id,
			const char *suffix)
{
	g_autofree char *id = g_strdup_printf("%s-%s", rsc_id, suffix);
	xmlNode *set = xmlNewChild(parent, NULL, BAD_CAST element, NULL);

	xmlNewProp(set, BAD_CAST "id", BAD_CAST id);
	return set;
}

static void add_op(xmlNode *ops, const char *rsc_id, const char *name, const char *interval,
		   const char *timeout)
{
	g_autofree char *id = g_strdup_printf("%s-%s-interval-%s", rsc_id, name, interval);
	xmlNode *op = xmlNewChild(ops, NULL, BAD_CAST "op", NULL);

	xmlNewProp(op, BAD_CAST "id", BAD_CAST id);
	xmlNewProp(op, BAD_CAST "name", BAD_CAST name);
	xmlNewProp(op, BAD_CAST "interval", BAD_CAST interval);
	xmlNewProp(op, BAD_CAST "timeout", BAD_CAST timeout);
}

static xmlDoc *new_doc(const char *root_name, xmlNode **root)
{
	xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");

	*root = xmlNewNode(NULL, BAD_CAST root_name);
	xmlDocSetRootElement(doc, *root);
	return doc;
}

xmlDoc *ics_cib_vm_primitive(const IcsCibVmSpec *spec)
{
	const char *id = spec->rsc_id;
	g_autofree char *cpu = g_strdup_printf("%u", spec->vcpus);
	g_autofree char *mem = g_strdup_printf("%" G_GUINT64_FORMAT, spec->memory_mib);
	xmlNode *prim, *set, *ops;
	xmlDoc *doc = new_doc("primitive", &prim);

	xmlNewProp(prim, BAD_CAST "id", BAD_CAST id);
	xmlNewProp(prim, BAD_CAST "class", BAD_CAST "ocf");
	xmlNewProp(prim, BAD_CAST "provider", BAD_CAST "ics");
	xmlNewProp(prim, BAD_CAST "type", BAD_CAST "vm");

	set = add_set(prim, "instance_attributes", id, "instance_attributes");
	add_nvpair(set, "uuid", spec->uuid);
	add_nvpair(set, "pool", spec->pool_path);
	if (spec->migration_unsafe)
		add_nvpair(set, "migration_unsafe", "true");

	set = add_set(prim, "meta_attributes", id, "meta_attributes");
	add_nvpair(set, "allow-migrate", "true");
	/* A VM stays where it runs: a node coming back (or leaving standby)
	 * does not pull VMs back; balancing is DRS's job, by live migration. */
	add_nvpair(set, "resource-stickiness", "1000");
	/* A failed start is retried after this, on every node: the liveness
	 * backstop when a start waited out its budget (docs/ocf_ics_vm.7). */
	add_nvpair(set, "failure-timeout", "300s");
	add_nvpair(set, "target-role", spec->start ? "Started" : "Stopped");

	set = add_set(prim, "utilization", id, "utilization");
	add_nvpair(set, "cpu", cpu);
	add_nvpair(set, "memory", mem);

	ops = xmlNewChild(prim, NULL, BAD_CAST "operations", NULL);
	add_op(ops, id, "monitor", "5s", "30s");
	/* start waits out a refused lease until sanlock's expiry (68 s at
	 * io_timeout 1) within its budget, timeout - 50 s (ocf_ics_vm(7)) */
	add_op(ops, id, "start", "0s", "150s");
	add_op(ops, id, "stop", "0s", "90s");
	add_op(ops, id, "migrate_to", "0s", "120s");
	add_op(ops, id, "migrate_from", "0s", "120s");
	return doc;
}

xmlDoc *ics_cib_vm_order(const IcsCibVmSpec *spec)
{
	g_autofree char *id = ics_cib_vm_order_id(spec->rsc_id);
	const char *vm = spec->rsc_id;
	g_autofree char *pool = ics_cib_pool_clone_id(spec->pool_name);
	xmlNode *o;
	xmlDoc *doc = new_doc("rsc_order", &o);

	xmlNewProp(o, BAD_CAST "id", BAD_CAST id);
	xmlNewProp(o, BAD_CAST "kind", BAD_CAST "Mandatory");
	xmlNewProp(o, BAD_CAST "first", BAD_CAST pool);
	xmlNewProp(o, BAD_CAST "then", BAD_CAST vm);
	return doc;
}

xmlDoc *ics_cib_vm_colocation(const IcsCibVmSpec *spec)
{
	g_autofree char *id = ics_cib_vm_colocation_id(spec->rsc_id);
	const char *vm = spec->rsc_id;
	g_autofree char *pool = ics_cib_pool_clone_id(spec->pool_name);
	xmlNode *c;
	xmlDoc *doc = new_doc("rsc_colocation", &c);

	xmlNewProp(c, BAD_CAST "id", BAD_CAST id);
	xmlNewProp(c, BAD_CAST "score", BAD_CAST "INFINITY");
	xmlNewProp(c, BAD_CAST "rsc", BAD_CAST vm);
	xmlNewProp(c, BAD_CAST "with-rsc", BAD_CAST pool);
	return doc;
}

static void add_copy(xmlNode *parent, xmlDoc *doc)
{
	xmlAddChild(parent, xmlCopyNode(xmlDocGetRootElement(doc), 1));
}

xmlDoc *ics_cib_vms_configuration(const IcsCibVmSpec *const *specs, guint n)
{
	xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNode *conf = xmlNewNode(NULL, BAD_CAST "configuration");
	xmlNode *resources, *constraints;

	xmlDocSetRootElement(doc, conf);
	resources = xmlNewChild(conf, NULL, BAD_CAST "resources", NULL);
	constraints = xmlNewChild(conf, NULL, BAD_CAST "constraints", NULL);
	for (guint i = 0; i < n; i++) {
		g_autoptr(xmlDoc) prim = NULL, order = NULL, coloc = NULL;

		if (specs[i] == NULL)
			continue;
		prim = ics_cib_vm_primitive(specs[i]);
		order = ics_cib_vm_order(specs[i]);
		coloc = ics_cib_vm_colocation(specs[i]);
		add_copy(resources, prim);
		add_copy(constraints, order);
		add_copy(constraints, coloc);
	}
	return doc;
}

char *ics_cib_move_constraint_id(const char *rsc_id)
{
	return g_strdup_printf("cli-prefer-%s", rsc_id);
}

xmlDoc *ics_cib_move_constraint(const char *rsc_id, const char *node)
{
	g_autofree char *id = ics_cib_move_constraint_id(rsc_id);
	xmlNode *l;
	xmlDoc *doc = new_doc("rsc_location", &l);

	xmlNewProp(l, BAD_CAST "id", BAD_CAST id);
	xmlNewProp(l, BAD_CAST "rsc", BAD_CAST rsc_id);
	xmlNewProp(l, BAD_CAST "role", BAD_CAST "Started");
	xmlNewProp(l, BAD_CAST "node", BAD_CAST node);
	xmlNewProp(l, BAD_CAST "score", BAD_CAST "INFINITY");
	return doc;
}

gboolean ics_cib_id_valid(const char *id)
{
	if (id == NULL || !(g_ascii_isalpha(id[0]) || id[0] == '_'))
		return FALSE;
	for (const char *p = id + 1; *p; p++) {
		if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-' && *p != '.')
			return FALSE;
	}
	return strlen(id) <= 255;
}
