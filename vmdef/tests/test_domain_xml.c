/*
 * test_domain_xml.c: the domain XML generated from metadata -- every
 * mapping checked by XPath, the crash-policy mapping, escaping, validity
 * against libvirt's own RelaxNG schema, and acceptance by libvirt itself
 * (the test driver runs in this process: define + create).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/relaxng.h>

#include "ics/error.h"
#include "ics/vmdef.h"
#include "ics/xml.h"
#include "vmdef_test_util.h"

#define DOMAIN_RNG "/usr/share/libvirt/schemas/domain.rng"

static IcsVmMeta *meta(const char *text, const char *pool)
{
	g_autoptr(GError) err = NULL;
	IcsVmMeta *m = ics_vm_meta_parse(text, pool, &err);

	if (m == NULL)
		fail_msg("unexpected rejection: %s", err->message);
	return m;
}

static char *gen(const IcsVmMeta *m)
{
	g_autoptr(GError) err = NULL;
	char *xml = ics_domain_xml(m, &err);

	if (xml == NULL)
		fail_msg("ics_domain_xml: %s", err->message);
	return xml;
}

static xmlDoc *gen_doc(const char *json, const char *pool)
{
	g_autoptr(IcsVmMeta) m = meta(json, pool);
	g_autofree char *xml = gen(m);
	xmlDoc *doc = ics_xml_parse_string(xml, -1, "domain.xml", NULL);

	assert_non_null(doc);
	return doc;
}

static void assert_xpath(xmlDoc *doc, const char *xpath, const char *want)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *got = ics_xml_xpath_string(doc, xpath, &err);

	if (got == NULL)
		fail_msg("%s: %s", xpath, err->message);
	if (strcmp(got, want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", xpath, got, want);
}

static void assert_count(xmlDoc *doc, const char *xpath, int want)
{
	int got = ics_xml_xpath_count(doc, xpath, NULL);

	if (got != want)
		fail_msg("count(%s): got %d, want %d", xpath, got, want);
}

static void test_minimal_mapping(void **state)
{
	g_autoptr(xmlDoc) doc = gen_doc(minimal_json, NULL);

	assert_xpath(doc, "/domain/@type", "kvm");
	assert_xpath(doc, "/domain/name", "web1");
	assert_xpath(doc, "/domain/uuid", TEST_UUID);
	assert_xpath(doc, "/domain/memory[@unit='KiB']", "131072");
	assert_xpath(doc, "/domain/currentMemory[@unit='KiB']", "131072");
	assert_xpath(doc, "/domain/vcpu", "1");
	assert_xpath(doc, "/domain/os/type", "hvm");
	assert_xpath(doc, "/domain/os/type/@arch", "x86_64");
	assert_count(doc, "/domain/os/type/@machine", 0);
	assert_xpath(doc, "/domain/os/boot/@dev", "hd");
	assert_count(doc, "/domain/os/boot", 1);
	assert_count(doc, "/domain/os/loader", 0);
	assert_count(doc, "/domain/features/acpi", 1);
	assert_count(doc, "/domain/features/apic", 1);
	assert_xpath(doc, "/domain/cpu/@mode", "host-model");
	assert_xpath(doc, "/domain/clock/@offset", "utc");
	assert_xpath(doc, "/domain/on_poweroff", "destroy");
	assert_xpath(doc, "/domain/on_reboot", "restart");
	assert_xpath(doc, "/domain/on_crash", "destroy");
	assert_count(doc, "/domain/on_lockfailure", 0);
	assert_count(doc, "/domain/devices/emulator", 0);
	assert_count(doc, "/domain/devices/disk", 0);
	assert_count(doc, "/domain/devices/interface", 0);
	assert_xpath(doc, "/domain/devices/serial[@type='pty']/target/@port", "0");
	assert_xpath(doc, "/domain/devices/console[@type='pty']/target/@type", "serial");
	assert_xpath(doc, "/domain/devices/memballoon/@model", "virtio");
	assert_xpath(doc, "/domain/devices/panic/@model", "isa");
	assert_count(doc, "/domain/devices/watchdog", 0);
	assert_count(doc, "/domain/devices/lease", 0);
}

static void test_maximal_mapping(void **state)
{
	g_autofree char *json = maximal_json(TEST_POOL);
	g_autoptr(xmlDoc) doc = gen_doc(json, TEST_POOL);
	g_autofree char *mac0 = ics_vm_default_mac(TEST_UUID, 0);
	const char *d0 = "/domain/devices/disk[1]";
	const char *d1 = "/domain/devices/disk[2]";
	const char *d2 = "/domain/devices/disk[3]";
	const char *cd = "/domain/devices/disk[@device='cdrom']";
	const char *n0 = "/domain/devices/interface[1]";
	const char *n1 = "/domain/devices/interface[2]";
	const char *n2 = "/domain/devices/interface[3]";
	char xp[256];

#define X(base, rest, want)                                                                        \
	do {                                                                                       \
		snprintf(xp, sizeof(xp), "%s%s", base, rest);                                      \
		assert_xpath(doc, xp, want);                                                       \
	} while (0)
	assert_xpath(doc, "/domain/@type", "qemu");
	assert_count(doc, "/domain/cpu", 0); /* TCG: QEMU's default model */
	assert_xpath(doc, "/domain/memory", "2097152");
	assert_xpath(doc, "/domain/vcpu", "4");
	assert_xpath(doc, "/domain/os/type/@machine", "pc");
	assert_xpath(doc, "/domain/os/loader", ICS_VM_OVMF_CODE);
	assert_xpath(doc, "/domain/os/loader/@readonly", "yes");
	assert_xpath(doc, "/domain/os/loader/@type", "pflash");
	assert_xpath(doc, "/domain/os/nvram", TEST_POOL "/.ics/vms/" TEST_UUID "/nvram.fd");
	assert_xpath(doc, "/domain/os/nvram/@template", ICS_VM_OVMF_VARS);
	assert_xpath(doc, "/domain/os/boot[1]/@dev", "cdrom");
	assert_xpath(doc, "/domain/os/boot[2]/@dev", "hd");
	assert_xpath(doc, "/domain/os/boot[3]/@dev", "network");
	assert_count(doc, "/domain/devices/disk[@device='disk']", 4);
	X(d0, "/@type", "file");
	X(d0, "/driver/@name", "qemu");
	X(d0, "/driver/@type", "qcow2");
	X(d0, "/driver/@cache", "none");
	X(d0, "/driver/@io", "native");
	X(d0, "/source/@file", TEST_POOL "/images/web1.qcow2");
	X(d0, "/target/@dev", "vda");
	X(d0, "/target/@bus", "virtio");
	X(d0, "/serial", "WEB1-ROOT");
	X(d1, "/driver/@cache", "writeback");
	X(d1, "/target/@dev", "sda");
	X(d1, "/target/@bus", "scsi");
	assert_count(doc, "/domain/devices/disk[2]/driver/@io", 0);
	assert_count(doc, "/domain/devices/disk[2]/readonly", 1);
	assert_count(doc, "/domain/devices/disk[1]/readonly", 0);
	assert_xpath(doc, "/domain/devices/controller[@type='scsi']/@model", "virtio-scsi");
	X(d2, "/@type", "block");
	X(d2, "/source/@dev", "/dev/mapper/san-lun7");
	X(d2, "/driver/@cache", "directsync");
	X(cd, "/target/@dev", "sdb"); /* sda and sdc are taken */
	X(cd, "/target/@bus", "sata");
	X(cd, "/source/@file", TEST_POOL "/iso/debian.iso");
	assert_count(doc, "/domain/devices/disk[@device='cdrom']/readonly", 1);
	assert_count(doc, "/domain/devices/interface", 3);
	X(n0, "/@type", "bridge");
	X(n0, "/mac/@address", mac0);
	X(n0, "/source/@bridge", "ics-br0");
	X(n0, "/virtualport/@type", "openvswitch");
	X(n0, "/vlan/tag/@id", "42");
	X(n0, "/model/@type", "virtio");
	X(n1, "/@type", "bridge");
	X(n1, "/mac/@address", "52:54:00:aa:bb:cc");
	X(n1, "/source/@bridge", "br0");
	X(n1, "/model/@type", "e1000");
	assert_count(doc, "/domain/devices/interface[2]/virtualport", 0);
	X(n2, "/@type", "network");
	X(n2, "/source/@network", "default");
	X(n2, "/model/@type", "rtl8139");
	assert_xpath(doc, "/domain/devices/watchdog/@model", "i6300esb");
	assert_xpath(doc, "/domain/devices/watchdog/@action", "poweroff");
	assert_xpath(doc, "/domain/devices/lease/lockspace", "ics-shared");
	assert_xpath(doc, "/domain/devices/lease/key", TEST_UUID);
	assert_xpath(doc, "/domain/devices/lease/target/@path", TEST_POOL "/.ics/leases");
	assert_xpath(doc, "/domain/devices/lease/target/@offset", "3145728");
	/* sanlock kills QEMU itself on lease loss, not through libvirtd */
	assert_count(doc, "/domain/on_lockfailure", 0);
#undef X
}

static const char kernel_json[] =
	"{\"uuid\": \"" TEST_UUID "\", \"name\": \"tiny\", \"vcpus\": 1, \"memory_mib\": 256,"
	" \"virt_type\": \"qemu\", \"serial_console\": false,"
	" \"kernel\": {\"path\": \"/srv/k/vmlinux\", \"initrd\": \"/srv/k/initrd.img\","
	" \"cmdline\": \"console=ttyS0 x=<a&b> y='q' z=\\\"d\\\"\"},"
	" \"disks\": [{\"path\": \"/srv/k/data.raw\"}]}";

static void test_kernel_mapping_and_escaping(void **state)
{
	g_autoptr(xmlDoc) doc = gen_doc(kernel_json, NULL);

	assert_xpath(doc, "/domain/os/kernel", "/srv/k/vmlinux");
	assert_xpath(doc, "/domain/os/initrd", "/srv/k/initrd.img");
	assert_xpath(doc, "/domain/os/cmdline", "console=ttyS0 x=<a&b> y='q' z=\"d\"");
	assert_count(doc, "/domain/os/boot", 0);
	assert_count(doc, "/domain/devices/serial", 0);
	assert_count(doc, "/domain/devices/console", 0);
}

static void test_crash_policy_mapping(void **state)
{
	static const struct {
		const char *policy, *on_crash, *watchdog;
	} map[] = {
		{ "none", "preserve", "pause" },
		{ "restart", "destroy", "poweroff" },
		{ "poweroff", "destroy", "poweroff" },
		{ "ha", "destroy", "poweroff" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(map); i++) {
		g_autofree char *patch = g_strdup_printf(
			"{\"crash_policy\": \"%s\", \"watchdog\": {}}", map[i].policy);
		g_autofree char *json = patched_json(minimal_json, patch);
		g_autoptr(xmlDoc) doc = gen_doc(json, NULL);

		assert_xpath(doc, "/domain/on_crash", map[i].on_crash);
		assert_xpath(doc, "/domain/devices/watchdog/@action", map[i].watchdog);
		assert_xpath(doc, "/domain/devices/watchdog/@model", "i6300esb");
		assert_xpath(doc, "/domain/devices/panic/@model", "isa");
	}
}

static void test_explicit_watchdog_action(void **state)
{
	g_autofree char *json = patched_json(
		minimal_json, "{\"watchdog\": {\"model\": \"ib700\", \"action\": \"reset\"}}");
	g_autoptr(xmlDoc) doc = gen_doc(json, NULL);

	assert_xpath(doc, "/domain/devices/watchdog/@model", "ib700");
	assert_xpath(doc, "/domain/devices/watchdog/@action", "reset");
}

static void test_uefi_without_pool_has_no_nvram(void **state)
{
	g_autofree char *json = patched_json(minimal_json, "{\"firmware\": \"uefi\"}");
	g_autoptr(xmlDoc) doc = gen_doc(json, NULL);

	assert_xpath(doc, "/domain/os/loader", ICS_VM_OVMF_CODE);
	assert_count(doc, "/domain/os/nvram", 0);
}

static void test_unparsed_meta_rejected(void **state)
{
	IcsVmMeta m = { 0 };
	g_autoptr(GError) err = NULL;
	g_autofree char *xml = ics_domain_xml(&m, &err);

	assert_null(xml);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
}

/* ---- the VNC device (per start) ---------------------------------------- */

static char *gen_start(const IcsVmMeta *m, const char *password)
{
	g_autoptr(GError) err = NULL;
	char *xml = ics_domain_xml_start(m, password, &err);

	if (xml == NULL)
		fail_msg("ics_domain_xml_start: %s", err->message);
	return xml;
}

static void test_vnc_only_at_start(void **state)
{
	g_autoptr(IcsVmMeta) m = meta(minimal_json, NULL);
	g_autofree char *stored = gen(m);
	g_autofree char *started = gen_start(m, "Ab3+/xyZ");
	g_autoptr(xmlDoc) sdoc = ics_xml_parse_string(stored, -1, "stored", NULL);
	g_autoptr(xmlDoc) doc = ics_xml_parse_string(started, -1, "started", NULL);

	/* A definition without "graphics" gets VNC, the default. */
	assert_string_equal(m->graphics, "vnc");
	/* The stored reference copy has no device: its password is per start. */
	assert_count(sdoc, "/domain/devices/graphics", 0);
	assert_count(doc, "/domain/devices/graphics", 1);
	assert_xpath(doc, "/domain/devices/graphics/@type", "vnc");
	assert_xpath(doc, "/domain/devices/graphics/@autoport", "yes");
	assert_xpath(doc, "/domain/devices/graphics/@passwd", "Ab3+/xyZ");
	/* No listen address of its own: libvirtd's vnc_listen, per node. */
	assert_count(doc, "/domain/devices/graphics/@listen", 0);
	assert_count(doc, "/domain/devices/graphics/listen", 0);
}

static void test_vnc_never_without_password(void **state)
{
	g_autoptr(IcsVmMeta) m = meta(minimal_json, NULL);
	const char *bad[] = { NULL, "", "123456789" };

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) err = NULL;
		g_autofree char *xml = ics_domain_xml_start(m, bad[i], &err);

		assert_null(xml);
		assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	}
}

static void test_graphics_none_and_bad(void **state)
{
	g_autofree char *none = patched_json(minimal_json, "{\"graphics\": \"none\"}");
	g_autofree char *spice = patched_json(minimal_json, "{\"graphics\": \"spice\"}");
	g_autoptr(IcsVmMeta) m = meta(none, NULL);
	g_autofree char *xml = gen_start(m, NULL);
	g_autoptr(xmlDoc) doc = ics_xml_parse_string(xml, -1, "started", NULL);
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsVmMeta) bad = ics_vm_meta_parse(spice, NULL, &err);
	g_autofree char *back = ics_vm_meta_serialize(m);

	assert_count(doc, "/domain/devices/graphics", 0);
	assert_non_null(strstr(back, "\"graphics\": \"none\""));
	assert_null(bad);
	assert_non_null(strstr(err->message, "graphics"));
}

static void test_vnc_password_fresh(void **state)
{
	g_autofree char *a = ics_vnc_password_new(NULL);
	g_autofree char *b = ics_vnc_password_new(NULL);

	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(strlen(a), 8);
	assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				   "0123456789+/"),
			 8);
	assert_string_not_equal(a, b); /* 2^-48 to fail by chance */
}

/* ---- libvirt's schema -------------------------------------------------- */

static void collect_error(void *data, xmlErrorPtr e)
{
	GString *s = data;

	if (s->len < 2000)
		g_string_append_printf(s, "line %d: %s", e->line, e->message);
}

static void validate_rng_doc(xmlDoc *doc);

static void validate_rng(const char *json, const char *pool)
{
	g_autoptr(xmlDoc) doc = NULL;

	if (!g_file_test(DOMAIN_RNG, G_FILE_TEST_EXISTS)) {
		print_message("# " DOMAIN_RNG " missing (install libvirt-daemon): "
			      "schema check skipped\n");
		skip();
	}
	doc = gen_doc(json, pool);
	validate_rng_doc(doc);
}

static void validate_rng_doc(xmlDoc *doc)
{
	xmlRelaxNGParserCtxtPtr pctx;
	xmlRelaxNGPtr schema;
	xmlRelaxNGValidCtxtPtr vctx;
	g_autoptr(GString) errors = g_string_new(NULL);
	int rc;

	pctx = xmlRelaxNGNewParserCtxt(DOMAIN_RNG);
	assert_non_null(pctx);
	schema = xmlRelaxNGParse(pctx);
	xmlRelaxNGFreeParserCtxt(pctx);
	assert_non_null(schema);
	vctx = xmlRelaxNGNewValidCtxt(schema);
	xmlRelaxNGSetValidStructuredErrors(vctx, collect_error, errors);
	rc = xmlRelaxNGValidateDoc(vctx, doc);
	xmlRelaxNGFreeValidCtxt(vctx);
	xmlRelaxNGFree(schema);
	if (rc != 0)
		fail_msg("domain XML does not match libvirt's schema: %s", errors->str);
}

static void test_rng_minimal(void **state)
{
	validate_rng(minimal_json, NULL);
}

static void test_rng_maximal(void **state)
{
	g_autofree char *json = maximal_json(TEST_POOL);

	validate_rng(json, TEST_POOL);
}

static void test_rng_kernel(void **state)
{
	validate_rng(kernel_json, NULL);
}

static void test_rng_vnc(void **state)
{
	g_autoptr(IcsVmMeta) m = meta(minimal_json, NULL);
	g_autofree char *xml = gen_start(m, "secret12");
	g_autoptr(xmlDoc) doc = ics_xml_parse_string(xml, -1, "started", NULL);

	if (!g_file_test(DOMAIN_RNG, G_FILE_TEST_EXISTS))
		skip();
	validate_rng_doc(doc);
}

static void test_rng_crash_none(void **state)
{
	g_autofree char *json =
		patched_json(minimal_json, "{\"crash_policy\": \"none\", \"watchdog\": {}}");

	validate_rng(json, NULL);
}

/* ---- libvirt itself (test driver, in process) -------------------------- */

static void quiet(void *data, virErrorPtr e)
{
}

static void define_and_start(const char *json, const char *pool, const char *vnc_password)
{
	g_autoptr(IcsVmMeta) m = meta(json, pool);
	g_autofree char *xml = vnc_password ? gen_start(m, vnc_password) : gen(m);
	virConnectPtr conn;
	virDomainPtr dom;
	int st = -1, reason = -1;
	int destroyed, undefined;
	char *back;

	virSetErrorFunc(NULL, quiet);
	conn = virConnectOpen("test:///default");
	assert_non_null(conn);
	dom = virDomainDefineXML(conn, xml);
	if (dom == NULL) {
		const char *msg = virGetLastErrorMessage();
		g_autofree char *copy = g_strdup(msg);

		virConnectClose(conn);
		fail_msg("libvirt refused the definition: %s\n%s", copy, xml);
	}
	if (virDomainCreate(dom) < 0) {
		g_autofree char *copy = g_strdup(virGetLastErrorMessage());

		virDomainFree(dom);
		virConnectClose(conn);
		fail_msg("libvirt could not start the domain: %s", copy);
	}
	assert_int_equal(virDomainGetState(dom, &st, &reason, 0), 0);
	assert_int_equal(st, VIR_DOMAIN_RUNNING);
	/* libvirt kept what we asked for. */
	back = virDomainGetXMLDesc(dom, 0);
	assert_non_null(back);
	assert_non_null(strstr(back, TEST_UUID));
	for (guint i = 0; i < m->nics->len; i++)
		assert_non_null(strstr(back, ((IcsVmNic *)m->nics->pdata[i])->mac));
	free(back);
	/* test:///default is one driver state per process: leave it clean. */
	destroyed = virDomainDestroy(dom);
	undefined = virDomainUndefine(dom);
	virDomainFree(dom);
	virConnectClose(conn);
	assert_int_equal(destroyed, 0);
	assert_int_equal(undefined, 0);
}

static void test_libvirt_minimal(void **state)
{
	define_and_start(minimal_json, NULL, NULL);
}

static void test_libvirt_maximal(void **state)
{
	g_autofree char *json = maximal_json(TEST_POOL);

	define_and_start(json, TEST_POOL, NULL);
}

static void test_libvirt_kernel(void **state)
{
	define_and_start(kernel_json, NULL, NULL);
}

static void test_libvirt_vnc(void **state)
{
	define_and_start(minimal_json, NULL, "secret12");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_mapping),
		cmocka_unit_test(test_maximal_mapping),
		cmocka_unit_test(test_kernel_mapping_and_escaping),
		cmocka_unit_test(test_crash_policy_mapping),
		cmocka_unit_test(test_explicit_watchdog_action),
		cmocka_unit_test(test_uefi_without_pool_has_no_nvram),
		cmocka_unit_test(test_unparsed_meta_rejected),
		cmocka_unit_test(test_vnc_only_at_start),
		cmocka_unit_test(test_vnc_never_without_password),
		cmocka_unit_test(test_graphics_none_and_bad),
		cmocka_unit_test(test_vnc_password_fresh),
		cmocka_unit_test(test_rng_vnc),
		cmocka_unit_test(test_rng_minimal),
		cmocka_unit_test(test_rng_maximal),
		cmocka_unit_test(test_rng_kernel),
		cmocka_unit_test(test_rng_crash_none),
		cmocka_unit_test(test_libvirt_minimal),
		cmocka_unit_test(test_libvirt_maximal),
		cmocka_unit_test(test_libvirt_kernel),
		cmocka_unit_test(test_libvirt_vnc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
