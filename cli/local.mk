# cli/local.mk: ics-admin, the command-line client.  The command layer and
# the direct (pool + CIB) backend are a convenience library so the unit
# tests link exactly what the program runs.

noinst_LTLIBRARIES += cli/libicsadmin.la
cli_libicsadmin_la_SOURCES = \
	cli/cib_ops.c cli/cib_ops.h \
	cli/vm_backend.h \
	cli/vm_direct.c \
	cli/vm_cmd.c cli/vm_cmd.h
cli_libicsadmin_la_CPPFLAGS = $(AM_CPPFLAGS) $(ICSVMDEF_CPPFLAGS) $(ICSLOCK_CPPFLAGS) $(ICSCIBOBJ_CPPFLAGS)
cli_libicsadmin_la_LIBADD = $(top_builddir)/vmdef/libicsvmdef.la \
	$(top_builddir)/storage-lock/libicslock.la \
	$(top_builddir)/manager/cluster/libicscibobj.la

ICSADMIN_LIBS = $(top_builddir)/cli/libicsadmin.la $(ICSCIBOBJ_LIBS) $(ICSVMDEF_LIBS) $(ICSLOCK_LIBS)

sbin_PROGRAMS += cli/ics-admin
cli_ics_admin_SOURCES = cli/ics-admin.c
cli_ics_admin_CPPFLAGS = $(AM_CPPFLAGS) $(ICSVMDEF_CPPFLAGS) $(ICSLOCK_CPPFLAGS) $(ICSCIBOBJ_CPPFLAGS)
cli_ics_admin_LDADD = $(ICSADMIN_LIBS)

bashcompletiondir = $(datadir)/bash-completion/completions
install-data-local: install-ics-admin-completion
uninstall-local: uninstall-ics-admin-completion
install-ics-admin-completion:
	$(MKDIR_P) '$(DESTDIR)$(bashcompletiondir)'
	$(INSTALL_DATA) $(top_srcdir)/cli/ics-admin.bash-completion '$(DESTDIR)$(bashcompletiondir)/ics-admin'
uninstall-ics-admin-completion:
	rm -f '$(DESTDIR)$(bashcompletiondir)/ics-admin'
.PHONY: install-ics-admin-completion uninstall-ics-admin-completion

ics_cli_tests = \
	cli/tests/test_vm_args \
	cli/tests/test_cib_xml \
	cli/tests/test_vm_define \
	cli/tests/test_vm_resolve
check_PROGRAMS += $(ics_cli_tests)
TESTS += $(ics_cli_tests)

ics_cli_test_cppflags = $(AM_CPPFLAGS) $(ICSVMDEF_CPPFLAGS) $(ICSLOCK_CPPFLAGS) $(ICSCIBOBJ_CPPFLAGS) \
	-I$(top_srcdir)/cli
cli_tests_test_vm_args_SOURCES = cli/tests/test_vm_args.c cli/tests/cli_test_util.h
cli_tests_test_vm_args_CPPFLAGS = $(ics_cli_test_cppflags)
cli_tests_test_vm_args_CFLAGS = $(ICS_TEST_CFLAGS)
cli_tests_test_vm_args_LDADD = $(ICSADMIN_LIBS) $(CMOCKA_LIBS)
cli_tests_test_cib_xml_SOURCES = cli/tests/test_cib_xml.c cli/tests/cli_test_util.h
cli_tests_test_cib_xml_CPPFLAGS = $(ics_cli_test_cppflags)
cli_tests_test_cib_xml_CFLAGS = $(ICS_TEST_CFLAGS)
cli_tests_test_cib_xml_LDADD = $(ICSADMIN_LIBS) $(CMOCKA_LIBS)
cli_tests_test_vm_define_SOURCES = cli/tests/test_vm_define.c cli/tests/cli_test_util.h
cli_tests_test_vm_define_CPPFLAGS = $(ics_cli_test_cppflags)
cli_tests_test_vm_define_CFLAGS = $(ICS_TEST_CFLAGS)
cli_tests_test_vm_define_LDADD = $(ICSADMIN_LIBS) $(CMOCKA_LIBS)
cli_tests_test_vm_resolve_SOURCES = cli/tests/test_vm_resolve.c cli/tests/cli_test_util.h
cli_tests_test_vm_resolve_CPPFLAGS = $(ics_cli_test_cppflags)
cli_tests_test_vm_resolve_CFLAGS = $(ICS_TEST_CFLAGS)
cli_tests_test_vm_resolve_LDADD = $(ICSADMIN_LIBS) $(CMOCKA_LIBS)

EXTRA_DIST += cli/README.md cli/ics-admin.bash-completion
