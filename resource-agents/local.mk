# resource-agents/local.mk: OCF agents in C (vm, pool, net, manager), thin
# mains over libocf (the OCF calling convention), libics and libicslock.
# Agents are built as resource-agents/ocf_ics_<type> and installed as
# $(ocfdir)/ics/<type> (configure: Pacemaker's OCF directory, whatever the
# prefix), the name Pacemaker looks up for ocf:ics:<type>.

noinst_LTLIBRARIES += resource-agents/libocf.la
resource_agents_libocf_la_SOURCES = resource-agents/ocf.c resource-agents/ocf.h
resource_agents_libocf_la_LIBADD = $(top_builddir)/lib/libics.la

# The pool agent's decisions, without libicslock (types only), so they are
# unit-tested on any machine.
noinst_LTLIBRARIES += resource-agents/libpoolhealth.la
resource_agents_libpoolhealth_la_SOURCES = \
	resource-agents/pool_config.c resource-agents/pool_config.h \
	resource-agents/pool_health.c resource-agents/pool_health.h
resource_agents_libpoolhealth_la_CPPFLAGS = $(AM_CPPFLAGS) $(ICSLOCK_CPPFLAGS)
resource_agents_libpoolhealth_la_LIBADD = resource-agents/libocf.la

# The vm agent's decisions (vm_logic.c) and libvirt calls (vm_runtime.c),
# shared by the agent and its tests.
noinst_LTLIBRARIES += resource-agents/libvmagent.la
resource_agents_libvmagent_la_SOURCES = \
	resource-agents/vm_logic.c resource-agents/vm_logic.h \
	resource-agents/vm_runtime.c resource-agents/vm_runtime.h
resource_agents_libvmagent_la_CPPFLAGS = $(AM_CPPFLAGS) $(ICSLOCK_CPPFLAGS) \
	$(ICSVMDEF_CPPFLAGS) $(LIBVIRT_CFLAGS)
resource_agents_libvmagent_la_LIBADD = resource-agents/libocf.la $(LIBVIRT_LIBS)

ocfexecdir = $(ocfdir)/ics
ocfexec_PROGRAMS = resource-agents/ocf_ics_pool resource-agents/ocf_ics_vm
ics_ocf_agents = pool vm

resource_agents_ocf_ics_vm_SOURCES = resource-agents/vm.c
resource_agents_ocf_ics_vm_CPPFLAGS = $(AM_CPPFLAGS) $(ICSLOCK_CPPFLAGS) \
	$(ICSBACKUP_CPPFLAGS) $(LIBVIRT_CFLAGS)
resource_agents_ocf_ics_vm_LDADD = resource-agents/libvmagent.la resource-agents/libocf.la \
	$(ICSBACKUP_LIBS) $(ICSLOCK_LIBS) $(LIBVIRT_LIBS)

resource_agents_ocf_ics_pool_SOURCES = resource-agents/pool.c
resource_agents_ocf_ics_pool_CPPFLAGS = $(AM_CPPFLAGS) $(ICSLOCK_CPPFLAGS)
resource_agents_ocf_ics_pool_LDADD = resource-agents/libpoolhealth.la \
	resource-agents/libocf.la $(ICSLOCK_LIBS)

# ocf_ics_<type> -> <type> in the OCF provider directory.
install-exec-hook: install-ocf-agents
install-ocf-agents:
	@for a in $(ics_ocf_agents); do \
	  echo " mv ocf_ics_$$a $(DESTDIR)$(ocfexecdir)/$$a"; \
	  mv -f "$(DESTDIR)$(ocfexecdir)/ocf_ics_$$a$(EXEEXT)" "$(DESTDIR)$(ocfexecdir)/$$a" || exit 1; \
	done
uninstall-hook: uninstall-ocf-agents
uninstall-ocf-agents:
	@for a in $(ics_ocf_agents); do rm -f "$(DESTDIR)$(ocfexecdir)/$$a"; done
.PHONY: install-ocf-agents uninstall-ocf-agents

ics_ra_tests = \
	resource-agents/tests/test_ocf \
	resource-agents/tests/test_pool_health \
	resource-agents/tests/test_pool_agent \
	resource-agents/tests/test_vm_logic \
	resource-agents/tests/test_vm_runtime
check_PROGRAMS += $(ics_ra_tests)
TESTS += $(ics_ra_tests)

resource_agents_tests_test_ocf_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/resource-agents
resource_agents_tests_test_ocf_CFLAGS = $(ICS_TEST_CFLAGS)
resource_agents_tests_test_ocf_LDADD = resource-agents/libocf.la $(ICS_TEST_LIBS)
resource_agents_tests_test_pool_health_CPPFLAGS = $(AM_CPPFLAGS) $(ICSLOCK_CPPFLAGS) \
	-I$(top_srcdir)/resource-agents
resource_agents_tests_test_pool_health_CFLAGS = $(ICS_TEST_CFLAGS)
resource_agents_tests_test_pool_health_LDADD = resource-agents/libpoolhealth.la \
	resource-agents/libocf.la $(ICSLOCK_LIBS) $(ICS_TEST_LIBS)

# Runs the built agent (built by "all" before check): needs neither sanlock nor a pool.
resource_agents_tests_test_pool_agent_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/resource-agents
resource_agents_tests_test_pool_agent_CFLAGS = $(ICS_TEST_CFLAGS)
resource_agents_tests_test_pool_agent_LDADD = $(ICS_TEST_LIBS)

# vm: pure decisions, and the libvirt calls against libvirt's in-process
# test driver (test:///default).
ics_vm_test_cppflags = $(AM_CPPFLAGS) $(ICSLOCK_CPPFLAGS) $(ICSVMDEF_CPPFLAGS) \
	$(LIBVIRT_CFLAGS) -I$(top_srcdir)/resource-agents
resource_agents_tests_test_vm_logic_CPPFLAGS = $(ics_vm_test_cppflags)
resource_agents_tests_test_vm_logic_CFLAGS = $(ICS_TEST_CFLAGS)
resource_agents_tests_test_vm_logic_LDADD = resource-agents/libvmagent.la \
	resource-agents/libocf.la $(ICSVMDEF_LIBS) $(LIBVIRT_LIBS) $(ICS_TEST_LIBS)
resource_agents_tests_test_vm_runtime_CPPFLAGS = $(ics_vm_test_cppflags)
resource_agents_tests_test_vm_runtime_CFLAGS = $(ICS_TEST_CFLAGS)
resource_agents_tests_test_vm_runtime_LDADD = resource-agents/libvmagent.la \
	resource-agents/libocf.la $(ICSVMDEF_LIBS) $(LIBVIRT_LIBS) $(ICS_TEST_LIBS)

EXTRA_DIST += resource-agents/README.md

# ---- manager: ocf:ics:manager and its quorum disk (docs/manager-ha.md) ----

# DRBD generation identifiers, the quorum-disk records, the start-alone
# decision and the health check (a request of libicsclient, client/):
# everything of the manager agent that is unit-tested without a cluster.
noinst_LTLIBRARIES += resource-agents/libmanagerha.la
resource_agents_libmanagerha_la_SOURCES = \
	resource-agents/drbd_gi.c resource-agents/drbd_gi.h \
	resource-agents/quorum_disk.c resource-agents/quorum_disk.h \
	resource-agents/manager_quorum.c resource-agents/manager_quorum.h \
	resource-agents/manager_health.c resource-agents/manager_health.h
resource_agents_libmanagerha_la_CPPFLAGS = $(AM_CPPFLAGS) $(ICSCLIENT_CPPFLAGS)
resource_agents_libmanagerha_la_LIBADD = $(top_builddir)/client/libicsclient.la \
	$(top_builddir)/lib/libics.la

ocfexec_PROGRAMS += resource-agents/ocf_ics_manager
ics_ocf_agents += manager
resource_agents_ocf_ics_manager_SOURCES = resource-agents/manager.c
resource_agents_ocf_ics_manager_CPPFLAGS = $(AM_CPPFLAGS) $(ICSLOCK_CPPFLAGS) \
	$(ICSCLIENT_CPPFLAGS) -DICS_SBINDIR='"$(sbindir)"'
resource_agents_ocf_ics_manager_LDADD = resource-agents/libmanagerha.la \
	resource-agents/libocf.la $(ICSCLIENT_LIBS) $(ICSLOCK_LIBS)

# Test fixture, not installed: a stand-in for ics-managerd that serves the
# same health endpoint (HTTPS, self-signed certificate in the state dir).
check_PROGRAMS += resource-agents/tests/fake-managerd
resource_agents_tests_fake_managerd_SOURCES = resource-agents/tests/fake-managerd.c \
	resource-agents/tests/tls_fixture.c resource-agents/tests/tls_fixture.h
resource_agents_tests_fake_managerd_CPPFLAGS = $(AM_CPPFLAGS) $(MHD_CFLAGS) $(GNUTLS_CFLAGS)
resource_agents_tests_fake_managerd_LDADD = $(top_builddir)/lib/libics.la $(MHD_LIBS) \
	$(GNUTLS_LIBS)

ics_manager_ra_tests = \
	resource-agents/tests/test_drbd_gi \
	resource-agents/tests/test_quorum_disk \
	resource-agents/tests/test_manager_quorum \
	resource-agents/tests/test_manager_health \
	resource-agents/tests/test_manager_agent
check_PROGRAMS += $(ics_manager_ra_tests)
TESTS += $(ics_manager_ra_tests)

noinst_HEADERS += resource-agents/tests/drbd_fixture.h
ics_manager_test_cppflags = $(AM_CPPFLAGS) $(ICSCLIENT_CPPFLAGS) -I$(top_srcdir)/resource-agents
ics_manager_test_ldadd = resource-agents/libmanagerha.la $(ICSCLIENT_LIBS) $(ICS_TEST_LIBS)
resource_agents_tests_test_drbd_gi_CPPFLAGS = $(ics_manager_test_cppflags)
resource_agents_tests_test_drbd_gi_CFLAGS = $(ICS_TEST_CFLAGS)
resource_agents_tests_test_drbd_gi_LDADD = $(ics_manager_test_ldadd)
resource_agents_tests_test_quorum_disk_CPPFLAGS = $(ics_manager_test_cppflags)
resource_agents_tests_test_quorum_disk_CFLAGS = $(ICS_TEST_CFLAGS)
resource_agents_tests_test_quorum_disk_LDADD = $(ics_manager_test_ldadd)
resource_agents_tests_test_manager_quorum_CPPFLAGS = $(ics_manager_test_cppflags)
resource_agents_tests_test_manager_quorum_CFLAGS = $(ICS_TEST_CFLAGS)
resource_agents_tests_test_manager_quorum_LDADD = $(ics_manager_test_ldadd)
resource_agents_tests_test_manager_health_SOURCES = resource-agents/tests/test_manager_health.c \
	resource-agents/tests/tls_fixture.c resource-agents/tests/tls_fixture.h
resource_agents_tests_test_manager_health_CPPFLAGS = $(ics_manager_test_cppflags) \
	$(MHD_CFLAGS) $(GNUTLS_CFLAGS)
resource_agents_tests_test_manager_health_CFLAGS = $(ICS_TEST_CFLAGS)
resource_agents_tests_test_manager_health_LDADD = $(ics_manager_test_ldadd) $(MHD_LIBS) \
	$(GNUTLS_LIBS)
# Runs the built agent with the fake daemon (both built before check).
resource_agents_tests_test_manager_agent_SOURCES = resource-agents/tests/test_manager_agent.c \
	resource-agents/tests/tls_fixture.c resource-agents/tests/tls_fixture.h
resource_agents_tests_test_manager_agent_CPPFLAGS = $(ics_manager_test_cppflags) $(GNUTLS_CFLAGS)
resource_agents_tests_test_manager_agent_CFLAGS = $(ICS_TEST_CFLAGS)
resource_agents_tests_test_manager_agent_LDADD = $(ics_manager_test_ldadd) $(GNUTLS_LIBS)
