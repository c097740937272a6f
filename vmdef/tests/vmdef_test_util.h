/*
 * vmdef_test_util.h: the VM definitions the vmdef tests share -- a minimal
 * one (required fields only, not on a pool) and a maximal one that sets
 * every field, on the pool POOL.
 */
#ifndef VMDEF_TEST_UTIL_H
#define VMDEF_TEST_UTIL_H

#include <glib.h>
#include <jansson.h>

#define TEST_UUID "6f1c3c0e-8a4b-4d5e-9f00-1234567890ab"
#define TEST_POOL "/srv/ics/pools/shared"

static const char minimal_json[] = "{\"uuid\": \"" TEST_UUID "\", \"name\": \"web1\","
				   " \"vcpus\": 1, \"memory_mib\": 128}";

/* Every field set; @pool is the pool the VM lives on.  g_free the result. */
static inline char *maximal_json(const char *pool)
{
	return g_strdup_printf(
		"{\"format\": 1, \"uuid\": \"" TEST_UUID "\", \"name\": \"web1\",\n"
		" \"tags\": [\"prod\", \"db.eu-1\"],\n"
		" \"vcpus\": 4, \"memory_mib\": 2048, \"virt_type\": \"qemu\",\n"
		" \"arch\": \"x86_64\", \"machine\": \"pc\", \"firmware\": \"uefi\",\n"
		" \"boot\": [\"cdrom\", \"hd\", \"network\"],\n"
		" \"disks\": [\n"
		"   {\"path\": \"%s/images/web1.qcow2\", \"format\": \"qcow2\", \"bus\": "
		"\"virtio\",\n"
		"    \"cache\": \"none\", \"serial\": \"WEB1-ROOT\"},\n"
		"   {\"path\": \"%s/images/data.raw\", \"format\": \"raw\", \"bus\": \"scsi\",\n"
		"    \"cache\": \"writeback\", \"readonly\": true},\n"
		"   {\"path\": \"/dev/mapper/san-lun7\", \"bus\": \"sata\", \"target\": \"sdc\",\n"
		"    \"shared_outside_pool\": true, \"cache\": \"directsync\"},\n"
		"   {\"path\": \"%s/images/scratch.raw\", \"bus\": \"virtio\", \"target\": "
		"\"vdc\"}],\n"
		" \"cdrom\": \"%s/iso/debian.iso\",\n"
		" \"nics\": [\n"
		"   {\"model\": \"virtio\", \"source\": {\"type\": \"ovs\", \"name\": \"ics-br0\"},"
		" \"vlan\": 42},\n"
		"   {\"mac\": \"52:54:00:AA:BB:CC\", \"model\": \"e1000\","
		" \"source\": {\"type\": \"bridge\", \"name\": \"br0\"}},\n"
		"   {\"model\": \"rtl8139\", \"source\": {\"type\": \"network\", \"name\": "
		"\"default\"}}],\n"
		" \"serial_console\": true,\n"
		" \"watchdog\": {\"model\": \"i6300esb\"},\n"
		" \"crash_policy\": \"ha\",\n"
		" \"migration\": {\"bandwidth_mibps\": 100, \"max_downtime_ms\": 300},\n"
		" \"lease\": {\"lockspace\": \"ics-shared\", \"name\": \"" TEST_UUID "\",\n"
		"   \"path\": \"%s/.ics/leases\", \"offset\": 3145728}}\n",
		pool, pool, pool, pool, pool);
}

/* @base with the top-level members of @patch (JSON text) replaced; a member
 * whose patch value is null is removed.  g_free the result. */
static inline char *patched_json(const char *base, const char *patch)
{
	json_t *b = json_loads(base, 0, NULL);
	json_t *p = json_loads(patch, 0, NULL);
	const char *key;
	json_t *v;
	char *text;
	char *out;

	g_assert(b != NULL && p != NULL);
	json_object_foreach(p, key, v)
	{
		if (json_is_null(v))
			json_object_del(b, key);
		else
			json_object_set(b, key, v);
	}
	text = json_dumps(b, 0);
	out = g_strdup(text);
	free(text);
	json_decref(b);
	json_decref(p);
	return out;
}

#endif /* VMDEF_TEST_UTIL_H */
