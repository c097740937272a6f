# vmdef/local.mk: libicsvmdef, the ICS VM definition (metadata vm.json,
# libvirt domain XML generated from it, and their files on the pool).

noinst_LTLIBRARIES += vmdef/libicsvmdef.la
vmdef_libicsvmdef_la_SOURCES = \
	vmdef/vm_meta.c \
	vmdef/domain_xml.c \
	vmdef/vm_store.c
vmdef_libicsvmdef_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/vmdef/include
vmdef_libicsvmdef_la_LIBADD = $(top_builddir)/lib/libics.la
noinst_HEADERS += vmdef/include/ics/vmdef.h

# What a program using libicsvmdef links with.
ICSVMDEF_CPPFLAGS = -I$(top_srcdir)/vmdef/include
ICSVMDEF_LIBS = $(top_builddir)/vmdef/libicsvmdef.la $(ICS_LIBS)

ics_vmdef_tests = \
	vmdef/tests/test_vm_meta \
	vmdef/tests/test_domain_xml \
	vmdef/tests/test_vm_store \
	vmdef/tests/test_vm_meta_fuzz
check_PROGRAMS += $(ics_vmdef_tests)
TESTS += $(ics_vmdef_tests)

ics_vmdef_test_cppflags = $(AM_CPPFLAGS) $(ICSVMDEF_CPPFLAGS)
vmdef_tests_test_vm_meta_SOURCES = vmdef/tests/test_vm_meta.c vmdef/tests/vmdef_test_util.h
vmdef_tests_test_vm_meta_CPPFLAGS = $(ics_vmdef_test_cppflags)
vmdef_tests_test_vm_meta_CFLAGS = $(ICS_TEST_CFLAGS)
vmdef_tests_test_vm_meta_LDADD = $(ICSVMDEF_LIBS) $(CMOCKA_LIBS)
# The domain XML test also checks the XML against libvirt: its RelaxNG
# schema and its in-process test driver.
vmdef_tests_test_domain_xml_SOURCES = vmdef/tests/test_domain_xml.c vmdef/tests/vmdef_test_util.h
vmdef_tests_test_domain_xml_CPPFLAGS = $(ics_vmdef_test_cppflags) $(LIBVIRT_CFLAGS)
vmdef_tests_test_domain_xml_CFLAGS = $(ICS_TEST_CFLAGS)
vmdef_tests_test_domain_xml_LDADD = $(ICSVMDEF_LIBS) $(LIBVIRT_LIBS) $(CMOCKA_LIBS)
vmdef_tests_test_vm_store_SOURCES = vmdef/tests/test_vm_store.c vmdef/tests/vmdef_test_util.h
vmdef_tests_test_vm_store_CPPFLAGS = $(ics_vmdef_test_cppflags)
vmdef_tests_test_vm_store_CFLAGS = $(ICS_TEST_CFLAGS)
vmdef_tests_test_vm_store_LDADD = $(ICSVMDEF_LIBS) $(CMOCKA_LIBS)
vmdef_tests_test_vm_meta_fuzz_SOURCES = vmdef/tests/test_vm_meta_fuzz.c vmdef/tests/vmdef_test_util.h
vmdef_tests_test_vm_meta_fuzz_CPPFLAGS = $(ics_vmdef_test_cppflags)
vmdef_tests_test_vm_meta_fuzz_CFLAGS = $(ICS_TEST_CFLAGS)
vmdef_tests_test_vm_meta_fuzz_LDADD = $(ICSVMDEF_LIBS) $(CMOCKA_LIBS)

EXTRA_DIST += vmdef/README.md docs/vm-definition.md
