/*
 * cluster_test_util.h: loading the captured fixtures of tests/data/.
 */
#ifndef ICS_CLUSTER_TEST_UTIL_H
#define ICS_CLUSTER_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "ics/cluster.h"
#include "ics/xml.h"

static inline char *fixture_path(const char *name)
{
	return g_build_filename(ICS_CLUSTER_TEST_DATA, name, NULL);
}

static inline xmlDoc *load_fixture(const char *name)
{
	g_autofree char *path = fixture_path(name);
	g_autoptr(GError) e = NULL;
	xmlDoc *d = ics_xml_parse_file(path, &e);

	if (d == NULL)
		fail_msg("%s: %s", path, e->message);
	return d;
}

/* The snapshot of state @name: cib-@name.xml with mon-@name.xml. */
static inline IcsClusterSnapshot *load_snapshot(const char *name)
{
	g_autofree char *cname = g_strdup_printf("cib-%s.xml", name);
	g_autofree char *mname = g_strdup_printf("mon-%s.xml", name);
	g_autoptr(xmlDoc) cib = load_fixture(cname);
	g_autoptr(xmlDoc) mon = load_fixture(mname);
	g_autoptr(GError) e = NULL;
	IcsClusterSnapshot *s = ics_cluster_snapshot_parse(cib, mon, &e);

	if (s == NULL)
		fail_msg("snapshot %s: %s", name, e->message);
	return s;
}

#endif /* ICS_CLUSTER_TEST_UTIL_H */
