# client/local.mk: libicsclient, the C client of ics-managerd's REST API
# (the C SDK: docs/client-sdk.md).  Used by ics-admin (cli/) and the health
# probe of ocf:ics:manager (resource-agents/).

noinst_LTLIBRARIES += client/libicsclient.la
client_libicsclient_la_SOURCES = \
	client/rest_client.c \
	client/request_signature.c
client_libicsclient_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/client/include \
	$(CURL_CFLAGS) $(GNUTLS_CFLAGS)
client_libicsclient_la_LIBADD = $(top_builddir)/lib/libics.la $(CURL_LIBS) $(GNUTLS_LIBS)
noinst_HEADERS += client/include/ics/client.h client/include/ics/request_signature.h

# What a program using libicsclient links with.
ICSCLIENT_CPPFLAGS = -I$(top_srcdir)/client/include $(CURL_CFLAGS) $(GNUTLS_CFLAGS)
ICSCLIENT_LIBS = $(top_builddir)/client/libicsclient.la $(ICS_LIBS) $(CURL_LIBS) $(GNUTLS_LIBS)

# Against a real in-process ics-managerd (libicsmanager).
ics_client_tests = client/tests/test_rest_client
check_PROGRAMS += $(ics_client_tests)
TESTS += $(ics_client_tests)

ics_client_test_cppflags = $(AM_CPPFLAGS) $(ICSCLIENT_CPPFLAGS) $(ICSMANAGER_CPPFLAGS)
ics_client_test_libs = $(ICSCLIENT_LIBS) $(ICSMANAGER_LIBS) $(CMOCKA_LIBS)
client_tests_test_rest_client_SOURCES = client/tests/test_rest_client.c \
	client/tests/client_test_util.h
client_tests_test_rest_client_CPPFLAGS = $(ics_client_test_cppflags)
client_tests_test_rest_client_CFLAGS = $(ICS_TEST_CFLAGS)
client_tests_test_rest_client_LDADD = $(ics_client_test_libs)
