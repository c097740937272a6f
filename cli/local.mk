# cli/local.mk: ics-admin, the command-line client.  The command layer and
# the direct (pool + CIB) backend are a convenience library so the unit
# tests link exactly what the program runs.

noinst_LTLIBRARIES += cli/libicsadmin.la
cli_libicsadmin_la_SOURCES = \
	cli/cib_ops.c cli/cib_ops.h \
	cli/vm_backend.h \
	cli/vm_direct.c \
	cli/vm_ops.h \
	cli/vm_direct_ops.c \
	cli/vm_managed.c \
	cli/vm_cmd.c cli/vm_cmd.h \
	cli/client_config.c cli/client_config.h \
	cli/api_cmd.c cli/api_cmd.h \
	cli/session_cmd.c \
	cli/account_cmd.c \
	cli/totp_cmd.c \
	cli/directory_cmd.c \
	cli/audit_cmd.c \
	cli/task_cmd.c \
	cli/manager_cmd.c \
	cli/drs_cmd.c \
	cli/manager_group.c cli/manager_group.h \
	cli/manager_ha.h cli/manager_ha_cmd.c \
	cli/manager_cert.c cli/manager_cert.h cli/manager_cert_cmd.c \
	cli/volume_cmd.c \
	cli/backup_cmd.c \
	cli/command_groups.c
cli_libicsadmin_la_CPPFLAGS = $(AM_CPPFLAGS) $(ICSVMPOOL_CPPFLAGS) $(ICSCLIENT_CPPFLAGS)
cli_libicsadmin_la_LIBADD = $(top_builddir)/client/libicsclient.la \
	$(top_builddir)/vmpool/libicsvmpool.la \
	$(top_builddir)/vmdef/libicsvmdef.la \
	$(top_builddir)/storage-lock/libicslock.la

ICSADMIN_LIBS = $(top_builddir)/cli/libicsadmin.la $(ICSCLIENT_LIBS) $(ICSVMPOOL_LIBS)

sbin_PROGRAMS += cli/ics-admin
cli_ics_admin_SOURCES = cli/ics-admin.c
cli_ics_admin_CPPFLAGS = $(AM_CPPFLAGS) $(ICSVMPOOL_CPPFLAGS) $(ICSCLIENT_CPPFLAGS)
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
	cli/tests/test_vm_resolve \
	cli/tests/test_admin_api \
	cli/tests/test_admin_identity \
	cli/tests/test_admin_drs \
	cli/tests/test_admin_volume \
	cli/tests/test_admin_backup \
	cli/tests/test_manager_group \
	cli/tests/test_manager_cert
check_PROGRAMS += $(ics_cli_tests)
TESTS += $(ics_cli_tests)

ics_cli_test_cppflags = $(AM_CPPFLAGS) $(ICSVMPOOL_CPPFLAGS) $(ICSCLIENT_CPPFLAGS) \
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
cli_tests_test_manager_group_SOURCES = cli/tests/test_manager_group.c
cli_tests_test_manager_group_CPPFLAGS = $(ics_cli_test_cppflags)
cli_tests_test_manager_group_CFLAGS = $(ICS_TEST_CFLAGS)
cli_tests_test_manager_group_LDADD = $(ICSADMIN_LIBS) $(CMOCKA_LIBS)

# The API commands against a real in-process ics-managerd (libicsmanager).
ics_cli_api_test_cppflags = $(ics_cli_test_cppflags) $(ICSMANAGER_CPPFLAGS) $(CURL_CFLAGS)
ics_cli_api_test_libs = $(ICSADMIN_LIBS) $(ICSMANAGER_LIBS) $(CURL_LIBS) $(CMOCKA_LIBS)
cli_tests_test_admin_api_SOURCES = cli/tests/test_admin_api.c cli/tests/admin_api_test_util.h
cli_tests_test_admin_api_CPPFLAGS = $(ics_cli_api_test_cppflags)
cli_tests_test_admin_api_CFLAGS = $(ICS_TEST_CFLAGS)
cli_tests_test_admin_api_LDADD = $(ics_cli_api_test_libs)
cli_tests_test_admin_identity_SOURCES = cli/tests/test_admin_identity.c \
	cli/tests/admin_api_test_util.h
cli_tests_test_admin_identity_CPPFLAGS = $(ics_cli_api_test_cppflags)
cli_tests_test_admin_identity_CFLAGS = $(ICS_TEST_CFLAGS)
cli_tests_test_admin_identity_LDADD = $(ics_cli_api_test_libs)
cli_tests_test_admin_volume_SOURCES = cli/tests/test_admin_volume.c \
	cli/tests/admin_api_test_util.h
cli_tests_test_admin_volume_CPPFLAGS = $(ics_cli_api_test_cppflags)
cli_tests_test_admin_volume_CFLAGS = $(ICS_TEST_CFLAGS)
cli_tests_test_admin_volume_LDADD = $(ics_cli_api_test_libs)
cli_tests_test_admin_backup_SOURCES = cli/tests/test_admin_backup.c \
	cli/tests/admin_api_test_util.h
cli_tests_test_admin_backup_CPPFLAGS = $(ics_cli_api_test_cppflags)
cli_tests_test_admin_backup_CFLAGS = $(ICS_TEST_CFLAGS)
cli_tests_test_admin_backup_LDADD = $(ics_cli_api_test_libs)
cli_tests_test_manager_cert_SOURCES = cli/tests/test_manager_cert.c \
	cli/tests/admin_api_test_util.h cli/tests/cert_test_util.h
cli_tests_test_manager_cert_CPPFLAGS = $(ics_cli_api_test_cppflags)
cli_tests_test_manager_cert_CFLAGS = $(ICS_TEST_CFLAGS)
cli_tests_test_manager_cert_LDADD = $(ics_cli_api_test_libs)
cli_tests_test_admin_drs_SOURCES = cli/tests/test_admin_drs.c cli/tests/admin_api_test_util.h
cli_tests_test_admin_drs_CPPFLAGS = $(ics_cli_api_test_cppflags)
cli_tests_test_admin_drs_CFLAGS = $(ICS_TEST_CFLAGS)
cli_tests_test_admin_drs_LDADD = $(ics_cli_api_test_libs)

EXTRA_DIST += cli/README.md cli/ics-admin.bash-completion
