# storage-lock/local.mk: libicslock (lockspace and lease layout on libsanlock,
# fence-aware takeover) and the ics-lease tool over it.

noinst_LTLIBRARIES += storage-lock/libicslock.la
storage_lock_libicslock_la_SOURCES = \
	storage-lock/lock_internal.h \
	storage-lock/leader_record.c \
	storage-lock/pool_area.c \
	storage-lock/lease_slots.c \
	storage-lock/membership.c \
	storage-lock/host_state.c \
	storage-lock/resource_lease.c \
	storage-lock/takeover.c \
	storage-lock/delta_watch.c \
	storage-lock/delta_release.c \
	storage-lock/node_names.c \
	storage-lock/watchdog.c \
	storage-lock/fence_history.c
storage_lock_libicslock_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/storage-lock/include \
	$(SANLOCK_CFLAGS) $(STONITH_CFLAGS) $(CMAP_CFLAGS)
storage_lock_libicslock_la_LIBADD = $(top_builddir)/lib/libics.la $(SANLOCK_LIBS) $(STONITH_LIBS) \
	$(CMAP_LIBS)
noinst_HEADERS += storage-lock/include/ics/lock.h

# What a program using libicslock links with.
ICSLOCK_CPPFLAGS = -I$(top_srcdir)/storage-lock/include $(SANLOCK_CFLAGS)
ICSLOCK_LIBS = $(top_builddir)/storage-lock/libicslock.la $(SANLOCK_LIBS) $(STONITH_LIBS) $(CMAP_LIBS) \
	$(ICS_LIBS)

sbin_PROGRAMS += storage-lock/ics-lease
storage_lock_ics_lease_SOURCES = storage-lock/ics-lease.c
storage_lock_ics_lease_CPPFLAGS = $(AM_CPPFLAGS) $(ICSLOCK_CPPFLAGS)
storage_lock_ics_lease_LDADD = $(ICSLOCK_LIBS)

ics_lock_tests = \
	storage-lock/tests/test_pool_area \
	storage-lock/tests/test_lease_slots \
	storage-lock/tests/test_takeover \
	storage-lock/tests/test_takeover_steps \
	storage-lock/tests/test_delta_release \
	storage-lock/tests/test_watchdog \
	storage-lock/tests/test_observer \
	storage-lock/tests/test_delta_watch \
	storage-lock/tests/test_pool_fuzz
check_PROGRAMS += $(ics_lock_tests)
TESTS += $(ics_lock_tests)

ics_lock_test_cppflags = $(AM_CPPFLAGS) $(ICSLOCK_CPPFLAGS) -I$(top_srcdir)/storage-lock
storage_lock_tests_test_pool_area_SOURCES = storage-lock/tests/test_pool_area.c storage-lock/tests/lock_test_util.h
storage_lock_tests_test_pool_area_CPPFLAGS = $(ics_lock_test_cppflags)
storage_lock_tests_test_pool_area_CFLAGS = $(ICS_TEST_CFLAGS)
storage_lock_tests_test_pool_area_LDADD = $(ICSLOCK_LIBS) $(CMOCKA_LIBS)
storage_lock_tests_test_lease_slots_SOURCES = storage-lock/tests/test_lease_slots.c storage-lock/tests/lock_test_util.h
storage_lock_tests_test_lease_slots_CPPFLAGS = $(ics_lock_test_cppflags)
storage_lock_tests_test_lease_slots_CFLAGS = $(ICS_TEST_CFLAGS)
storage_lock_tests_test_lease_slots_LDADD = $(ICSLOCK_LIBS) $(CMOCKA_LIBS)
storage_lock_tests_test_takeover_CPPFLAGS = $(ics_lock_test_cppflags)
storage_lock_tests_test_takeover_CFLAGS = $(ICS_TEST_CFLAGS)
storage_lock_tests_test_takeover_LDADD = $(ICSLOCK_LIBS) $(CMOCKA_LIBS)
storage_lock_tests_test_takeover_steps_CPPFLAGS = $(ics_lock_test_cppflags)
storage_lock_tests_test_takeover_steps_CFLAGS = $(ICS_TEST_CFLAGS)
storage_lock_tests_test_takeover_steps_LDADD = $(ICSLOCK_LIBS) $(CMOCKA_LIBS)
storage_lock_tests_test_delta_release_SOURCES = storage-lock/tests/test_delta_release.c storage-lock/tests/lock_test_util.h
storage_lock_tests_test_delta_release_CPPFLAGS = $(ics_lock_test_cppflags)
storage_lock_tests_test_delta_release_CFLAGS = $(ICS_TEST_CFLAGS)
storage_lock_tests_test_delta_release_LDADD = $(ICSLOCK_LIBS) $(CMOCKA_LIBS)
storage_lock_tests_test_watchdog_CPPFLAGS = $(ics_lock_test_cppflags)
storage_lock_tests_test_watchdog_CFLAGS = $(ICS_TEST_CFLAGS)
storage_lock_tests_test_watchdog_LDADD = $(ICSLOCK_LIBS) $(CMOCKA_LIBS)
storage_lock_tests_test_observer_CPPFLAGS = $(ics_lock_test_cppflags)
storage_lock_tests_test_observer_CFLAGS = $(ICS_TEST_CFLAGS)
storage_lock_tests_test_observer_LDADD = $(ICSLOCK_LIBS) $(CMOCKA_LIBS)
storage_lock_tests_test_delta_watch_SOURCES = storage-lock/tests/test_delta_watch.c storage-lock/tests/lock_test_util.h
storage_lock_tests_test_delta_watch_CPPFLAGS = $(ics_lock_test_cppflags)
storage_lock_tests_test_delta_watch_CFLAGS = $(ICS_TEST_CFLAGS)
storage_lock_tests_test_delta_watch_LDADD = $(ICSLOCK_LIBS) $(CMOCKA_LIBS)
storage_lock_tests_test_pool_fuzz_SOURCES = storage-lock/tests/test_pool_fuzz.c storage-lock/tests/lock_test_util.h
storage_lock_tests_test_pool_fuzz_CPPFLAGS = $(ics_lock_test_cppflags)
storage_lock_tests_test_pool_fuzz_CFLAGS = $(ICS_TEST_CFLAGS)
storage_lock_tests_test_pool_fuzz_LDADD = $(ICSLOCK_LIBS) $(CMOCKA_LIBS)

EXTRA_DIST += storage-lock/README.md storage-lock/tests/data/sanlock-client-status-D-3.8.5.txt
