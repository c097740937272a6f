/*
 * test_vm_meta.c: vm.json parsing, defaults, normalisation, every rejection
 * with the field and reason in its message, round trips, MACs.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "ics/error.h"
#include "ics/vmdef.h"
#include "vmdef_test_util.h"

static IcsVmMeta *parse_ok(const char *text, const char *pool)
{
	g_autoptr(GError) err = NULL;
	IcsVmMeta *m = ics_vm_meta_parse(text, pool, &err);

	if (m == NULL)
		fail_msg("unexpected rejection: %s", err->message);
	return m;
}

static void test_minimal_defaults(void **state)
{
	g_autoptr(IcsVmMeta) m = parse_ok(minimal_json, NULL);

	assert_int_equal(m->format, 1);
	assert_string_equal(m->uuid, TEST_UUID);
	assert_string_equal(m->name, "web1");
	assert_int_equal(m->vcpus, 1);
	assert_int_equal(m->memory_mib, 128);
	assert_string_equal(m->virt_type, "kvm");
	assert_string_equal(m->arch, "x86_64");
	assert_null(m->machine);
	assert_string_equal(m->firmware, "bios");
	assert_non_null(m->boot);
	assert_string_equal(m->boot[0], "hd");
	assert_null(m->boot[1]);
	assert_null(m->kernel_path);
	assert_int_equal(m->disks->len, 0);
	assert_int_equal(m->nics->len, 0);
	assert_null(m->cdrom);
	assert_true(m->serial_console);
	assert_false(m->has_watchdog);
	assert_int_equal(m->crash_policy, ICS_VM_CRASH_HA);
	assert_int_equal(m->migration_bandwidth_mibps, 0);
	assert_false(m->has_lease);
	assert_null(m->pool_path);
}

static void test_maximal(void **state)
{
	g_autofree char *text = maximal_json(TEST_POOL);
	g_autoptr(IcsVmMeta) m = parse_ok(text, TEST_POOL);
	g_autofree char *mac0 = ics_vm_default_mac(TEST_UUID, 0);
	g_autofree char *mac2 = ics_vm_default_mac(TEST_UUID, 2);
	IcsVmDisk *d;
	IcsVmNic *n;

	assert_string_equal(m->pool_path, TEST_POOL);
	assert_int_equal(g_strv_length(m->tags), 2);
	assert_string_equal(m->tags[1], "db.eu-1");
	assert_int_equal(m->vcpus, 4);
	assert_int_equal(m->memory_mib, 2048);
	assert_string_equal(m->virt_type, "qemu");
	assert_string_equal(m->machine, "pc");
	assert_string_equal(m->firmware, "uefi");
	assert_string_equal(m->boot[0], "cdrom");
	assert_string_equal(m->boot[2], "network");
	assert_int_equal(m->disks->len, 4);
	d = m->disks->pdata[0];
	assert_string_equal(d->target, "vda"); /* auto, first free vd */
	assert_string_equal(d->format, "qcow2");
	assert_string_equal(d->serial, "WEB1-ROOT");
	d = m->disks->pdata[1];
	assert_string_equal(d->target, "sda"); /* auto, scsi -> sd */
	assert_true(d->readonly);
	assert_string_equal(d->cache, "writeback");
	d = m->disks->pdata[2];
	assert_string_equal(d->target, "sdc");
	assert_string_equal(d->format, "raw"); /* default */
	assert_true(d->shared_outside_pool);
	d = m->disks->pdata[3];
	assert_string_equal(d->target, "vdc");
	assert_string_equal(d->cache, "none"); /* default */
	assert_int_equal(m->nics->len, 3);
	n = m->nics->pdata[0];
	assert_string_equal(n->mac, mac0);
	assert_string_equal(n->source_type, "ovs");
	assert_int_equal(n->vlan, 42);
	n = m->nics->pdata[1];
	assert_string_equal(n->mac, "52:54:00:aa:bb:cc"); /* lower-cased */
	n = m->nics->pdata[2];
	assert_string_equal(n->mac, mac2);
	assert_true(m->has_watchdog);
	assert_string_equal(m->watchdog_model, "i6300esb");
	assert_null(m->watchdog_action);
	assert_string_equal(ics_vm_watchdog_action(m), "poweroff");
	assert_int_equal(m->migration_bandwidth_mibps, 100);
	assert_int_equal(m->migration_max_downtime_ms, 300);
	assert_true(m->has_lease);
	assert_string_equal(m->lease_name, TEST_UUID);
	assert_int_equal(m->lease_offset, 3 << 20);
}

static void test_kernel_boot(void **state)
{
	g_autofree char *text = patched_json(
		minimal_json,
		"{\"virt_type\": \"qemu\", \"kernel\": {\"path\": \"/srv/k/vmlinux\","
		" \"initrd\": \"/srv/k/initrd.img\", \"cmdline\": \"console=ttyS0\"}}");
	g_autoptr(IcsVmMeta) m = parse_ok(text, NULL);

	assert_null(m->boot);
	assert_string_equal(m->kernel_path, "/srv/k/vmlinux");
	assert_string_equal(m->kernel_initrd, "/srv/k/initrd.img");
	assert_string_equal(m->kernel_cmdline, "console=ttyS0");
}

static void test_uuid_normalised(void **state)
{
	g_autofree char *upper = g_ascii_strup(TEST_UUID, -1);
	g_autofree char *patch = g_strdup_printf("{\"uuid\": \"%s\"}", upper);
	g_autofree char *text = patched_json(minimal_json, patch);
	g_autoptr(IcsVmMeta) m = parse_ok(text, NULL);

	assert_string_equal(m->uuid, TEST_UUID);
}

static void round_trip(const char *text, const char *pool)
{
	g_autoptr(IcsVmMeta) a = parse_ok(text, pool);
	g_autofree char *s1 = ics_vm_meta_serialize(a);
	g_autoptr(IcsVmMeta) b = parse_ok(s1, pool);
	g_autofree char *s2 = ics_vm_meta_serialize(b);

	assert_true(ics_vm_meta_equal(a, b));
	assert_string_equal(s1, s2);
	assert_true(g_str_has_suffix(s1, "}\n"));
}

static void test_round_trip_minimal(void **state)
{
	round_trip(minimal_json, NULL);
}

static void test_round_trip_maximal(void **state)
{
	g_autofree char *text = maximal_json(TEST_POOL);

	round_trip(text, TEST_POOL);
}

static void test_equal_detects_difference(void **state)
{
	g_autoptr(IcsVmMeta) a = parse_ok(minimal_json, NULL);
	g_autoptr(IcsVmMeta) b = parse_ok(minimal_json, NULL);

	assert_true(ics_vm_meta_equal(a, b));
	b->vcpus = 2;
	assert_false(ics_vm_meta_equal(a, b));
}

static void test_default_mac_deterministic(void **state)
{
	g_autofree char *a = ics_vm_default_mac(TEST_UUID, 0);
	g_autofree char *b = ics_vm_default_mac(TEST_UUID, 0);
	g_autofree char *c = ics_vm_default_mac(TEST_UUID, 1);
	g_autofree char *d = ics_vm_default_mac("0e2b7c2a-1111-4222-8333-444455556666", 0);
	g_autofree char *upper = g_ascii_strup(TEST_UUID, -1);
	g_autofree char *e = ics_vm_default_mac(upper, 0);
	g_autofree char *text = patched_json(
		minimal_json,
		"{\"nics\": [{\"source\": {\"type\": \"bridge\", \"name\": \"br0\"}}]}");
	g_autoptr(IcsVmMeta) m1 = parse_ok(text, NULL);
	g_autoptr(IcsVmMeta) m2 = parse_ok(text, NULL);

	assert_string_equal(a, b);
	assert_string_equal(a, e);
	assert_string_not_equal(a, c);
	assert_string_not_equal(a, d);
	assert_true(g_str_has_prefix(a, "52:54:00:"));
	assert_int_equal(strlen(a), 17);
	assert_string_equal(((IcsVmNic *)m1->nics->pdata[0])->mac,
			    ((IcsVmNic *)m2->nics->pdata[0])->mac);
	assert_string_equal(((IcsVmNic *)m1->nics->pdata[0])->mac, a);
}

static void test_auto_mac_avoids_explicit(void **state)
{
	g_autofree char *mac0 = ics_vm_default_mac(TEST_UUID, 0);
	/* NIC 1 explicitly takes the MAC NIC 0 would get. */
	g_autofree char *patch = g_strdup_printf(
		"{\"nics\": [{\"source\": {\"type\": \"bridge\", \"name\": \"br0\"}},"
		" {\"mac\": \"%s\", \"source\": {\"type\": \"bridge\", \"name\": \"br0\"}}]}",
		mac0);
	g_autofree char *text = patched_json(minimal_json, patch);
	g_autoptr(IcsVmMeta) m = parse_ok(text, NULL);

	assert_string_equal(((IcsVmNic *)m->nics->pdata[1])->mac, mac0);
	assert_string_not_equal(((IcsVmNic *)m->nics->pdata[0])->mac, mac0);
}

static void test_crash_policies(void **state)
{
	static const char *const names[] = { "none", "restart", "poweroff", "ha" };

	for (int i = 0; i < 4; i++) {
		g_autofree char *patch = g_strdup_printf(
			"{\"crash_policy\": \"%s\", \"watchdog\": {\"model\": \"ib700\"}}",
			names[i]);
		g_autofree char *text = patched_json(minimal_json, patch);
		g_autoptr(IcsVmMeta) m = parse_ok(text, NULL);

		assert_int_equal(m->crash_policy, i);
		assert_string_equal(ics_vm_crash_policy_name(m->crash_policy), names[i]);
		assert_string_equal(ics_vm_watchdog_action(m), i == 0 ? "pause" : "poweroff");
	}
}

/* ---- rejections: maximal definition on TEST_POOL with one change ------- */

typedef struct {
	const char *patch; /* top-level members replaced (null removes) */
	const char *want;  /* part of the message */
} Reject;

#define P TEST_POOL
#define DISK0 "{\"path\": \"" P "/images/a.raw\"}"
#define BR "\"source\": {\"type\": \"bridge\", \"name\": \"br0\"}"
#define OVS "\"source\": {\"type\": \"ovs\", \"name\": \"ics-br0\"}"
#define LEASE(name, path, off)                                                                     \
	"{\"lease\": {\"lockspace\": \"ics-shared\", \"name\": \"" name "\", \"path\": \"" path    \
	"\", \"offset\": " off "}}"

static const Reject rejects[] = {
	{ "{\"uuid\": \"not-a-uuid\"}", "uuid \"not-a-uuid\" is not an RFC 4122 uuid" },
	{ "{\"uuid\": \"00000000-0000-0000-0000-000000000000\"}", "is not an RFC 4122 uuid" },
	{ "{\"uuid\": \"6f1c3c0e8a4b4d5e9f001234567890ab\"}", "is not an RFC 4122 uuid" },
	{ "{\"uuid\": null}", "uuid is required" },
	{ "{\"name\": \"-web\"}", "name \"-web\" must match [A-Za-z0-9][A-Za-z0-9._-]{0,62}" },
	{ "{\"name\": \"web 1\"}", "name \"web 1\" must match" },
	{ "{\"name\": \"a23456789012345678901234567890123456789012345678901234567890123x\"}",
	  "must match" },
	{ "{\"name\": \"web\\u0001\"}", "name contains control characters" },
	{ "{\"name\": 7}", "name must be a string, not an integer" },
	{ "{\"tags\": [\"prod\", \"prod\"]}", "tags[1] \"prod\" is listed twice" },
	{ "{\"tags\": [\"env:prod\"]}", "tags[0] \"env:prod\" must match" },
	{ "{\"tags\": [\"\"]}", "tags[0] \"\" must match" },
	{ "{\"tags\": [1]}", "tags[0] must be a string, not an integer" },
	{ "{\"tags\": \"prod\"}", "tags must be an array, not a string" },
	{ "{\"tags\": [\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\","
	  "\"12\",\"13\",\"14\",\"15\",\"16\",\"17\",\"18\",\"19\",\"20\",\"21\",\"22\",\"23\","
	  "\"24\",\"25\",\"26\",\"27\",\"28\",\"29\",\"30\",\"31\",\"32\",\"33\"]}",
	  "tags lists 33 tags, at most 32" },
	{ "{\"vcpus\": 0}", "vcpus 0 is out of range 1..256" },
	{ "{\"vcpus\": 257}", "vcpus 257 is out of range 1..256" },
	{ "{\"vcpus\": \"4\"}", "vcpus must be an integer, not a string" },
	{ "{\"vcpus\": 2.0}", "vcpus must be an integer, not a real number" },
	{ "{\"memory_mib\": 8}", "memory_mib 8 is out of range 16..4194304" },
	{ "{\"memory_mib\": 4194305}", "memory_mib 4194305 is out of range" },
	{ "{\"memory_mib\": null}", "memory_mib is required" },
	{ "{\"format\": 2}", "format 2 is not supported" },
	{ "{\"disk\": []}", "unknown key \"disk\"" },
	{ "{\"virt_type\": \"xen\"}", "virt_type \"xen\" is not one of kvm|qemu" },
	{ "{\"arch\": \"ppc64\"}", "arch \"ppc64\" is not one of x86_64|i686" },
	{ "{\"firmware\": \"coreboot\"}", "firmware \"coreboot\" is not one of bios|uefi" },
	{ "{\"machine\": \"pc q35\"}", "machine \"pc q35\" must be" },
	{ "{\"boot\": [\"hd\", \"hd\"]}", "boot[1] \"hd\" is listed twice" },
	{ "{\"boot\": [\"floppy\"]}", "boot[0] \"floppy\" is not one of hd|cdrom|network" },
	{ "{\"boot\": []}", "boot must list at least one device" },
	{ "{\"cdrom\": null}", "boot lists cdrom but the VM has no cdrom" },
	{ "{\"nics\": []}", "boot lists network but the VM has no NIC" },
	{ "{\"cdrom\": \"debian.iso\"}", "cdrom \"debian.iso\" is not an absolute path" },
	{ "{\"kernel\": {\"cmdline\": \"console=ttyS0\"}, \"boot\": null}",
	  "kernel.path is required" },
	{ "{\"kernel\": {\"path\": \"/srv/k/vmlinux\"}}", "boot and kernel exclude each other" },
	{ "{\"kernel\": {\"path\": \"/k\", \"append\": \"x\"}, \"boot\": null}",
	  "unknown key \"append\" in kernel" },
	{ "{\"disks\": [{\"path\": \"" P "/a.raw\", \"size\": 10}]}",
	  "unknown key \"size\" in disks[0]" },
	{ "{\"disks\": [" DISK0 ", {\"path\": \"/etc/passwd\"}]}",
	  "vm \"web1\": disks[1].path \"/etc/passwd\" is not under pool /srv/ics/pools/shared" },
	{ "{\"disks\": [{\"path\": \"" P "/../../etc/shadow\"}]}",
	  "disks[0].path \"" P "/../../etc/shadow\" is not a normalised path" },
	{ "{\"disks\": [{\"path\": \"images/a.raw\"}]}", "disks[0].path \"images/a.raw\" is not "
							 "an absolute path" },
	{ "{\"disks\": [{\"path\": \"" P "/.ics/leases\"}]}", "is inside the pool's .ics" },
	{ "{\"disks\": [{\"path\": \"" P "\"}]}", "is not under pool" },
	{ "{\"disks\": [{\"path\": \"" P "/a.raw\", \"target\": \"vda\"},"
	  " {\"path\": \"" P "/b.raw\", \"target\": \"vda\"}]}",
	  "disks[1].target \"vda\" is used by another disk" },
	{ "{\"disks\": [{\"path\": \"" P "/b.raw\", \"target\": \"sda\"}]}",
	  "disks[0].target \"sda\" is not a virtio target" },
	{ "{\"disks\": [{\"path\": \"" P "/b.raw\", \"format\": \"vmdk\"}]}",
	  "disks[0].format \"vmdk\" is not one of raw|qcow2" },
	{ "{\"disks\": [{\"path\": \"" P "/b.raw\", \"bus\": \"ide\"}]}",
	  "disks[0].bus \"ide\" is not one of virtio|sata|scsi" },
	{ "{\"disks\": [{\"path\": \"" P "/b.raw\", \"cache\": \"unsafe\"}]}",
	  "disks[0].cache \"unsafe\" is not one of" },
	{ "{\"disks\": [{\"path\": \"" P "/b.raw\", \"readonly\": \"yes\"}]}",
	  "disks[0].readonly must be a boolean, not a string" },
	{ "{\"disks\": [{\"path\": \"" P "/b.raw\", \"serial\": \"123456789012345678901\"}]}",
	  "disks[0].serial \"123456789012345678901\" must be 1..20" },
	{ "{\"disks\": [\"" P "/b.raw\"]}", "disks[0] must be an object, not a string" },
	{ "{\"disks\": {}}", "disks must be an array, not an object" },
	{ "{\"nics\": [{\"mac\": \"01:00:5e:00:00:01\", " BR "}]}",
	  "nics[0].mac \"01:00:5e:00:00:01\" is a multicast address" },
	{ "{\"nics\": [{\"mac\": \"52:54:00:zz:00:01\", " BR "}]}",
	  "nics[0].mac \"52:54:00:zz:00:01\" is not a MAC address" },
	{ "{\"nics\": [{\"mac\": \"00:00:00:00:00:00\", " BR "}]}", "is the all-zero address" },
	{ "{\"nics\": [{\"mac\": \"52:54:00:00:00:01\", " BR "},"
	  " {\"mac\": \"52:54:00:00:00:01\", " BR "}]}",
	  "nics[1].mac 52:54:00:00:00:01 is used by another NIC" },
	{ "{\"nics\": [{" OVS ", \"vlan\": 4095}]}", "nics[0].vlan 4095 is out of range 1..4094" },
	{ "{\"nics\": [{" OVS ", \"vlan\": 0}]}", "nics[0].vlan 0 is out of range 1..4094" },
	{ "{\"nics\": [{" BR ", \"vlan\": 10}]}",
	  "nics[0].vlan is only supported with source type ovs, not bridge" },
	{ "{\"nics\": [{\"model\": \"virtio\"}]}", "nics[0].source is required" },
	{ "{\"nics\": [{\"source\": {\"name\": \"br0\"}}]}", "nics[0].source.type is required" },
	{ "{\"nics\": [{\"source\": {\"type\": \"macvtap\", \"name\": \"eth0\"}}]}",
	  "nics[0].source.type \"macvtap\" is not one of bridge|network|ovs" },
	{ "{\"nics\": [{\"source\": {\"type\": \"bridge\", \"name\": \"a-very-long-bridge\"}}]}",
	  "nics[0].source.name \"a-very-long-bridge\" is not a valid bridge name" },
	{ "{\"nics\": [{" BR ", \"model\": \"ne2k_pci\"}]}",
	  "nics[0].model \"ne2k_pci\" is not one of virtio|e1000|rtl8139" },
	{ "{\"serial_console\": \"yes\"}", "serial_console must be a boolean, not a string" },
	{ "{\"watchdog\": {\"model\": \"diag288\"}}",
	  "watchdog.model \"diag288\" is not one of i6300esb|ib700" },
	{ "{\"watchdog\": {\"action\": \"explode\"}}",
	  "watchdog.action \"explode\" is not one of reset|poweroff|pause|none|dump" },
	{ "{\"crash_policy\": \"reboot\"}",
	  "crash_policy \"reboot\" is not one of none|restart|poweroff|ha" },
	{ "{\"migration\": {\"bandwidth_mibps\": 0}}",
	  "migration.bandwidth_mibps 0 is out of range" },
	{ "{\"migration\": {\"downtime\": 5}}", "unknown key \"downtime\" in migration" },
	{ LEASE("0e2b7c2a-1111-4222-8333-444455556666", P "/.ics/leases", "1048576"),
	  "lease.name \"0e2b7c2a-1111-4222-8333-444455556666\" must be the VM's uuid " TEST_UUID },
	{ LEASE(TEST_UUID, P "/.ics/leases", "1572864"),
	  "lease.offset 1572864 is not a multiple of 1 MiB" },
	{ LEASE(TEST_UUID, P "/.ics/leases", "0"), "lease.offset 0 is out of range" },
	{ LEASE(TEST_UUID, "/srv/other/.ics/leases", "1048576"),
	  "lease.path \"/srv/other/.ics/leases\" is not the lease file of pool " P },
	{ "{\"lease\": {\"lockspace\": \"ics-shared\", \"name\": \"" TEST_UUID "\"}}",
	  "lease.path is required" },
	{ "{\"lease\": null}", "lease is required for a VM on pool " P },
};

static void test_reject(void **state)
{
	const Reject *r = *state;
	g_autofree char *base = maximal_json(TEST_POOL);
	g_autofree char *text = patched_json(base, r->patch);
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsVmMeta) m = ics_vm_meta_parse(text, TEST_POOL, &err);

	assert_null(m);
	assert_non_null(err);
	if (!g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT) ||
	    strstr(err->message, r->want) == NULL || !g_str_has_prefix(err->message, "vm "))
		fail_msg("patch %s: got \"%s\" (code %d), want \"%s\"", r->patch, err->message,
			 err->code, r->want);
}

static void test_reject_not_object(void **state)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsVmMeta) m = ics_vm_meta_parse("[1, 2]", NULL, &err);

	assert_null(m);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	assert_string_equal(err->message, "vm definition: must be a JSON object, not an array");
}

static void test_reject_syntax(void **state)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsVmMeta) m = ics_vm_meta_parse("{\"uuid\": ", NULL, &err);

	assert_null(m);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_PARSE));
	assert_true(g_str_has_prefix(err->message, "vm.json:1:"));
}

static void test_reject_duplicate_key(void **state)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsVmMeta) m = ics_vm_meta_parse(
		"{\"uuid\": \"" TEST_UUID "\", \"name\": \"a\", \"name\": \"b\"}", NULL, &err);

	assert_null(m);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_PARSE));
}

static void test_label_uses_uuid_when_name_bad(void **state)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *text = patched_json(minimal_json, "{\"name\": \"bad name\"}");
	g_autoptr(IcsVmMeta) m = ics_vm_meta_parse(text, NULL, &err);

	assert_null(m);
	assert_true(g_str_has_prefix(err->message, "vm " TEST_UUID ": name"));
}

static void test_reject_cdrom_without_sd_target(void **state)
{
	g_autoptr(GString) disks = g_string_new("{\"cdrom\": \"/iso/a.iso\", \"disks\": [");
	g_autofree char *text = NULL;
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsVmMeta) m = NULL;

	for (int i = 0; i < 26; i++)
		g_string_append_printf(disks, "%s{\"path\": \"/d/%d.raw\", \"bus\": \"sata\"}",
				       i ? ", " : "", i);
	g_string_append(disks, "]}");
	text = patched_json(minimal_json, disks->str);
	m = ics_vm_meta_parse(text, NULL, &err);
	assert_null(m);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	assert_non_null(strstr(err->message, "cdrom needs a free target sda..sdz"));
}

static void test_no_pool_no_lease_needed(void **state)
{
	/* Not on a pool: disks anywhere, no lease required. */
	g_autofree char *text =
		patched_json(minimal_json, "{\"disks\": [{\"path\": \"/var/lib/x.raw\"}]}");
	g_autoptr(IcsVmMeta) m = parse_ok(text, NULL);

	assert_false(m->has_lease);
}

int main(void)
{
	const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_minimal_defaults),
		cmocka_unit_test(test_maximal),
		cmocka_unit_test(test_kernel_boot),
		cmocka_unit_test(test_uuid_normalised),
		cmocka_unit_test(test_round_trip_minimal),
		cmocka_unit_test(test_round_trip_maximal),
		cmocka_unit_test(test_equal_detects_difference),
		cmocka_unit_test(test_default_mac_deterministic),
		cmocka_unit_test(test_auto_mac_avoids_explicit),
		cmocka_unit_test(test_crash_policies),
		cmocka_unit_test(test_reject_not_object),
		cmocka_unit_test(test_reject_syntax),
		cmocka_unit_test(test_reject_duplicate_key),
		cmocka_unit_test(test_label_uses_uuid_when_name_bad),
		cmocka_unit_test(test_reject_cdrom_without_sd_target),
		cmocka_unit_test(test_no_pool_no_lease_needed),
	};
	size_t nfixed = G_N_ELEMENTS(fixed);
	size_t n = nfixed + G_N_ELEMENTS(rejects);
	g_autofree struct CMUnitTest *tests = g_new0(struct CMUnitTest, n);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

	memcpy(tests, fixed, sizeof(fixed));
	for (size_t i = 0; i < G_N_ELEMENTS(rejects); i++) {
		char *name = g_strdup_printf("reject %s", rejects[i].patch);

		g_ptr_array_add(names, name);
		tests[nfixed + i] =
			(struct CMUnitTest){ name, test_reject, NULL, NULL, (void *)&rejects[i] };
	}
	return _cmocka_run_group_tests("vm_meta", tests, n, NULL, NULL);
}
