# client/local.mk: libicsclient, the C client of ics-managerd's REST API --
# the C SDK (docs/client-sdk.md).  ics-admin (cli/) and the health check of
# ocf:ics:manager (resource-agents/) use it; it is installed with its headers (ics/client.h, ics/request_signature.h, and
# ics/error.h for the error codes) and a pkg-config file, ics-client.pc.
#
# The library carries libics's error domain (lib/error.c, whose header it
# installs) and nothing else of libics, so an installed libicsclient needs
# no uninstalled library.  Programs of this tree that also link libics get
# the same object twice in two static archives, which the linker resolves
# once.

lib_LTLIBRARIES += client/libicsclient.la
client_libicsclient_la_SOURCES = \
	client/client_internal.h \
	client/rest_client.c \
	client/event_stream.c \
	client/request_signature.c \
	client/tls_pin.c \
	lib/error.c
client_libicsclient_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/client/include \
	$(CURL_CFLAGS) $(GNUTLS_CFLAGS)
client_libicsclient_la_LIBADD = $(CURL_LIBS) $(GNUTLS_LIBS) $(JANSSON_LIBS) $(GLIB_LIBS)
# libtool's current:revision:age: a change of the interface bumps current
# (and age when only added to), a change of the code revision.
client_libicsclient_la_LDFLAGS = -version-info 0:0:0 \
	-export-symbols-regex '^(ics_rest_|ics_error_)'

icsincludedir = $(includedir)/ics
icsinclude_HEADERS = client/include/ics/client.h client/include/ics/request_signature.h \
	lib/include/ics/error.h

pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = client/ics-client.pc
EXTRA_DIST += client/ics-client.pc.in client/README.md docs/client-sdk.md

# What a program of this tree using libicsclient links with.
ICSCLIENT_CPPFLAGS = -I$(top_srcdir)/client/include $(CURL_CFLAGS) $(GNUTLS_CFLAGS)
ICSCLIENT_LIBS = $(top_builddir)/client/libicsclient.la $(CURL_LIBS) $(GNUTLS_LIBS) \
	$(JANSSON_LIBS) $(GLIB_LIBS)

# The SDK's example, built by 'make check' with what pkg-config gives an
# outside program (the headers as installed, no config.h, no libics) and
# run by test_rest_client against a real manager.
check_PROGRAMS += client/examples/list_vms
client_examples_list_vms_SOURCES = client/examples/list_vms.c
client_examples_list_vms_CPPFLAGS = -I$(top_srcdir)/client/include -I$(top_srcdir)/lib/include \
	$(GLIB_CFLAGS) $(JANSSON_CFLAGS)
client_examples_list_vms_LDADD = $(top_builddir)/client/libicsclient.la $(GLIB_LIBS) \
	$(JANSSON_LIBS) $(CURL_LIBS) $(GNUTLS_LIBS)

# After 'make install' (distcheck runs this): the example builds with the
# installed ics-client.pc alone, and runs (no manager there: exit 1).
installcheck-local: installcheck-ics-client
installcheck-ics-client:
	@if test -n '$(DESTDIR)'; then echo "ics-client.pc: not checked under DESTDIR"; exit 0; fi; \
	tmp=`mktemp -d` && \
	PKG_CONFIG_PATH='$(pkgconfigdir)' $(PKG_CONFIG) --exists --print-errors ics-client && \
	$(CC) $(CFLAGS) $(ICS_WARN_CFLAGS) -o "$$tmp/list_vms" $(top_srcdir)/client/examples/list_vms.c \
	  $(LDFLAGS) `PKG_CONFIG_PATH='$(pkgconfigdir)' $(PKG_CONFIG) --cflags --libs ics-client` && \
	{ ICS_URL=https://127.0.0.1:1 "$$tmp/list_vms" 2>"$$tmp/err"; test $$? = 1; } && \
	grep -q 'cannot reach the manager' "$$tmp/err" && \
	echo "ics-client.pc: the example builds and runs against the installed SDK"; \
	rc=$$?; rm -rf "$$tmp"; exit $$rc
.PHONY: installcheck-ics-client

# Against a real in-process ics-managerd (libicsmanager).
ics_client_tests = \
	client/tests/test_rest_client \
	client/tests/test_request_signature
check_PROGRAMS += $(ics_client_tests)
TESTS += $(ics_client_tests)

ics_client_test_cppflags = $(AM_CPPFLAGS) $(ICSCLIENT_CPPFLAGS) $(ICSMANAGER_CPPFLAGS)
ics_client_test_libs = $(ICSCLIENT_LIBS) $(ICSMANAGER_LIBS) $(CMOCKA_LIBS)
client_tests_test_rest_client_SOURCES = client/tests/test_rest_client.c \
	client/tests/client_test_util.h
client_tests_test_rest_client_CPPFLAGS = $(ics_client_test_cppflags)
client_tests_test_rest_client_CFLAGS = $(ICS_TEST_CFLAGS)
client_tests_test_rest_client_LDADD = $(ics_client_test_libs)
client_tests_test_request_signature_SOURCES = client/tests/test_request_signature.c \
	client/tests/client_test_util.h
client_tests_test_request_signature_CPPFLAGS = $(ics_client_test_cppflags)
client_tests_test_request_signature_CFLAGS = $(ICS_TEST_CFLAGS)
client_tests_test_request_signature_LDADD = $(ics_client_test_libs)
