/*
 * drs_test_util.h: cluster states for libicsdrs's tests: parse a literal,
 * generate a seeded random skewed cluster, and check placements against
 * capacity and rules through the engine's internal view.
 */
#ifndef ICS_DRS_TEST_UTIL_H
#define ICS_DRS_TEST_UTIL_H

#include <glib.h>

#include "ics/drs.h"
#include "ics/error.h"
#include "drs_internal.h"

static G_GNUC_UNUSED IcsDrsCluster *test_parse(const char *text)
{
	g_autoptr(GError) err = NULL;
	IcsDrsCluster *c = ics_drs_cluster_parse(text, strlen(text), "test", &err);

	if (!c)
		g_error("test cluster does not parse: %s", err->message);
	return c;
}

/*
 * A random skewed cluster as text: @hosts hosts of two sizes, @vms VMs,
 * the first quarter of the hosts nearly full, the rest lightly loaded.
 */
static G_GNUC_UNUSED char *test_random_cluster(GRand *r, guint hosts, guint vms)
{
	GString *s = g_string_new("# random test cluster\n");
	g_autofree gint64 *free_mem = g_new0(gint64, hosts);

	for (guint h = 0; h < hosts; h++) {
		gint64 mem = h % 3 == 2 ? 65536 : 32768;
		g_string_append_printf(s, "H\th%u\t%d\t%" G_GINT64_FORMAT "\n", h,
				       h % 3 == 2 ? 32 : 16, mem);
		free_mem[h] = mem;
	}
	for (guint i = 0; i < vms; i++) {
		static const int sizes[] = { 1024, 2048, 4096, 8192 };
		gint64 mem = sizes[g_rand_int_range(r, 0, 4)];
		gint64 vcpus = g_rand_int_range(r, 1, 5);
		guint hot = MAX(hosts / 4, 1u);
		guint h = g_rand_int_range(r, 0, 3) ? g_rand_int_range(r, 0, (gint32)hot)
						    : g_rand_int_range(r, 0, (gint32)hosts);
		for (guint tries = 0; free_mem[h] < mem && tries < hosts; tries++)
			h = (h + 1) % hosts;
		if (free_mem[h] < mem)
			break;
		free_mem[h] -= mem;
		g_string_append_printf(s,
				       "V\tv%u\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT
				       "\t%d\t%" G_GINT64_FORMAT "\th%u\n",
				       i, vcpus, mem,
				       g_rand_int_range(r, 0, (gint32)vcpus * 1000 + 1),
				       mem * g_rand_int_range(r, 30, 101) / 100, h);
	}
	return g_string_free(s, FALSE);
}

/* Memory allocated on @host by the VMs placed there. */
static G_GNUC_UNUSED gint64 test_host_alloc(const IcsDrsCluster *c, guint host)
{
	gint64 sum = 0;

	for (guint i = 0; i < c->vms->len; i++) {
		if (drs_vm(c, i)->host == host)
			sum += drs_vm(c, i)->mem_mib;
	}
	return sum;
}

/* No host holds more than its capacity less @ha_pct percent. */
static G_GNUC_UNUSED gboolean test_no_overcommit(const IcsDrsCluster *c, guint ha_pct)
{
	for (guint h = 0; h < c->hosts->len; h++) {
		if (test_host_alloc(c, h) > drs_host_capacity(drs_host(c, h), ha_pct))
			return FALSE;
	}
	return TRUE;
}

#endif
