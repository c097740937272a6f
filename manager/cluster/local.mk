# manager/cluster/local.mk: the manager's cluster adapter (CIB through libcib,
# Pacemaker's status through crm_mon, node statistics through libvirt).
#
# libicscluster: the adapter itself, over libicsvmpool (the CIB objects of
# a VM, vmpool/).

noinst_LTLIBRARIES += manager/cluster/libicscluster.la
manager_cluster_libicscluster_la_SOURCES = \
	manager/cluster/cluster_internal.h \
	manager/cluster/cib_connection.c \
	manager/cluster/cib_snapshot.c \
	manager/cluster/pacemaker_status.c \
	manager/cluster/cib_writes.c \
	manager/cluster/snapshot_json.c \
	manager/cluster/node_stats.c \
	manager/cluster/node_domain.h manager/cluster/node_domain.c \
	manager/cluster/node_serial.c \
	manager/cluster/node_backup.c
manager_cluster_libicscluster_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/manager/cluster/include \
	$(ICSVMPOOL_CPPFLAGS) $(ICSBACKUP_CPPFLAGS) $(CIB_CFLAGS) $(LIBVIRT_CFLAGS)
manager_cluster_libicscluster_la_LIBADD = $(top_builddir)/vmpool/libicsvmpool.la \
	$(top_builddir)/backup/libicsbackup.la $(top_builddir)/lib/libics.la $(CIB_LIBS) \
	$(LIBVIRT_LIBS)
noinst_HEADERS += manager/cluster/include/ics/cluster.h

# What a program using libicscluster links with.
ICSCLUSTER_CPPFLAGS = -I$(top_srcdir)/manager/cluster/include $(ICSVMPOOL_CPPFLAGS) \
	$(ICSBACKUP_CPPFLAGS)
ICSCLUSTER_LIBS = $(top_builddir)/manager/cluster/libicscluster.la $(ICSVMPOOL_LIBS) \
	$(ICSBACKUP_LIBS) $(CIB_LIBS) $(LIBVIRT_LIBS) $(ICS_LIBS)

# A debugging aid, built with the tests and used by the lab test.
check_PROGRAMS += manager/cluster/ics-cluster-dump
manager_cluster_ics_cluster_dump_SOURCES = manager/cluster/ics-cluster-dump.c
manager_cluster_ics_cluster_dump_CPPFLAGS = $(AM_CPPFLAGS) $(ICSCLUSTER_CPPFLAGS)
manager_cluster_ics_cluster_dump_LDADD = $(ICSCLUSTER_LIBS)

# The lab test's program: runs inside a lab node (tests/lab-cluster.test,
# wired in cts/local.mk under ENABLE_CTS).
check_PROGRAMS += manager/cluster/tests/lab-cluster
manager_cluster_tests_lab_cluster_SOURCES = manager/cluster/tests/lab-cluster.c
manager_cluster_tests_lab_cluster_CPPFLAGS = $(AM_CPPFLAGS) $(ICSCLUSTER_CPPFLAGS)
manager_cluster_tests_lab_cluster_LDADD = $(ICSCLUSTER_LIBS)

ics_cluster_tests = \
	manager/cluster/tests/test_snapshot \
	manager/cluster/tests/test_change_hint \
	manager/cluster/tests/test_cib_writes \
	manager/cluster/tests/test_node_stats
check_PROGRAMS += $(ics_cluster_tests)
TESTS += $(ics_cluster_tests)

ics_cluster_test_cppflags = $(AM_CPPFLAGS) $(ICSCLUSTER_CPPFLAGS) -I$(top_srcdir)/manager/cluster \
	$(CIB_CFLAGS) $(LIBVIRT_CFLAGS) \
	-DICS_CLUSTER_TEST_DATA='"$(abs_top_srcdir)/manager/cluster/tests/data"'
manager_cluster_tests_test_snapshot_SOURCES = manager/cluster/tests/test_snapshot.c \
	manager/cluster/tests/cluster_test_util.h
manager_cluster_tests_test_snapshot_CPPFLAGS = $(ics_cluster_test_cppflags)
manager_cluster_tests_test_snapshot_CFLAGS = $(ICS_TEST_CFLAGS)
manager_cluster_tests_test_snapshot_LDADD = $(ICSCLUSTER_LIBS) $(CMOCKA_LIBS)
manager_cluster_tests_test_change_hint_SOURCES = manager/cluster/tests/test_change_hint.c \
	manager/cluster/tests/cluster_test_util.h
manager_cluster_tests_test_change_hint_CPPFLAGS = $(ics_cluster_test_cppflags)
manager_cluster_tests_test_change_hint_CFLAGS = $(ICS_TEST_CFLAGS)
manager_cluster_tests_test_change_hint_LDADD = $(ICSCLUSTER_LIBS) $(CMOCKA_LIBS)
manager_cluster_tests_test_cib_writes_SOURCES = manager/cluster/tests/test_cib_writes.c \
	manager/cluster/tests/cluster_test_util.h
manager_cluster_tests_test_cib_writes_CPPFLAGS = $(ics_cluster_test_cppflags)
manager_cluster_tests_test_cib_writes_CFLAGS = $(ICS_TEST_CFLAGS)
manager_cluster_tests_test_cib_writes_LDADD = $(ICSCLUSTER_LIBS) $(CMOCKA_LIBS)
manager_cluster_tests_test_node_stats_SOURCES = manager/cluster/tests/test_node_stats.c
manager_cluster_tests_test_node_stats_CPPFLAGS = $(ics_cluster_test_cppflags)
manager_cluster_tests_test_node_stats_CFLAGS = $(ICS_TEST_CFLAGS)
manager_cluster_tests_test_node_stats_LDADD = $(ICSCLUSTER_LIBS) $(CMOCKA_LIBS)

ics_cluster_fixtures = \
	manager/cluster/tests/data/README.md \
	manager/cluster/tests/data/cib-basic.xml manager/cluster/tests/data/mon-basic.xml \
	manager/cluster/tests/data/cib-maintenance.xml manager/cluster/tests/data/mon-maintenance.xml \
	manager/cluster/tests/data/cib-offline.xml manager/cluster/tests/data/mon-offline.xml \
	manager/cluster/tests/data/cib-standby.xml manager/cluster/tests/data/mon-standby.xml \
	manager/cluster/tests/data/cib-unclean.xml manager/cluster/tests/data/mon-unclean.xml \
	manager/cluster/tests/data/cib-vm-failed.xml manager/cluster/tests/data/mon-vm-failed.xml \
	manager/cluster/tests/data/cib-vm-migrated.xml manager/cluster/tests/data/mon-vm-migrated.xml \
	manager/cluster/tests/data/cib-vm-migrating.xml manager/cluster/tests/data/mon-vm-migrating.xml \
	manager/cluster/tests/data/cib-vm-running.xml manager/cluster/tests/data/mon-vm-running.xml \
	manager/cluster/tests/data/cib-vm-stopped.xml manager/cluster/tests/data/mon-vm-stopped.xml \
	manager/cluster/tests/data/notify-diff.xml

EXTRA_DIST += $(ics_cluster_fixtures) manager/cluster/tests/lab-cluster.test
