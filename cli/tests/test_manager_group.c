/*
 * test_manager_group.c: what `ics-admin manager setup` writes, checked
 * with XPath -- the shared group (manager + VIP after and with the pool
 * clone, preferred nodes), the drbd layout (promotable clone, Filesystem,
 * manager, VIP, constraints to the promoted instance and the two nodes),
 * the DRBD resource file -- plus input checks, reading the spec back from
 * a CIB, and the command line's refusals (exit 2) and drbd --dry-run,
 * which needs no cluster.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <fcntl.h>
#include <glib/gstdio.h>

#include "api_cmd.h"
#include "ics/error.h"
#include "ics/xml.h"
#include "manager_group.h"

static void expect(xmlDoc *doc, const char *xpath, const char *value)
{
	g_autoptr(GError) e = NULL;
	g_autofree char *v = ics_xml_xpath_string(doc, xpath, &e);

	if (v == NULL)
		fail_msg("%s: %s", xpath, e->message);
	if (strcmp(v, value) != 0)
		fail_msg("%s = \"%s\", expected \"%s\"", xpath, v, value);
}

static int count(xmlDoc *doc, const char *xpath)
{
	return ics_xml_xpath_count(doc, xpath, NULL);
}

static void shared_spec(IcsManagerSpec *s)
{
	g_autoptr(GError) e = NULL;

	memset(s, 0, sizeof(*s));
	s->backend = ICS_MGR_SHARED;
	s->port = 8443;
	s->pool_name = g_strdup("shared");
	s->pool_path = g_strdup("/srv/ics/pools/shared");
	s->state_dir = g_strdup("/srv/ics/pools/shared/manager");
	s->binary = g_strdup("/usr/sbin/ics-managerd");
	assert_true(ics_manager_parse_vip("10.211.0.100/24", s, &e));
	assert_true(ics_manager_parse_nodes("node1,node2", 0, s, &e));
	assert_true(ics_manager_spec_check(s, &e));
}

static void drbd_spec(IcsManagerSpec *s)
{
	g_autoptr(GError) e = NULL;

	memset(s, 0, sizeof(*s));
	s->backend = ICS_MGR_DRBD;
	s->port = 9443;
	s->state_dir = g_strdup(ICS_MGR_DEFAULT_MOUNT);
	s->drbd_resource = g_strdup("ics-manager");
	s->drbd_minor = 3;
	s->drbd_disk = g_strdup("/dev/vg0/ics-manager");
	s->drbd_port = 7789;
	s->quorum_disk = g_strdup("/dev/disk/by-id/wwn-0x5000c500a1b2c3d4");
	s->fstype = g_strdup("xfs");
	s->drbd_addrs = g_strsplit("192.0.2.1,192.0.2.2", ",", -1);
	assert_true(ics_manager_parse_vip("192.0.2.10/24", s, &e));
	assert_true(ics_manager_parse_nodes("mgr1,mgr2", 2, s, &e));
	assert_true(ics_manager_spec_check(s, &e));
}

static void test_vip(void **state)
{
	static const char *const bad[] = { "10.0.0.1",	  "10.0.0.1/33",   "10.0.0.1/0",
					   "10.0.0/24",	  "fe80::1/64",	   "127.0.0.5/8",
					   "10.0.0.0/24", "10.0.0.255/24", "224.0.0.5/24",
					   "0.0.0.0/24",  "10.0.0.1/x",	   "" };
	g_auto(IcsManagerSpec) s = { 0 };
	g_autoptr(GError) e = NULL;

	(void)state;
	assert_true(ics_manager_parse_vip("192.0.2.10/24", &s, &e));
	assert_string_equal(s.vip, "192.0.2.10");
	assert_int_equal(s.prefix, 24);
	assert_true(ics_manager_parse_vip("192.0.2.10/32", &s, &e));
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_clear_error(&e);
		if (ics_manager_parse_vip(bad[i], &s, &e))
			fail_msg("--vip %s accepted", bad[i]);
		assert_true(g_error_matches(e, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
		assert_non_null(strstr(e->message, "--vip"));
	}
}

static void test_nodes(void **state)
{
	g_auto(IcsManagerSpec) s = { 0 };
	g_autoptr(GError) e = NULL;

	(void)state;
	assert_true(ics_manager_parse_nodes("node1", 0, &s, &e));
	assert_int_equal(g_strv_length(s.nodes), 1);
	assert_false(ics_manager_parse_nodes("node1,node1", 0, &s, &e));
	assert_non_null(strstr(e->message, "twice"));
	g_clear_error(&e);
	assert_false(ics_manager_parse_nodes("node1,", 0, &s, &e));
	g_clear_error(&e);
	assert_false(ics_manager_parse_nodes("a b", 0, &s, &e));
	g_clear_error(&e);
	assert_false(ics_manager_parse_nodes("mgr1", 2, &s, &e));
	assert_non_null(strstr(e->message, "exactly 2"));
}

static void test_shared(void **state)
{
	g_auto(IcsManagerSpec) s = { 0 };
	g_autoptr(GPtrArray) r = NULL, c = NULL;
	xmlDoc *g;

	(void)state;
	shared_spec(&s);
	r = ics_manager_resources(&s);
	c = ics_manager_constraints(&s);
	assert_int_equal(r->len, 1);
	g = r->pdata[0];
	expect(g, "/group/@id", "ics-manager");
	/* the manager first, then the VIP: the address comes up last, goes first */
	expect(g, "/group/primitive[1]/@id", "ics-manager-daemon");
	expect(g, "/group/primitive[1]/@provider", "ics");
	expect(g, "/group/primitive[1]/@type", "manager");
	expect(g, "/group/primitive[2]/@id", "ics-manager-vip");
	expect(g, "/group/primitive[2]/@provider", "heartbeat");
	expect(g, "/group/primitive[2]/@type", "IPaddr2");
	expect(g, "//primitive[@type='manager']//nvpair[@name='backend']/@value", "shared");
	expect(g, "//primitive[@type='manager']//nvpair[@name='pool']/@value",
	       "/srv/ics/pools/shared");
	expect(g, "//primitive[@type='manager']//nvpair[@name='lease']/@value", "ics-manager");
	expect(g, "//primitive[@type='manager']//nvpair[@name='state_dir']/@value",
	       "/srv/ics/pools/shared/manager");
	expect(g, "//primitive[@type='manager']//nvpair[@name='listen']/@value", "0.0.0.0:8443");
	expect(g, "//primitive[@type='manager']//nvpair[@name='binary']/@value",
	       "/usr/sbin/ics-managerd");
	assert_int_equal(count(g, "//primitive[@type='manager']//nvpair[@name='quorum_disk']"), 0);
	expect(g, "//primitive[@type='manager']//op[@name='monitor']/@interval", "10s");
	expect(g,
	       "//primitive[@type='manager']/meta_attributes/nvpair[@name='failure-timeout']"
	       "/@value",
	       "60s");
	expect(g, "//primitive[@type='manager']//op[@name='start']/@timeout", "90s");
	expect(g, "//primitive[@type='IPaddr2']//nvpair[@name='ip']/@value", "10.211.0.100");
	expect(g, "//primitive[@type='IPaddr2']//nvpair[@name='cidr_netmask']/@value", "24");
	assert_int_equal(count(g, "//primitive[@type='IPaddr2']//nvpair[@name='nic']"), 0);
	/* every id unique */
	assert_int_equal(count(g, "//*[@id]"),
			 count(g, "//*[@id and not(@id = "
				  "preceding::*/@id or @id = ancestor::*/@id)]"));

	assert_int_equal(c->len, 3);
	expect(c->pdata[0], "/rsc_order/@first", "ics-pool-shared");
	expect(c->pdata[0], "/rsc_order/@then", "ics-manager-daemon");
	expect(c->pdata[0], "/rsc_order/@kind", "Mandatory");
	assert_int_equal(count(c->pdata[0], "/rsc_order/@first-action"), 0);
	expect(c->pdata[1], "/rsc_colocation/@rsc", "ics-manager");
	expect(c->pdata[1], "/rsc_colocation/@with-rsc", "ics-pool-shared");
	expect(c->pdata[1], "/rsc_colocation/@score", "INFINITY");
	expect(c->pdata[2], "/rsc_location/@rsc", "ics-manager");
	expect(c->pdata[2], "/rsc_location/rule/@score", "100");
	expect(c->pdata[2], "/rsc_location/rule/@boolean-op", "or");
	assert_int_equal(count(c->pdata[2], "//expression[@attribute='#uname' and "
					    "@operation='eq']"),
			 2);
	expect(c->pdata[2], "//expression[2]/@value", "node2");
}

static void test_shared_without_nodes(void **state)
{
	g_auto(IcsManagerSpec) s = { 0 };
	g_autoptr(GPtrArray) c = NULL;

	(void)state;
	shared_spec(&s);
	g_clear_pointer(&s.nodes, g_strfreev);
	c = ics_manager_constraints(&s);
	assert_int_equal(c->len, 2);
}

static void test_drbd(void **state)
{
	g_auto(IcsManagerSpec) s = { 0 };
	g_autoptr(GPtrArray) r = NULL, c = NULL;
	g_autofree char *res = NULL;
	xmlDoc *clone, *g;

	(void)state;
	drbd_spec(&s);
	r = ics_manager_resources(&s);
	c = ics_manager_constraints(&s);
	assert_int_equal(r->len, 2);
	clone = r->pdata[0];
	g = r->pdata[1];
	expect(clone, "/clone/@id", "ics-manager-drbd-clone");
	expect(clone, "/clone/meta_attributes/nvpair[@name='promotable']/@value", "true");
	expect(clone, "/clone/meta_attributes/nvpair[@name='promoted-max']/@value", "1");
	expect(clone, "/clone/meta_attributes/nvpair[@name='clone-max']/@value", "2");
	expect(clone, "/clone/meta_attributes/nvpair[@name='notify']/@value", "true");
	expect(clone, "/clone/primitive/@provider", "linbit");
	expect(clone, "/clone/primitive/@type", "drbd");
	expect(clone, "//nvpair[@name='drbd_resource']/@value", "ics-manager");
	expect(clone, "//op[@role='Promoted']/@interval", "29s");
	expect(clone, "//op[@role='Unpromoted']/@interval", "31s");

	expect(g, "/group/primitive[1]/@type", "Filesystem");
	expect(g, "/group/primitive[2]/@type", "manager");
	expect(g, "/group/primitive[3]/@type", "IPaddr2");
	expect(g, "//primitive[@type='Filesystem']//nvpair[@name='device']/@value", "/dev/drbd3");
	expect(g, "//primitive[@type='Filesystem']//nvpair[@name='directory']/@value",
	       "/var/lib/ics/manager");
	expect(g, "//primitive[@type='Filesystem']//nvpair[@name='fstype']/@value", "xfs");
	expect(g, "//primitive[@type='manager']//nvpair[@name='backend']/@value", "drbd");
	expect(g, "//primitive[@type='manager']//nvpair[@name='drbd_minor']/@value", "3");
	expect(g, "//primitive[@type='manager']//nvpair[@name='drbd_meta']/@value",
	       "/dev/vg0/ics-manager");
	expect(g, "//primitive[@type='manager']//nvpair[@name='quorum_disk']/@value",
	       "/dev/disk/by-id/wwn-0x5000c500a1b2c3d4");
	expect(g, "//primitive[@type='manager']//nvpair[@name='peer']/@value", "mgr1,mgr2");
	expect(g, "//primitive[@type='manager']//nvpair[@name='listen']/@value", "0.0.0.0:9443");
	expect(g, "//primitive[@type='manager']//nvpair[@name='record_period']/@value", "10");
	expect(g, "//primitive[@type='manager']//op[@role='Stopped']/@interval", "11s");
	assert_int_equal(count(g, "//primitive[@type='manager']//nvpair[@name='pool']"), 0);

	assert_int_equal(c->len, 4);
	expect(c->pdata[0], "/rsc_order/@first", "ics-manager-drbd-clone");
	expect(c->pdata[0], "/rsc_order/@first-action", "promote");
	expect(c->pdata[0], "/rsc_order/@then", "ics-manager");
	expect(c->pdata[0], "/rsc_order/@then-action", "start");
	expect(c->pdata[1], "/rsc_colocation/@with-rsc-role", "Promoted");
	expect(c->pdata[2], "/rsc_location/@rsc", "ics-manager");
	expect(c->pdata[2], "/rsc_location/rule/@score", "-INFINITY");
	expect(c->pdata[2], "/rsc_location/rule/@boolean-op", "and");
	expect(c->pdata[2], "//expression[1]/@operation", "ne");
	expect(c->pdata[2], "//expression[1]/@value", "mgr1");
	expect(c->pdata[3], "/rsc_location/@rsc", "ics-manager-drbd-clone");

	res = ics_manager_drbd_res(&s);
	assert_non_null(strstr(res, "resource \"ics-manager\" {"));
	assert_non_null(strstr(res, "protocol C;"));
	assert_non_null(strstr(res, "fencing resource-and-stonith;"));
	assert_non_null(strstr(res, "fence-peer \"/usr/lib/drbd/crm-fence-peer.9.sh\";"));
	assert_non_null(strstr(res, "unfence-peer \"/usr/lib/drbd/crm-unfence-peer.9.sh\";"));
	assert_non_null(strstr(res, "device /dev/drbd3;"));
	assert_non_null(strstr(res, "disk /dev/vg0/ics-manager;"));
	assert_non_null(strstr(res, "meta-disk internal;"));
	assert_non_null(
		strstr(res, "on mgr1 {\n        node-id 0;\n        address 192.0.2.1:7789;"));
	assert_non_null(
		strstr(res, "on mgr2 {\n        node-id 1;\n        address 192.0.2.2:7789;"));
}

static void test_drbd_refusals(void **state)
{
	g_auto(IcsManagerSpec) s = { 0 };
	g_autoptr(GError) e = NULL;

	(void)state;
	drbd_spec(&s);
	g_free(s.quorum_disk);
	s.quorum_disk = g_strdup("relative/qd");
	assert_false(ics_manager_spec_check(&s, &e));
	assert_non_null(strstr(e->message, "--quorum-disk"));
	g_clear_error(&e);
	g_free(s.quorum_disk);
	s.quorum_disk = g_strdup("/qd");
	g_free(s.drbd_addrs[1]);
	s.drbd_addrs[1] = g_strdup("not-an-address");
	assert_false(ics_manager_spec_check(&s, &e));
	assert_non_null(strstr(e->message, "not-an-address"));
	g_clear_error(&e);
	g_strfreev(s.drbd_addrs);
	s.drbd_addrs = NULL;
	assert_false(ics_manager_spec_check(&s, &e));
	assert_non_null(strstr(e->message, "--drbd-addresses"));
}

/* A CIB made of what setup writes, plus a pool clone: read back. */
static xmlDoc *cib_of(const IcsManagerSpec *s)
{
	g_autoptr(GPtrArray) r = ics_manager_resources(s), c = ics_manager_constraints(s);
	xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNode *cib = xmlNewNode(NULL, BAD_CAST "cib");
	xmlNode *conf, *res, *cons, *clone, *prim, *ia, *nv;

	xmlDocSetRootElement(doc, cib);
	conf = xmlNewChild(cib, NULL, BAD_CAST "configuration", NULL);
	res = xmlNewChild(conf, NULL, BAD_CAST "resources", NULL);
	cons = xmlNewChild(conf, NULL, BAD_CAST "constraints", NULL);
	clone = xmlNewChild(res, NULL, BAD_CAST "clone", NULL);
	xmlNewProp(clone, BAD_CAST "id", BAD_CAST "ics-pool-gold");
	prim = xmlNewChild(clone, NULL, BAD_CAST "primitive", NULL);
	xmlNewProp(prim, BAD_CAST "id", BAD_CAST "ics-pool-gold-rsc");
	xmlNewProp(prim, BAD_CAST "class", BAD_CAST "ocf");
	xmlNewProp(prim, BAD_CAST "provider", BAD_CAST "ics");
	xmlNewProp(prim, BAD_CAST "type", BAD_CAST "pool");
	ia = xmlNewChild(prim, NULL, BAD_CAST "instance_attributes", NULL);
	nv = xmlNewChild(ia, NULL, BAD_CAST "nvpair", NULL);
	xmlNewProp(nv, BAD_CAST "name", BAD_CAST "path");
	xmlNewProp(nv, BAD_CAST "value", BAD_CAST "/srv/ics/pools/gold");
	for (guint i = 0; i < r->len; i++)
		xmlAddChild(res, xmlDocCopyNode(xmlDocGetRootElement(r->pdata[i]), doc, 1));
	for (guint i = 0; i < c->len; i++)
		xmlAddChild(cons, xmlDocCopyNode(xmlDocGetRootElement(c->pdata[i]), doc, 1));
	return doc;
}

/* The certificate's names: VIP, the manager nodes and their corosync
 * addresses (all nodes when none are named), each once. */
static void test_tls_names(void **state)
{
	static const char cmap[] =
		"nodelist.local_node_pos (u32) = 0\n"
		"nodelist.node.0.name (str) = node1\n"
		"nodelist.node.0.nodeid (u32) = 1\n"
		"nodelist.node.0.ring0_addr (str) = 10.211.0.11\n"
		"nodelist.node.1.name (str) = node2\n"
		"nodelist.node.1.ring0_addr (str) = 10.211.0.12\n"
		"nodelist.node.1.ring1_addr (str) = 192.168.7.12\n"
		"nodelist.node.2.name (str) = node3\n"
		"nodelist.node.2.ring0_addr (str) = 10.211.0.13\n";
	g_auto(IcsManagerSpec) s = { 0 };
	g_autoptr(GError) e = NULL;
	g_autofree char *two = NULL, *all = NULL, *bare = NULL;

	(void)state;
	assert_true(ics_manager_parse_vip("10.211.0.100/24", &s, &e));
	assert_true(ics_manager_parse_nodes("node1,node2", 0, &s, &e));
	two = ics_manager_tls_names(&s, cmap);
	assert_string_equal(two, "10.211.0.100,node1,node2,10.211.0.11,10.211.0.12,192.168.7.12");
	bare = ics_manager_tls_names(&s, NULL);
	assert_string_equal(bare, "10.211.0.100,node1,node2");
	g_clear_pointer(&s.nodes, g_strfreev);
	all = ics_manager_tls_names(&s, cmap);
	assert_string_equal(all, "10.211.0.100,node1,10.211.0.11,node2,10.211.0.12,192.168.7.12,"
				 "node3,10.211.0.13");
}

static void test_read_back(void **state)
{
	g_auto(IcsManagerSpec) s = { 0 }, back = { 0 }, d = { 0 }, dback = { 0 };
	g_autoptr(xmlDoc) cib = NULL, dcib = NULL, empty = NULL;
	g_autoptr(GError) e = NULL;
	g_autofree char *path = NULL;

	(void)state;
	shared_spec(&s);
	cib = cib_of(&s);
	assert_true(ics_manager_spec_from_cib(cib, &back, &e));
	assert_int_equal(back.backend, ICS_MGR_SHARED);
	assert_string_equal(back.vip, "10.211.0.100");
	assert_int_equal(back.prefix, 24);
	assert_int_equal(back.port, 8443);
	assert_string_equal(back.pool_name, "shared");
	assert_string_equal(back.pool_path, "/srv/ics/pools/shared");
	assert_string_equal(back.state_dir, "/srv/ics/pools/shared/manager");
	assert_int_equal(g_strv_length(back.nodes), 2);
	assert_string_equal(back.nodes[1], "node2");

	path = ics_manager_pool_path(cib, "gold", &e);
	assert_string_equal(path, "/srv/ics/pools/gold");
	assert_null(ics_manager_pool_path(cib, "silver", &e));
	assert_true(g_error_matches(e, ICS_ERROR, ICS_ERROR_NOT_FOUND));
	assert_non_null(strstr(e->message, "\"silver\""));
	assert_non_null(strstr(e->message, "pools: gold"));
	g_clear_error(&e);

	drbd_spec(&d);
	dcib = cib_of(&d);
	assert_true(ics_manager_spec_from_cib(dcib, &dback, &e));
	assert_int_equal(dback.backend, ICS_MGR_DRBD);
	assert_int_equal(dback.port, 9443);
	assert_string_equal(dback.quorum_disk, d.quorum_disk);
	assert_string_equal(dback.nodes[0], "mgr1");

	empty = ics_xml_parse_string("<cib><configuration><resources/></configuration></cib>", -1,
				     "test", &e);
	assert_false(ics_manager_spec_from_cib(empty, &dback, &e));
	assert_true(g_error_matches(e, ICS_ERROR, ICS_ERROR_NOT_FOUND));
	assert_non_null(strstr(e->message, "ics-admin manager setup"));
}

static int admin(const char *first, ...)
{
	g_autoptr(GPtrArray) a = g_ptr_array_new();
	va_list ap;
	int rc;

	g_ptr_array_add(a, (char *)"ics-admin");
	g_ptr_array_add(a, (char *)"manager");
	g_ptr_array_add(a, (char *)"setup");
	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *))
		g_ptr_array_add(a, (char *)s);
	va_end(ap);
	g_ptr_array_add(a, NULL);
	fflush(stdout);
	rc = ics_admin_main((int)a->len - 1, (char **)a->pdata);
	fflush(stdout);
	return rc;
}

/* The command line: refusals before anything is written; drbd --dry-run
 * (no cluster needed) prints the file and the objects. */
static void test_command_line(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("mgrgroup-XXXXXX", NULL);
	g_autofree char *out = g_build_filename(dir, "out", NULL);
	g_autofree char *text = NULL;
	int saved = dup(1), fd;

	(void)state;
	assert_int_equal(admin(NULL), 2);
	assert_int_equal(admin("--backend", "nfs", "--vip", "10.0.0.5/24", NULL), 2);
	assert_int_equal(admin("--backend", "shared", "--vip", "10.0.0.5", "--pool", "x", NULL), 2);
	assert_int_equal(admin("--backend", "shared", "--vip", "10.0.0.5/24", NULL), 2);
	assert_int_equal(admin("--backend", "drbd", "--vip", "10.0.0.5/24", "--nodes", "a",
			       "--dry-run", NULL),
			 2);
	assert_int_equal(admin("--backend", "drbd", "--vip", "10.0.0.5/24", "--nodes", "a,b",
			       "--drbd-addresses", "10.0.0.1,10.0.0.2", "--device", "/dev/sdb",
			       "--quorum-disk", "/dev/sdc", "--pool", "shared", "--dry-run", NULL),
			 2);
	assert_int_equal(admin("--backend", "shared", "--vip", "10.0.0.5/24", "--pool", "x",
			       "--port", "70000", NULL),
			 2);

	fd = g_open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stdout);
	dup2(fd, 1);
	close(fd);
	assert_int_equal(admin("--backend", "drbd", "--vip", "10.0.0.5/24", "--nodes", "a,b",
			       "--drbd-addresses", "10.0.0.1,10.0.0.2", "--device", "/dev/sdb",
			       "--quorum-disk", "/dev/sdc", "--dry-run", NULL),
			 0);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	assert_true(g_file_get_contents(out, &text, NULL, NULL));
	assert_non_null(strstr(text, "# /etc/drbd.d/ics-manager.res"));
	assert_non_null(strstr(text, "disk /dev/sdb;"));
	assert_non_null(strstr(text, "<clone id=\"ics-manager-drbd-clone\">"));
	assert_non_null(strstr(text, "<group id=\"ics-manager\">"));
	assert_non_null(strstr(text, "<rsc_colocation id=\"ics-manager-colocation\""));
	g_unlink(out);
	g_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vip),	  cmocka_unit_test(test_nodes),
		cmocka_unit_test(test_tls_names),
		cmocka_unit_test(test_shared),	  cmocka_unit_test(test_shared_without_nodes),
		cmocka_unit_test(test_drbd),	  cmocka_unit_test(test_drbd_refusals),
		cmocka_unit_test(test_read_back), cmocka_unit_test(test_command_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
