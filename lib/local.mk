# lib/local.mk: libics, the library every ICS part links.  A libtool
# convenience library (noinst) so programs that link it are plain ELF
# executables, not libtool wrapper scripts.

noinst_LTLIBRARIES += lib/libics.la
lib_libics_la_SOURCES = \
	lib/cron.c \
	lib/error.c \
	lib/exec.c \
	lib/file.c \
	lib/json.c \
	lib/log.c \
	lib/xml.c
# ics/error.h is installed with the client SDK (client/local.mk).
noinst_HEADERS += \
	lib/include/ics/cron.h \
	lib/include/ics/exec.h \
	lib/include/ics/file.h \
	lib/include/ics/json.h \
	lib/include/ics/log.h \
	lib/include/ics/xml.h
lib_libics_la_LIBADD = $(GLIB_LIBS) $(LIBXML_LIBS) $(JANSSON_LIBS)

# What a program using libics links with.
ICS_LIBS = $(top_builddir)/lib/libics.la $(GLIB_LIBS) $(LIBXML_LIBS) $(JANSSON_LIBS)

ICS_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
ICS_TEST_LIBS = $(ICS_LIBS) $(CMOCKA_LIBS)

ics_lib_tests = \
	lib/tests/test_cron \
	lib/tests/test_error \
	lib/tests/test_exec \
	lib/tests/test_json \
	lib/tests/test_log \
	lib/tests/test_xml
check_PROGRAMS += $(ics_lib_tests)
TESTS += $(ics_lib_tests)

lib_tests_test_cron_CFLAGS = $(ICS_TEST_CFLAGS)
lib_tests_test_cron_LDADD = $(ICS_TEST_LIBS)
lib_tests_test_error_CFLAGS = $(ICS_TEST_CFLAGS)
lib_tests_test_error_LDADD = $(ICS_TEST_LIBS)
lib_tests_test_exec_CFLAGS = $(ICS_TEST_CFLAGS)
lib_tests_test_exec_LDADD = $(ICS_TEST_LIBS)
lib_tests_test_json_CFLAGS = $(ICS_TEST_CFLAGS)
lib_tests_test_json_LDADD = $(ICS_TEST_LIBS)
lib_tests_test_log_CFLAGS = $(ICS_TEST_CFLAGS)
lib_tests_test_log_LDADD = $(ICS_TEST_LIBS)
lib_tests_test_xml_CFLAGS = $(ICS_TEST_CFLAGS)
lib_tests_test_xml_LDADD = $(ICS_TEST_LIBS)

EXTRA_DIST += lib/README.md
