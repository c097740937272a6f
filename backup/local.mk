# backup/local.mk: libicsbackup (repository format, full and incremental
# backups through libvirt, verify, restore, checkpoint records) and the
# standalone ics-backup tool over it.

noinst_LTLIBRARIES += backup/libicsbackup.la
backup_libicsbackup_la_SOURCES = \
	backup/backup_internal.h \
	backup/manifest.c \
	backup/repository.c \
	backup/staging.c \
	backup/retention.c \
	backup/plan.c \
	backup/qcow2_header.c \
	backup/verify.c \
	backup/restore.c \
	backup/checkpoint_store.c \
	backup/live_backup.c \
	backup/qsd.c \
	backup/lease_hold.c \
	backup/stopped_backup.c
backup_libicsbackup_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/backup/include \
	$(ICSVMDEF_CPPFLAGS) $(LIBVIRT_CFLAGS) $(NETTLE_CFLAGS) -DICS_SBINDIR='"$(sbindir)"'
backup_libicsbackup_la_LIBADD = $(top_builddir)/vmdef/libicsvmdef.la $(top_builddir)/lib/libics.la \
	$(LIBVIRT_LIBS) $(NETTLE_LIBS)
noinst_HEADERS += backup/include/ics/backup.h

# What a program using libicsbackup links with.
ICSBACKUP_CPPFLAGS = -I$(top_srcdir)/backup/include $(ICSVMDEF_CPPFLAGS) $(LIBVIRT_CFLAGS)
ICSBACKUP_LIBS = $(top_builddir)/backup/libicsbackup.la $(ICSVMDEF_LIBS) $(LIBVIRT_LIBS) \
	$(NETTLE_LIBS)

sbin_PROGRAMS += backup/ics-backup
backup_ics_backup_SOURCES = backup/ics-backup.c
backup_ics_backup_CPPFLAGS = $(AM_CPPFLAGS) $(ICSBACKUP_CPPFLAGS)
backup_ics_backup_LDADD = $(ICSBACKUP_LIBS)

ics_backup_tests = \
	backup/tests/test_manifest \
	backup/tests/test_repository
check_PROGRAMS += $(ics_backup_tests)
TESTS += $(ics_backup_tests)

# A repository whose file system fills up mid-backup: needs ics-faultfs
# (built with the CTS), root and FUSE; skips otherwise.
EXTRA_DIST += backup/tests/enospc.test
if ENABLE_CTS
TESTS += backup/tests/enospc.test
endif

backup_tests_test_manifest_SOURCES = backup/tests/test_manifest.c
backup_tests_test_manifest_CPPFLAGS = $(AM_CPPFLAGS) $(ICSBACKUP_CPPFLAGS) -I$(top_srcdir)/backup
backup_tests_test_manifest_CFLAGS = $(ICS_TEST_CFLAGS)
backup_tests_test_manifest_LDADD = $(ICSBACKUP_LIBS) $(CMOCKA_LIBS)
backup_tests_test_repository_SOURCES = backup/tests/test_repository.c
backup_tests_test_repository_CPPFLAGS = $(AM_CPPFLAGS) $(ICSBACKUP_CPPFLAGS) -I$(top_srcdir)/backup
backup_tests_test_repository_CFLAGS = $(ICS_TEST_CFLAGS)
backup_tests_test_repository_LDADD = $(ICSBACKUP_LIBS) $(CMOCKA_LIBS)

EXTRA_DIST += backup/README.md docs/backup-format.md
