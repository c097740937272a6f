/*
 * cib_writes.c: the changes ics-managerd makes to the CIB, through libcib.
 *
 * Each operation is one synchronous request to the CIB manager (or a short,
 * ordered sequence of them, where Pacemaker must never see an intermediate
 * state it could act on) and fails with one GError that names the object.
 * A VM's primitive is found by its uuid parameter, never by its id; a new
 * one gets the id vmpool's rule gives its name, and a rename replaces it
 * and its constraints in one update whose deletions are marked __delete__
 * (cib_mixed_update: in Pacemaker 2.1.5 the one way to send a delete and a
 * create as one change; deprecated from 2.1.7, where CIB transactions,
 * new in 2.1.6, do the same).
 * Nothing is cached between calls: where an operation must know what is
 * there (which meta attribute set already holds target-role, which node id
 * a node name has), it asks the CIB first.
 *
 * The shapes are those of Pacemaker's own tools, so the operator's tools
 * and ICS see and undo each other's work:
 * - target-role is updated in the set that already has it (crm_resource
 *   --meta -p), else added to the first meta_attributes set;
 * - a move is the location constraint "cli-prefer-<rsc>" of crm_resource
 *   --move, and clear removes "cli-prefer-<rsc>" and "cli-ban-<rsc>-on-*";
 * - node standby and cluster properties go through libcib's own attribute
 *   helpers (update_attr_delegate / delete_attr_delegate), which is what
 *   crm_attribute calls: permanent node attributes in
 *   configuration/nodes/node/instance_attributes ("nodes-<id>-standby"),
 *   transient ones in status/node_state/transient_attributes
 *   ("status-<id>-standby", the ids pacemaker-attrd uses), properties in
 *   crm_config's cluster_property_set.
 *
 * Ids go into XPath expressions only after ics_cib_id_valid() said they
 * cannot break out of a quoted string.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <crm/cib.h>
#include <crm/common/results.h>
#include <crm/common/xml.h>

#include "cluster_internal.h"
#include "ics/error.h"
#include "ics/log.h"
#include "ics/xml.h"

#define SYNC (cib_sync_call)

static gboolean check_id(const char *id, const char *what, GError **error)
{
	if (!ics_cib_id_valid(id))
		return ics_error_invalid(error, "%s \"%s\" is not a valid CIB id", what,
					 id ? id : "(null)");
	return TRUE;
}

/* Node names are host names; the same check keeps them out of XPath trouble. */
static gboolean check_node(const char *node, GError **error)
{
	if (node == NULL || node[0] == '\0' || strlen(node) > 255 ||
	    strspn(node, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
		    strlen(node))
		return ics_error_invalid(error, "\"%s\" is not a valid node name",
					 node ? node : "(null)");
	return TRUE;
}

/* XPath of the configured resource (primitive, clone, group) with @id. */
static char *resource_xpath(const char *id)
{
	return g_strdup_printf("/cib/configuration/resources//*[@id='%s' and (self::primitive or "
			       "self::clone or self::group or self::master or self::bundle)]",
			       id);
}

gboolean ics_cluster_create(IcsCluster *cluster, const char *section, xmlDoc *obj, GError **error)
{
	cib_t *cib = ics_cluster_cib(cluster, error);
	xmlNode *root = obj ? xmlDocGetRootElement(obj) : NULL;
	g_autofree char *id = NULL;
	g_autofree char *what = NULL;
	int rc;

	if (cib == NULL)
		return FALSE;
	if (root == NULL)
		return ics_error_invalid(error, "cluster: nothing to create in %s", section);
	id = ics_xml_prop(root, "id");
	what = g_strdup_printf("cluster: cannot create <%s id=\"%s\"> in %s",
			       (const char *)root->name, id ? id : "", section);
	rc = cib->cmds->create(cib, section, root, SYNC);
	if (rc != pcmk_ok) {
		ics_cluster_set_pcmk_error(error, rc, what);
		return FALSE;
	}
	return TRUE;
}

/* Delete what @xpath selects (every match when @all); absent is fine when
 * @missing_ok. */
static gboolean remove_xpath(cib_t *cib, const char *xpath, gboolean all, gboolean missing_ok,
			     const char *what, GError **error)
{
	int rc = cib->cmds->remove(cib, xpath, NULL, SYNC | cib_xpath | (all ? cib_multiple : 0));

	if (rc == pcmk_ok || (missing_ok && rc == -ENXIO))
		return TRUE;
	ics_cluster_set_pcmk_error(error, rc, what);
	return FALSE;
}

/* The configured element of resource @id (a copy; free_xml()), or NULL
 * with NOT_FOUND. */
static xmlNode *query_resource(cib_t *cib, const char *id, GError **error)
{
	g_autofree char *xpath = resource_xpath(id);
	xmlNode *out = NULL;
	int rc = cib->cmds->query(cib, xpath, &out, SYNC | cib_xpath | cib_scope_local);

	if (rc != pcmk_ok || out == NULL) {
		g_autofree char *what = g_strdup_printf("cluster: resource \"%s\"", id);

		if (out)
			free_xml(out);
		if (rc == -ENXIO || rc == pcmk_ok) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
				    "cluster: there is no resource \"%s\" in the CIB", id);
			return NULL;
		}
		ics_cluster_set_pcmk_error(error, rc, what);
		return NULL;
	}
	return out;
}

gboolean ics_cluster_remove_resource(IcsCluster *cluster, const char *rsc_id, GError **error)
{
	cib_t *cib = ics_cluster_cib(cluster, error);
	g_autofree char *cons = NULL, *rxp = NULL, *what = NULL;
	xmlNode *found;

	if (cib == NULL || !check_id(rsc_id, "resource", error))
		return FALSE;
	found = query_resource(cib, rsc_id, error);
	if (found == NULL)
		return FALSE;
	free_xml(found);
	what = g_strdup_printf("cluster: cannot remove resource \"%s\"", rsc_id);
	cons = g_strdup_printf("/cib/configuration/constraints/*[@rsc='%s' or @with-rsc='%s' or "
			       "@first='%s' or @then='%s']",
			       rsc_id, rsc_id, rsc_id, rsc_id);
	if (!remove_xpath(cib, cons, TRUE, TRUE, what, error))
		return FALSE;
	rxp = resource_xpath(rsc_id);
	return remove_xpath(cib, rxp, FALSE, FALSE, what, error);
}

/* What a CIB query by XPath answered, as a document of our own (the
 * matches under <xpath-query> when there are several); an empty document
 * when nothing matched. */
static xmlDoc *query_xpath(cib_t *cib, const char *xpath, const char *what, GError **error)
{
	xmlNode *out = NULL;
	xmlDoc *doc;
	int rc = cib->cmds->query(cib, xpath, &out, SYNC | cib_xpath | cib_scope_local);

	if (rc != pcmk_ok && rc != -ENXIO) {
		ics_cluster_set_pcmk_error(error, rc, what);
		if (out)
			free_xml(out);
		return NULL;
	}
	doc = xmlNewDoc(BAD_CAST "1.0");
	xmlDocSetRootElement(doc, out ? xmlDocCopyNode(out, doc, 1)
				      : xmlNewNode(NULL, BAD_CAST "xpath-query"));
	if (out)
		free_xml(out);
	return doc;
}

guint ics_cluster_define_vms(IcsCluster *cluster, const IcsCibVmSpec *const *specs, guint n,
			     GError **errors)
{
	cib_t *cib;
	g_autofree IcsCibVmSpec *mine = g_new0(IcsCibVmSpec, n);
	g_autofree char **ids = g_new0(char *, n);
	g_autofree const IcsCibVmSpec **valid = g_new0(const IcsCibVmSpec *, n);
	g_autofree const IcsCibVmSpec **todo = g_new0(const IcsCibVmSpec *, n);
	g_autofree char *xpath = NULL;
	g_autoptr(xmlDoc) there = NULL;
	g_autoptr(GHashTable) taken = NULL;
	g_autoptr(xmlDoc) doc = NULL;
	GError *e = NULL;
	guint written = 0, nvalid = 0;
	int rc;

	for (guint i = 0; i < n; i++) {
		g_autofree char *pool = NULL;
		const IcsCibVmSpec *spec = specs[i];

		if (spec->uuid == NULL || spec->pool_name == NULL || spec->pool_path == NULL) {
			ics_error_invalid(&errors[i],
					  "cluster: a VM needs a uuid, a pool name and a pool path");
			continue;
		}
		pool = ics_cib_pool_clone_id(spec->pool_name);
		if (!g_uuid_string_is_valid(spec->uuid)) {
			ics_error_invalid(&errors[i], "cluster: \"%s\" is not a VM uuid",
					  spec->uuid);
			continue;
		}
		if (!check_id(pool, "pool clone", &errors[i]))
			continue;
		valid[i] = spec;
		nvalid++;
	}
	if (nvalid == 0)
		return 0;
	/* One query: the VMs' primitives, if they have any, and every id the
	 * rule could find taken for their names. */
	if ((cib = ics_cluster_cib(cluster, &e)) == NULL ||
	    (xpath = ics_cib_vm_define_xpath(valid, n, &e)) == NULL ||
	    (there = query_xpath(cib, xpath, "cluster: cannot look for the VMs' resources", &e)) ==
		    NULL)
		goto fail_all;
	taken = ics_cib_ids(there);

	for (guint i = 0; i < n; i++) {
		g_autofree char *have = NULL;

		if (valid[i] == NULL)
			continue;
		have = ics_cib_vm_find_id(there, valid[i]->uuid);
		if (have) {
			g_set_error(&errors[i], ICS_ERROR, ICS_ERROR_CONFLICT,
				    "cluster: VM %s is already defined (resource %s exists)",
				    valid[i]->uuid, have);
			continue;
		}
		/* The rule; the ids it gives one VM are taken for the next. */
		ids[i] = ics_cib_vm_resource_id(valid[i]->name, valid[i]->uuid, taken, &errors[i]);
		if (ids[i] == NULL) {
			ics_error_prefix(&errors[i], "cluster: ");
			continue;
		}
		ics_cib_vm_take_ids(ids[i], taken);
		mine[i] = *valid[i];
		mine[i].rsc_id = ids[i];
		todo[i] = &mine[i];
		written++;
	}
	if (written == 0)
		goto out;
	/* One update, the same ics-admin sends (vmpool). */
	doc = ics_cib_vms_configuration(todo, n);
	rc = cib->cmds->modify(cib, "configuration", xmlDocGetRootElement(doc),
			       SYNC | cib_can_create);
	if (rc != pcmk_ok) {
		ics_cluster_set_pcmk_error(&e, rc,
					   n == 1 ? "cluster: cannot create the VM's resource"
						  : "cluster: cannot create the VMs' resources");
		written = 0;
		goto fail_all;
	}
	goto out;
fail_all:
	for (guint i = 0; i < n; i++)
		if (errors[i] == NULL)
			errors[i] = g_error_copy(e);
	g_error_free(e);
out:
	for (guint i = 0; i < n; i++)
		g_free(ids[i]);
	return written;
}

gboolean ics_cluster_define_vm(IcsCluster *cluster, const IcsCibVmSpec *spec, GError **error)
{
	GError *errors[1] = { NULL };

	if (ics_cluster_define_vms(cluster, &spec, 1, errors) == 1)
		return TRUE;
	g_propagate_error(error, errors[0]);
	return FALSE;
}

char *ics_cluster_vm_resource(IcsCluster *cluster, const char *uuid, GError **error)
{
	cib_t *cib = ics_cluster_cib(cluster, error);
	g_autofree char *xpath = NULL;
	g_autoptr(xmlDoc) found = NULL;
	char *id;

	if (cib == NULL || (xpath = ics_cib_vm_uuid_xpath(uuid, error)) == NULL ||
	    (found = query_xpath(cib, xpath, "cluster: cannot look for the VM's resource",
				 error)) == NULL)
		return NULL;
	id = ics_cib_vm_find_id(found, uuid);
	if (id == NULL)
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "cluster: VM %s has no resource in the CIB", uuid);
	return id;
}

gboolean ics_cluster_rename_vm(IcsCluster *cluster, const IcsCibVmSpec *spec, char **rsc_id,
			       GError **error)
{
	cib_t *cib = ics_cluster_cib(cluster, error);
	xmlNode *out = NULL;
	g_autoptr(xmlDoc) conf = NULL;
	g_autoptr(xmlDoc) update = NULL;
	g_autofree char *id = NULL;
	int rc;

	*rsc_id = NULL;
	if (cib == NULL)
		return FALSE;
	rc = cib->cmds->query(cib, "configuration", &out, SYNC | cib_scope_local);
	if (rc != pcmk_ok || out == NULL) {
		ics_cluster_set_pcmk_error(error, rc != pcmk_ok ? rc : -ENOMSG,
					   "cluster: cannot read the configuration");
		if (out)
			free_xml(out);
		return FALSE;
	}
	conf = xmlNewDoc(BAD_CAST "1.0");
	xmlDocSetRootElement(conf, xmlDocCopyNode(out, conf, 1));
	free_xml(out);
	update = ics_cib_vm_rename(conf, spec, &id, error);
	if (update == NULL) {
		ics_error_prefix(error, "cluster: ");
		return FALSE;
	}
	/* One update: the old objects go (__delete__, cib_mixed_update) as the
	 * new ones come. */
	rc = cib->cmds->modify(cib, "configuration", xmlDocGetRootElement(update),
			       SYNC | cib_can_create | cib_mixed_update);
	if (rc != pcmk_ok) {
		g_autofree char *what = g_strdup_printf(
			"cluster: cannot rename the resource of VM %s to %s", spec->uuid, id);

		ics_cluster_set_pcmk_error(error, rc, what);
		return FALSE;
	}
	*rsc_id = g_steal_pointer(&id);
	return TRUE;
}

/* Add to @update (a copy of the element's tag and id) the nvpair @name =
 * @value in every @kind set ("meta_attributes", "utilization") of @rsc that
 * has it, or else in its first set, or else in a new set "<id>-<kind>". */
static void set_update(xmlNode *rsc, xmlNode *update, const char *rsc_id, const char *kind,
		       const char *name, const char *value)
{
	gboolean done = FALSE;
	xmlNode *first_set = NULL;
	g_autofree char *set_id = NULL, *nv_id = NULL;
	xmlNode *set, *nv;

	for (xmlNode *s = rsc->children; s; s = s->next) {
		g_autofree char *sid = NULL;

		if (!ics_xml_is(s, kind))
			continue;
		if (first_set == NULL)
			first_set = s;
		sid = ics_xml_prop(s, "id");
		for (xmlNode *n = s->children; n; n = n->next) {
			g_autofree char *nname =
				ics_xml_is(n, "nvpair") ? ics_xml_prop(n, "name") : NULL;
			g_autofree char *nid = NULL;

			if (g_strcmp0(nname, name) != 0)
				continue;
			nid = ics_xml_prop(n, "id");
			set = xmlNewChild(update, NULL, BAD_CAST kind, NULL);
			xmlNewProp(set, BAD_CAST "id", BAD_CAST sid);
			nv = xmlNewChild(set, NULL, BAD_CAST "nvpair", NULL);
			xmlNewProp(nv, BAD_CAST "id", BAD_CAST nid);
			xmlNewProp(nv, BAD_CAST "name", BAD_CAST name);
			xmlNewProp(nv, BAD_CAST "value", BAD_CAST value);
			done = TRUE;
		}
	}
	if (done)
		return;
	set_id = first_set ? ics_xml_prop(first_set, "id") : g_strdup_printf("%s-%s", rsc_id, kind);
	nv_id = g_strdup_printf("%s-%s", set_id, name);
	set = xmlNewChild(update, NULL, BAD_CAST kind, NULL);
	xmlNewProp(set, BAD_CAST "id", BAD_CAST set_id);
	nv = xmlNewChild(set, NULL, BAD_CAST "nvpair", NULL);
	xmlNewProp(nv, BAD_CAST "id", BAD_CAST nv_id);
	xmlNewProp(nv, BAD_CAST "name", BAD_CAST name);
	xmlNewProp(nv, BAD_CAST "value", BAD_CAST value);
}

/* Merge the nvpairs @names = @values into the @kind sets of @rsc_id. */
static gboolean update_sets(IcsCluster *cluster, const char *rsc_id, const char *kind,
			    const char *const *names, const char *const *values, const char *what,
			    GError **error)
{
	cib_t *cib = ics_cluster_cib(cluster, error);
	g_autoptr(xmlDoc) doc = NULL;
	xmlNode *rsc, *update;
	int rc;

	if (cib == NULL || !check_id(rsc_id, "resource", error))
		return FALSE;
	rsc = query_resource(cib, rsc_id, error);
	if (rsc == NULL)
		return FALSE;
	/* <primitive id="..."> with only the sets and nvpairs to merge. */
	doc = xmlNewDoc(BAD_CAST "1.0");
	update = xmlNewNode(NULL, rsc->name);
	xmlDocSetRootElement(doc, update);
	xmlNewProp(update, BAD_CAST "id", BAD_CAST rsc_id);
	for (guint i = 0; names[i]; i++)
		set_update(rsc, update, rsc_id, kind, names[i], values[i]);
	free_xml(rsc);
	rc = cib->cmds->modify(cib, "resources", update, SYNC);
	if (rc != pcmk_ok) {
		ics_cluster_set_pcmk_error(error, rc, what);
		return FALSE;
	}
	return TRUE;
}

gboolean ics_cluster_set_target_role(IcsCluster *cluster, const char *rsc_id, const char *role,
				     GError **error)
{
	const char *names[] = { "target-role", NULL };
	const char *values[] = { role, NULL };
	g_autofree char *what = NULL;

	if (role == NULL || role[0] == '\0')
		return ics_error_invalid(error, "cluster: resource \"%s\": empty target-role",
					 rsc_id);
	what = g_strdup_printf("cluster: cannot set target-role of \"%s\" to %s", rsc_id, role);
	return update_sets(cluster, rsc_id, "meta_attributes", names, values, what, error);
}

gboolean ics_cluster_set_vm_utilization(IcsCluster *cluster, const IcsCibVmSpec *spec,
					GError **error)
{
	g_autofree char *id = NULL, *cpu = NULL, *mem = NULL, *what = NULL;
	const char *names[] = { "cpu", "memory", NULL };
	const char *values[3] = { NULL };

	if (spec->uuid == NULL)
		return ics_error_invalid(error, "cluster: a VM needs a uuid");
	id = ics_cluster_vm_resource(cluster, spec->uuid, error);
	if (id == NULL)
		return FALSE;
	cpu = g_strdup_printf("%u", spec->vcpus);
	mem = g_strdup_printf("%" G_GUINT64_FORMAT, spec->memory_mib);
	values[0] = cpu;
	values[1] = mem;
	what = g_strdup_printf("cluster: cannot update the utilization of \"%s\"", id);
	return update_sets(cluster, id, "utilization", names, values, what, error);
}

/* The CIB node id of node @name; NOT_FOUND when the cluster does not know it. */
static char *node_uuid(cib_t *cib, const char *name, GError **error)
{
	char *uuid = NULL;
	int is_remote = 0;
	int rc;

	if (!check_node(name, error))
		return NULL;
	rc = query_node_uuid(cib, name, &uuid, &is_remote);
	if (rc != pcmk_ok || uuid == NULL) {
		free(uuid);
		if (rc == pcmk_ok || rc == -ENXIO || rc == -pcmk_err_node_unknown)
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
				    "cluster: node \"%s\" is not known to the cluster", name);
		else
			ics_cluster_set_pcmk_error(error, rc, "cluster: cannot look up a node");
		return NULL;
	}
	{
		char *copy = g_strdup(uuid);

		free(uuid);
		return copy;
	}
}

gboolean ics_cluster_move(IcsCluster *cluster, const char *rsc_id, const char *node, GError **error)
{
	cib_t *cib = ics_cluster_cib(cluster, error);
	g_autofree char *uuid = NULL;
	g_autoptr(xmlDoc) loc = NULL;
	xmlNode *found;
	int rc;

	if (cib == NULL || !check_id(rsc_id, "resource", error))
		return FALSE;
	found = query_resource(cib, rsc_id, error);
	if (found == NULL)
		return FALSE;
	free_xml(found);
	uuid = node_uuid(cib, node, error);
	if (uuid == NULL)
		return FALSE;
	loc = ics_cib_move_constraint(rsc_id, node);
	/* Create, or replace an earlier move's node. */
	rc = cib->cmds->modify(cib, "constraints", xmlDocGetRootElement(loc),
			       SYNC | cib_can_create);
	if (rc != pcmk_ok) {
		g_autofree char *what =
			g_strdup_printf("cluster: cannot move \"%s\" to node %s", rsc_id, node);

		ics_cluster_set_pcmk_error(error, rc, what);
		return FALSE;
	}
	return TRUE;
}

gboolean ics_cluster_clear(IcsCluster *cluster, const char *rsc_id, GError **error)
{
	cib_t *cib = ics_cluster_cib(cluster, error);
	g_autofree char *xpath = NULL, *what = NULL;

	if (cib == NULL || !check_id(rsc_id, "resource", error))
		return FALSE;
	xpath = g_strdup_printf("/cib/configuration/constraints/rsc_location[@rsc='%s' and "
				"(@id='cli-prefer-%s' or starts-with(@id, 'cli-ban-%s-on-'))]",
				rsc_id, rsc_id, rsc_id);
	what = g_strdup_printf("cluster: cannot clear the moves of \"%s\"", rsc_id);
	return remove_xpath(cib, xpath, TRUE, TRUE, what, error);
}

gboolean ics_cluster_set_standby(IcsCluster *cluster, const char *node, gboolean on,
				 IcsAttrLifetime lifetime, GError **error)
{
	cib_t *cib = ics_cluster_cib(cluster, error);
	const char *section = lifetime == ICS_ATTR_TRANSIENT ? "status" : "nodes";
	g_autofree char *uuid = NULL, *what = NULL;
	int rc;

	if (cib == NULL)
		return FALSE;
	uuid = node_uuid(cib, node, error);
	if (uuid == NULL)
		return FALSE;
	if (on)
		rc = update_attr_delegate(cib, SYNC, section, uuid, NULL, NULL, NULL, "standby",
					  "on", FALSE, NULL, NULL);
	else
		rc = delete_attr_delegate(cib, SYNC, section, uuid, NULL, NULL, NULL, "standby",
					  NULL, FALSE, NULL);
	if (rc == pcmk_ok || (!on && rc == -ENXIO))
		return TRUE;
	what = g_strdup_printf("cluster: cannot set %s standby %s on node %s",
			       lifetime == ICS_ATTR_TRANSIENT ? "transient" : "permanent",
			       on ? "on" : "off", node);
	ics_cluster_set_pcmk_error(error, rc, what);
	return FALSE;
}

gboolean ics_cluster_set_property(IcsCluster *cluster, const char *name, const char *value,
				  GError **error)
{
	cib_t *cib = ics_cluster_cib(cluster, error);
	g_autofree char *what = NULL;
	int rc;

	if (cib == NULL)
		return FALSE;
	if (!check_id(name, "cluster property", error))
		return FALSE;
	if (value)
		rc = update_attr_delegate(cib, SYNC, "crm_config", NULL, NULL, NULL, NULL, name,
					  value, FALSE, NULL, NULL);
	else
		rc = delete_attr_delegate(cib, SYNC, "crm_config", NULL, NULL, NULL, NULL, name,
					  NULL, FALSE, NULL);
	if (rc == pcmk_ok || (value == NULL && rc == -ENXIO))
		return TRUE;
	what = value ? g_strdup_printf("cluster: cannot set cluster property %s=%s", name, value)
		     : g_strdup_printf("cluster: cannot delete cluster property %s", name);
	ics_cluster_set_pcmk_error(error, rc, what);
	return FALSE;
}
