# fencing/local.mk: fence agents in C speaking the fence-agents stdin
# protocol, and the option parser they share.  Installed in $(fencedir)
# (configure: where Pacemaker's fencer looks for fence_* agents, whatever
# the prefix).

noinst_LTLIBRARIES += fencing/libfenceargs.la
fencing_libfenceargs_la_SOURCES = fencing/fence_args.c fencing/fence_args.h
fencing_libfenceargs_la_LIBADD = $(top_builddir)/lib/libics.la

fence_PROGRAMS = fencing/fence_ics_lab
fencing_fence_ics_lab_SOURCES = fencing/fence_ics_lab.c
fencing_fence_ics_lab_LDADD = fencing/libfenceargs.la $(ICS_LIBS)

# Storage fencing: waits until sanlock shows the target dead on its pools.
fence_PROGRAMS += fencing/fence_ics_storage
# Its pool set is the CIB's ocf:ics:pool resources, and the target's
# published watchdog a node attribute (libcib).
noinst_LTLIBRARIES += fencing/libcibpools.la
fencing_libcibpools_la_SOURCES = fencing/cib_read.c fencing/cib_read.h \
	fencing/cib_pools.c fencing/cib_pools.h fencing/cib_nodes.c fencing/cib_nodes.h
fencing_libcibpools_la_CPPFLAGS = $(AM_CPPFLAGS) $(CIB_CFLAGS)
fencing_libcibpools_la_LIBADD = $(CIB_LIBS)
fencing_fence_ics_storage_SOURCES = fencing/fence_ics_storage.c
fencing_fence_ics_storage_CPPFLAGS = $(AM_CPPFLAGS) $(ICSLOCK_CPPFLAGS)
fencing_fence_ics_storage_LDADD = fencing/libfenceargs.la fencing/libcibpools.la $(ICSLOCK_LIBS)

ics_fencing_tests = \
	fencing/tests/test_fence_args \
	fencing/tests/test_fence_ics_lab \
	fencing/tests/test_fence_ics_storage
check_PROGRAMS += $(ics_fencing_tests)
TESTS += $(ics_fencing_tests)

fencing_tests_test_fence_args_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/fencing
fencing_tests_test_fence_args_CFLAGS = $(ICS_TEST_CFLAGS)
fencing_tests_test_fence_args_LDADD = fencing/libfenceargs.la $(ICS_TEST_LIBS)
fencing_tests_test_fence_ics_lab_CFLAGS = $(ICS_TEST_CFLAGS)
fencing_tests_test_fence_ics_lab_LDADD = $(ICS_TEST_LIBS)
# Includes the agent's source with libicslock faked: no sanlock needed.
fencing_tests_test_fence_ics_storage_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/fencing \
	$(ICSLOCK_CPPFLAGS)
fencing_tests_test_fence_ics_storage_CFLAGS = $(ICS_TEST_CFLAGS)
fencing_tests_test_fence_ics_storage_LDADD = fencing/libfenceargs.la fencing/libcibpools.la \
	$(ICS_TEST_LIBS)
EXTRA_DIST += fencing/fence_ics_storage.c

EXTRA_DIST += fencing/README.md
