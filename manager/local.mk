# manager/local.mk: ics-managerd -- store, HTTPS server, REST API, users and
# security, audit, tasks, events, VM inventory.  All modules are a
# convenience library so the unit tests link exactly what the daemon runs.
# (manager/cluster/ and manager/drs/ have their own local.mk.)

noinst_LTLIBRARIES += manager/libicsmanager.la
manager_libicsmanager_la_SOURCES = \
	manager/api.h \
	manager/api_apikeys.c \
	manager/api_audit.c \
	manager/api_backups.c \
	manager/api_system.c \
	manager/api_backup_policies.c \
	manager/api_console.c \
	manager/api_directories.c \
	manager/api_dispatch.c \
	manager/api_drs.c \
	manager/api_events.c \
	manager/api_health.c \
	manager/api_cluster.c \
	manager/api_hosts.c \
	manager/api_pools.c \
	manager/api_roles.c \
	manager/api_session.c \
	manager/api_tasks.c \
	manager/api_totp.c \
	manager/api_users.c \
	manager/api_vm_consoles.c \
	manager/api_vms.c \
	manager/api_volumes.c \
	manager/apikey.c \
	manager/audit.c \
	manager/authz.c \
	manager/authz_rules.c \
	manager/backup_repos.c \
	manager/backup_service.c \
	manager/backup_restore.c \
	manager/backup_policies.c \
	manager/system_backup.c \
	manager/system_backup_service.c \
	manager/periodic.c \
	manager/console_proxy.c \
	manager/console_ticket.c \
	manager/directory.c \
	manager/directory_ldap.c \
	manager/directory_sync.c \
	manager/drs_service.c \
	manager/events.c \
	manager/fence_events.c \
	manager/http_message.c \
	manager/http_router.c \
	manager/http_server.c \
	manager/login.c \
	manager/login_policy.c \
	manager/manager.c \
	manager/password.c \
	manager/rfb_auth.c \
	manager/request_schema.c \
	manager/seal.c \
	manager/session.c \
	manager/store.c \
	manager/store_schema.c \
	manager/task.c \
	manager/timestamp.c \
	manager/tls_cert.c \
	manager/totp.c \
	manager/users.c \
	manager/vm_inventory.c \
	manager/vm_paths.c \
	manager/vm_service.c \
	manager/vm_mirror.c \
	manager/volumes.c
manager_libicsmanager_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/manager/include $(ICSDRS_CPPFLAGS) \
	$(ICSBACKUP_CPPFLAGS) $(MHD_CFLAGS) $(SQLITE_CFLAGS) $(GNUTLS_CFLAGS) $(XCRYPT_CFLAGS) \
	$(LIBVIRT_CFLAGS) $(LIBXML_CFLAGS) $(LDAP_CFLAGS) $(OATH_CFLAGS) $(QRENCODE_CFLAGS) \
	$(CONSOLE_CPPFLAGS) $(NETTLE_CFLAGS) $(WSLAY_CFLAGS)
manager_libicsmanager_la_LIBADD = $(top_builddir)/backup/libicsbackup.la \
	$(top_builddir)/vmdef/libicsvmdef.la \
	$(top_builddir)/manager/drs/libicsdrs.la \
	$(top_builddir)/lib/libics.la $(MHD_LIBS) $(SQLITE_LIBS) $(GNUTLS_LIBS) $(XCRYPT_LIBS) \
	$(LIBVIRT_LIBS) $(LIBXML_LIBS) $(LDAP_LIBS) $(OATH_LIBS) $(QRENCODE_LIBS) \
	$(NETTLE_LIBS) $(WSLAY_LIBS)
noinst_HEADERS += \
	manager/include/ics/manager/apikey.h \
	manager/include/ics/manager/audit.h \
	manager/include/ics/manager/authz.h \
	manager/include/ics/manager/backup_repos.h \
	manager/include/ics/manager/backup_service.h \
	manager/include/ics/manager/backup_restore.h \
	manager/include/ics/manager/backup_policies.h \
	manager/include/ics/manager/system_backup.h \
	manager/include/ics/manager/system_backup_service.h \
	manager/include/ics/manager/periodic.h \
	manager/include/ics/manager/cluster_ops.h \
	manager/include/ics/manager/console_proxy.h \
	manager/include/ics/manager/console_ticket.h \
	manager/include/ics/manager/directory.h \
	manager/include/ics/manager/directory_ldap.h \
	manager/include/ics/manager/directory_sync.h \
	manager/include/ics/manager/drs_service.h \
	manager/include/ics/manager/events.h \
	manager/include/ics/manager/fence_events.h \
	manager/include/ics/manager/http.h \
	manager/include/ics/manager/login.h \
	manager/include/ics/manager/login_policy.h \
	manager/include/ics/manager/manager.h \
	manager/include/ics/manager/password.h \
	manager/include/ics/manager/request_schema.h \
	manager/include/ics/manager/rfb_auth.h \
	manager/include/ics/manager/seal.h \
	manager/include/ics/manager/session.h \
	manager/include/ics/manager/store.h \
	manager/include/ics/manager/task.h \
	manager/include/ics/manager/timestamp.h \
	manager/include/ics/manager/tls_cert.h \
	manager/include/ics/manager/totp.h \
	manager/include/ics/manager/users.h \
	manager/include/ics/manager/vm_inventory.h \
	manager/include/ics/manager/vm_paths.h \
	manager/include/ics/manager/vm_service.h \
	manager/include/ics/manager/vm_mirror.h \
	manager/include/ics/manager/volumes.h

# What a program using libicsmanager links with.
ICSMANAGER_CPPFLAGS = -I$(top_srcdir)/manager/include $(ICSBACKUP_CPPFLAGS) \
	$(MHD_CFLAGS) $(SQLITE_CFLAGS) $(GNUTLS_CFLAGS) $(OATH_CFLAGS) $(LDAP_CFLAGS)
ICSMANAGER_LIBS = $(top_builddir)/manager/libicsmanager.la $(ICSBACKUP_LIBS) \
	$(MHD_LIBS) $(SQLITE_LIBS) $(GNUTLS_LIBS) $(XCRYPT_LIBS) $(LIBVIRT_LIBS) $(LIBXML_LIBS) \
	$(LDAP_LIBS) $(OATH_LIBS) $(QRENCODE_LIBS) $(NETTLE_LIBS) $(WSLAY_LIBS)

# The cluster adapter plugged into the manager (IcsClusterOps over
# libicscluster and vmpool/'s libicsvmpool): its own library, so the core
# and its tests do not link libcib.
noinst_LTLIBRARIES += manager/libicsmgrcluster.la
manager_libicsmgrcluster_la_SOURCES = \
	manager/cluster_service_internal.h \
	manager/cluster_service.c \
	manager/cluster_vms.c \
	manager/cluster_vm_view.c \
	manager/cluster_hosts.c \
	manager/cluster_summary.c \
	manager/cluster_lease.c \
	manager/cluster_backup.c \
	manager/cluster_load.c
manager_libicsmgrcluster_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/manager/include \
	$(ICSCLUSTER_CPPFLAGS) $(ICSVMPOOL_CPPFLAGS) $(ICSBACKUP_CPPFLAGS) $(CIB_CFLAGS) $(LIBVIRT_CFLAGS)
manager_libicsmgrcluster_la_LIBADD = $(top_builddir)/manager/cluster/libicscluster.la \
	$(top_builddir)/vmpool/libicsvmpool.la
noinst_HEADERS += manager/include/ics/manager/cluster_service.h

ICSMGRCLUSTER_CPPFLAGS = $(ICSCLUSTER_CPPFLAGS) $(ICSVMPOOL_CPPFLAGS)
ICSMGRCLUSTER_LIBS = $(top_builddir)/manager/libicsmgrcluster.la $(ICSCLUSTER_LIBS) \
	$(ICSVMPOOL_LIBS)

sbin_PROGRAMS += manager/ics-managerd
manager_ics_managerd_SOURCES = manager/ics-managerd.c
manager_ics_managerd_CPPFLAGS = $(AM_CPPFLAGS) $(ICSMANAGER_CPPFLAGS) $(ICSMGRCLUSTER_CPPFLAGS) \
	-DICS_MANAGER_DEFAULT_CONFIG='"$(sysconfdir)/ics/managerd.conf"'
manager_ics_managerd_LDADD = $(ICSMGRCLUSTER_LIBS) $(ICSMANAGER_LIBS)

# The default configuration (every key commented out, showing its default),
# installed unless one is there already (an operator's is never replaced),
# and a systemd unit for a standalone manager (configure
# --with-systemdsystemunitdir; "no": none).
EXTRA_DIST += manager/dist/managerd.conf manager/dist/ics-managerd.service.in
icsconfdir = $(sysconfdir)/ics
install-data-local: install-managerd-conf
uninstall-local: uninstall-managerd-conf
install-managerd-conf:
	$(MKDIR_P) "$(DESTDIR)$(icsconfdir)"
	@if test -f "$(DESTDIR)$(icsconfdir)/managerd.conf"; then \
	  echo " $(DESTDIR)$(icsconfdir)/managerd.conf exists: kept"; \
	else \
	  echo " $(INSTALL_DATA) managerd.conf $(DESTDIR)$(icsconfdir)/managerd.conf"; \
	  $(INSTALL_DATA) "$(srcdir)/manager/dist/managerd.conf" "$(DESTDIR)$(icsconfdir)/managerd.conf"; \
	fi
# Only an unchanged copy is removed.
uninstall-managerd-conf:
	@if cmp -s "$(srcdir)/manager/dist/managerd.conf" "$(DESTDIR)$(icsconfdir)/managerd.conf"; then \
	  rm -f "$(DESTDIR)$(icsconfdir)/managerd.conf"; \
	fi
.PHONY: install-managerd-conf uninstall-managerd-conf

if HAVE_SYSTEMD_UNITDIR
systemdsystemunit_DATA = manager/ics-managerd.service
CLEANFILES += manager/ics-managerd.service
manager/ics-managerd.service: $(srcdir)/manager/dist/ics-managerd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) manager && sed -e 's|@sbindir[@]|$(sbindir)|g' \
	  -e 's|@sysconfdir[@]|$(sysconfdir)|g' "$(srcdir)/manager/dist/ics-managerd.service.in" > $@.tmp && mv $@.tmp $@
endif

EXTRA_DIST += manager/README.md manager/tests/lab-manager.test manager/tests/lab-volumes.test manager/tests/lab-drs.test

icsmgr_tests = \
	manager/tests/test_store \
	manager/tests/test_password \
	manager/tests/test_session \
	manager/tests/test_authz \
	manager/tests/test_audit \
	manager/tests/test_bad_input \
	manager/tests/test_apikey \
	manager/tests/test_tasks \
	manager/tests/test_events \
	manager/tests/test_openapi \
	manager/tests/test_request_fuzz \
	manager/tests/test_volumes \
	manager/tests/test_backups \
	manager/tests/test_system_backup \
	manager/tests/test_backup_policies \
	manager/tests/test_console \
	manager/tests/test_console_proxy \
	manager/tests/test_concurrency \
	manager/tests/test_limits \
	manager/tests/test_vm_service \
	manager/tests/test_vm_mirror \
	manager/tests/test_tls \
	manager/tests/test_drs_service \
	manager/tests/test_totp \
	manager/tests/test_directory
check_PROGRAMS += $(icsmgr_tests)
TESTS += $(icsmgr_tests)

icsmgr_test_cppflags = $(AM_CPPFLAGS) $(ICSMANAGER_CPPFLAGS) $(CURL_CFLAGS)
icsmgr_test_libs = $(ICSMANAGER_LIBS) $(CURL_LIBS) $(CMOCKA_LIBS)
manager_tests_test_store_SOURCES = manager/tests/test_store.c manager/tests/mgr_test_util.h
manager_tests_test_store_CPPFLAGS = $(icsmgr_test_cppflags)
manager_tests_test_store_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_store_LDADD = $(icsmgr_test_libs)
manager_tests_test_console_proxy_SOURCES = manager/tests/test_console_proxy.c \
	manager/tests/mgr_test_util.h
manager_tests_test_console_proxy_CPPFLAGS = $(icsmgr_test_cppflags) $(WSLAY_CFLAGS)
manager_tests_test_console_proxy_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_console_proxy_LDADD = $(icsmgr_test_libs)
manager_tests_test_password_SOURCES = manager/tests/test_password.c
manager_tests_test_password_CPPFLAGS = $(icsmgr_test_cppflags)
manager_tests_test_password_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_password_LDADD = $(icsmgr_test_libs)
manager_tests_test_session_SOURCES = manager/tests/test_session.c manager/tests/mgr_test_util.h
manager_tests_test_session_CPPFLAGS = $(icsmgr_test_cppflags)
manager_tests_test_session_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_session_LDADD = $(icsmgr_test_libs)
manager_tests_test_authz_SOURCES = manager/tests/test_authz.c manager/tests/mgr_test_util.h
manager_tests_test_authz_CPPFLAGS = $(icsmgr_test_cppflags)
manager_tests_test_authz_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_authz_LDADD = $(icsmgr_test_libs)
manager_tests_test_audit_SOURCES = manager/tests/test_audit.c manager/tests/mgr_test_util.h
manager_tests_test_audit_CPPFLAGS = $(icsmgr_test_cppflags)
manager_tests_test_audit_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_audit_LDADD = $(icsmgr_test_libs)
manager_tests_test_bad_input_SOURCES = manager/tests/test_bad_input.c manager/tests/mgr_test_util.h
manager_tests_test_bad_input_CPPFLAGS = $(icsmgr_test_cppflags)
manager_tests_test_bad_input_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_bad_input_LDADD = $(icsmgr_test_libs)
manager_tests_test_apikey_SOURCES = manager/tests/test_apikey.c manager/tests/mgr_test_util.h
manager_tests_test_apikey_CPPFLAGS = $(icsmgr_test_cppflags)
manager_tests_test_apikey_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_apikey_LDADD = $(icsmgr_test_libs)
manager_tests_test_tasks_SOURCES = manager/tests/test_tasks.c manager/tests/mgr_test_util.h
manager_tests_test_tasks_CPPFLAGS = $(icsmgr_test_cppflags)
manager_tests_test_tasks_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_tasks_LDADD = $(icsmgr_test_libs)
manager_tests_test_events_SOURCES = manager/tests/test_events.c manager/tests/mgr_test_util.h
manager_tests_test_events_CPPFLAGS = $(icsmgr_test_cppflags)
manager_tests_test_events_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_events_LDADD = $(icsmgr_test_libs)
# The conformance test reads docs/openapi.yaml and the route tables (api.h).
manager_tests_test_openapi_SOURCES = manager/tests/test_openapi.c manager/tests/mgr_test_util.h
manager_tests_test_openapi_CPPFLAGS = $(icsmgr_test_cppflags) -I$(top_srcdir)/manager \
	$(YAML_CFLAGS)
manager_tests_test_openapi_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_openapi_LDADD = $(icsmgr_test_libs) $(YAML_LIBS)
manager_tests_test_concurrency_SOURCES = manager/tests/test_concurrency.c manager/tests/mgr_test_util.h
manager_tests_test_concurrency_CPPFLAGS = $(icsmgr_test_cppflags)
manager_tests_test_concurrency_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_concurrency_LDADD = $(icsmgr_test_libs)
manager_tests_test_limits_SOURCES = manager/tests/test_limits.c manager/tests/mgr_test_util.h
manager_tests_test_limits_CPPFLAGS = $(icsmgr_test_cppflags)
manager_tests_test_limits_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_limits_LDADD = $(icsmgr_test_libs)
manager_tests_test_vm_service_SOURCES = manager/tests/test_vm_service.c manager/tests/mgr_test_util.h
manager_tests_test_vm_service_CPPFLAGS = $(icsmgr_test_cppflags)
manager_tests_test_vm_service_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_vm_service_LDADD = $(icsmgr_test_libs)
manager_tests_test_vm_mirror_SOURCES = manager/tests/test_vm_mirror.c manager/tests/mgr_test_util.h
manager_tests_test_vm_mirror_CPPFLAGS = $(icsmgr_test_cppflags)
manager_tests_test_vm_mirror_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_vm_mirror_LDADD = $(icsmgr_test_libs)
manager_tests_test_console_SOURCES = manager/tests/test_console.c manager/tests/mgr_test_util.h
manager_tests_test_console_CPPFLAGS = $(icsmgr_test_cppflags)
manager_tests_test_console_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_console_LDADD = $(icsmgr_test_libs)
manager_tests_test_backups_SOURCES = manager/tests/test_backups.c manager/tests/mgr_test_util.h
manager_tests_test_backups_CPPFLAGS = $(icsmgr_test_cppflags)
manager_tests_test_backups_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_backups_LDADD = $(icsmgr_test_libs)
manager_tests_test_backup_policies_SOURCES = manager/tests/test_backup_policies.c \
	manager/tests/mgr_test_util.h
manager_tests_test_backup_policies_CPPFLAGS = $(icsmgr_test_cppflags)
manager_tests_test_backup_policies_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_backup_policies_LDADD = $(icsmgr_test_libs)
manager_tests_test_system_backup_SOURCES = manager/tests/test_system_backup.c \
	manager/tests/mgr_test_util.h
manager_tests_test_system_backup_CPPFLAGS = $(icsmgr_test_cppflags)
manager_tests_test_system_backup_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_system_backup_LDADD = $(icsmgr_test_libs)
manager_tests_test_volumes_SOURCES = manager/tests/test_volumes.c manager/tests/mgr_test_util.h
manager_tests_test_volumes_CPPFLAGS = $(icsmgr_test_cppflags)
manager_tests_test_volumes_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_volumes_LDADD = $(icsmgr_test_libs)
manager_tests_test_tls_SOURCES = manager/tests/test_tls.c manager/tests/mgr_test_util.h
manager_tests_test_tls_CPPFLAGS = $(icsmgr_test_cppflags)
manager_tests_test_tls_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_tls_LDADD = $(icsmgr_test_libs)
manager_tests_test_drs_service_SOURCES = manager/tests/test_drs_service.c \
	manager/tests/mgr_test_util.h
manager_tests_test_drs_service_CPPFLAGS = $(icsmgr_test_cppflags)
manager_tests_test_drs_service_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_drs_service_LDADD = $(icsmgr_test_libs)
manager_tests_test_totp_SOURCES = manager/tests/test_totp.c manager/tests/mgr_test_util.h
manager_tests_test_totp_CPPFLAGS = $(icsmgr_test_cppflags)
manager_tests_test_totp_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_totp_LDADD = $(icsmgr_test_libs)
manager_tests_test_directory_SOURCES = manager/tests/test_directory.c \
	manager/tests/mgr_test_util.h manager/tests/slapd_test_util.h
manager_tests_test_directory_CPPFLAGS = $(icsmgr_test_cppflags)
manager_tests_test_directory_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_directory_LDADD = $(icsmgr_test_libs)
# The cluster adapter plugged into the manager, on libcib's file variant
# with the adapter's captured fixtures.
check_PROGRAMS += manager/tests/test_cluster_service
TESTS += manager/tests/test_cluster_service
manager_tests_test_cluster_service_SOURCES = manager/tests/test_cluster_service.c
manager_tests_test_cluster_service_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/manager/include \
	-I$(top_srcdir)/manager $(ICSMGRCLUSTER_CPPFLAGS) $(CIB_CFLAGS) $(LIBVIRT_CFLAGS) \
	-DICS_CLUSTER_TEST_DATA='"$(abs_top_srcdir)/manager/cluster/tests/data"'
manager_tests_test_cluster_service_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_cluster_service_LDADD = $(ICSMGRCLUSTER_LIBS) $(CMOCKA_LIBS)
# The fuzz target's function, driven by a fixed-seed mutation loop.
manager_tests_test_request_fuzz_SOURCES = manager/tests/test_request_fuzz.c \
	manager/fuzz/fuzz_request.c
manager_tests_test_request_fuzz_CPPFLAGS = $(icsmgr_test_cppflags) -I$(top_srcdir)/manager
manager_tests_test_request_fuzz_CFLAGS = $(ICS_TEST_CFLAGS)
manager_tests_test_request_fuzz_LDADD = $(icsmgr_test_libs)

# The libFuzzer target itself, built with clang by the script, when clang
# is there.
if HAVE_CLANG
TESTS += manager/fuzz/run-fuzz
endif
EXTRA_DIST += manager/fuzz/run-fuzz \
	manager/fuzz/corpus/login manager/fuzz/corpus/migrate manager/fuzz/corpus/password \
	manager/fuzz/corpus/role manager/fuzz/corpus/traversal manager/fuzz/corpus/user \
	manager/fuzz/corpus/user_update manager/fuzz/corpus/vm manager/fuzz/corpus/vm_update
