# vmpool/local.mk: libicsvmpool -- what ICS writes for a VM to its pool and
# to the CIB, shared by ics-admin (cli/) and ics-managerd (manager/): the
# CIB objects of a VM as XML (GLib + libxml2, no libcib) with the rule of
# their resource ids, and the lease slot and definition files on the pool
# (over libicsvmdef and libicslock).

noinst_LTLIBRARIES += vmpool/libicsvmpool.la
vmpool_libicsvmpool_la_SOURCES = \
	vmpool/cib_objects.c \
	vmpool/vm_resource_id.c \
	vmpool/vm_on_pool.c
vmpool_libicsvmpool_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/vmpool/include \
	$(ICSVMDEF_CPPFLAGS) $(ICSLOCK_CPPFLAGS)
vmpool_libicsvmpool_la_LIBADD = $(top_builddir)/vmdef/libicsvmdef.la \
	$(top_builddir)/storage-lock/libicslock.la $(top_builddir)/lib/libics.la
noinst_HEADERS += vmpool/include/ics/cib_objects.h vmpool/include/ics/vm_on_pool.h

# What a program using libicsvmpool links with.
ICSVMPOOL_CPPFLAGS = -I$(top_srcdir)/vmpool/include $(ICSVMDEF_CPPFLAGS) $(ICSLOCK_CPPFLAGS)
ICSVMPOOL_LIBS = $(top_builddir)/vmpool/libicsvmpool.la $(ICSVMDEF_LIBS) $(ICSLOCK_LIBS)

ics_vmpool_tests = vmpool/tests/test_cib_objects vmpool/tests/test_vm_resource_id
check_PROGRAMS += $(ics_vmpool_tests)
TESTS += $(ics_vmpool_tests)

vmpool_tests_test_cib_objects_SOURCES = vmpool/tests/test_cib_objects.c
vmpool_tests_test_cib_objects_CPPFLAGS = $(AM_CPPFLAGS) $(ICSVMPOOL_CPPFLAGS)
vmpool_tests_test_cib_objects_CFLAGS = $(ICS_TEST_CFLAGS)
vmpool_tests_test_cib_objects_LDADD = $(ICSVMPOOL_LIBS) $(CMOCKA_LIBS)

vmpool_tests_test_vm_resource_id_SOURCES = vmpool/tests/test_vm_resource_id.c
vmpool_tests_test_vm_resource_id_CPPFLAGS = $(AM_CPPFLAGS) $(ICSVMPOOL_CPPFLAGS)
vmpool_tests_test_vm_resource_id_CFLAGS = $(ICS_TEST_CFLAGS)
vmpool_tests_test_vm_resource_id_LDADD = $(ICSVMPOOL_LIBS) $(CMOCKA_LIBS)
