# manager/drs/local.mk: the DRS/DPM balancing engine (libicsdrs) and ics-drs.

noinst_LTLIBRARIES += manager/drs/libicsdrs.la
manager_drs_libicsdrs_la_SOURCES = \
	manager/drs/drs_internal.h \
	manager/drs/drs_model.c \
	manager/drs/drs_score.c \
	manager/drs/drs_plan.c \
	manager/drs/drs_dpm.c \
	manager/drs/drs_input.c
manager_drs_libicsdrs_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/manager/drs/include
manager_drs_libicsdrs_la_LIBADD = $(top_builddir)/lib/libics.la -lm
noinst_HEADERS += manager/drs/include/ics/drs.h

# What a program using libicsdrs links with.
ICSDRS_CPPFLAGS = -I$(top_srcdir)/manager/drs/include
ICSDRS_LIBS = $(top_builddir)/manager/drs/libicsdrs.la -lm $(ICS_LIBS)

bin_PROGRAMS += manager/drs/ics-drs
manager_drs_ics_drs_SOURCES = manager/drs/ics-drs.c
manager_drs_ics_drs_CPPFLAGS = $(AM_CPPFLAGS) $(ICSDRS_CPPFLAGS)
manager_drs_ics_drs_LDADD = $(ICSDRS_LIBS)

ics_drs_tests = \
	manager/drs/tests/test_drs_score \
	manager/drs/tests/test_drs_plan \
	manager/drs/tests/test_drs_dpm \
	manager/drs/tests/test_drs_input \
	manager/drs/tests/test_ics_drs_cli
check_PROGRAMS += $(ics_drs_tests)
TESTS += $(ics_drs_tests)

ics_drs_test_cppflags = $(AM_CPPFLAGS) $(ICSDRS_CPPFLAGS) -I$(top_srcdir)/manager/drs
manager_drs_tests_test_drs_score_SOURCES = manager/drs/tests/test_drs_score.c manager/drs/tests/drs_test_util.h
manager_drs_tests_test_drs_score_CPPFLAGS = $(ics_drs_test_cppflags)
manager_drs_tests_test_drs_score_CFLAGS = $(ICS_TEST_CFLAGS)
manager_drs_tests_test_drs_score_LDADD = $(ICSDRS_LIBS) $(CMOCKA_LIBS)
manager_drs_tests_test_drs_plan_SOURCES = manager/drs/tests/test_drs_plan.c manager/drs/tests/drs_test_util.h
manager_drs_tests_test_drs_plan_CPPFLAGS = $(ics_drs_test_cppflags)
manager_drs_tests_test_drs_plan_CFLAGS = $(ICS_TEST_CFLAGS)
manager_drs_tests_test_drs_plan_LDADD = $(ICSDRS_LIBS) $(CMOCKA_LIBS)
manager_drs_tests_test_drs_dpm_SOURCES = manager/drs/tests/test_drs_dpm.c manager/drs/tests/drs_test_util.h
manager_drs_tests_test_drs_dpm_CPPFLAGS = $(ics_drs_test_cppflags)
manager_drs_tests_test_drs_dpm_CFLAGS = $(ICS_TEST_CFLAGS)
manager_drs_tests_test_drs_dpm_LDADD = $(ICSDRS_LIBS) $(CMOCKA_LIBS)
manager_drs_tests_test_drs_input_SOURCES = manager/drs/tests/test_drs_input.c manager/drs/tests/drs_test_util.h
manager_drs_tests_test_drs_input_CPPFLAGS = $(ics_drs_test_cppflags)
manager_drs_tests_test_drs_input_CFLAGS = $(ICS_TEST_CFLAGS)
manager_drs_tests_test_drs_input_LDADD = $(ICSDRS_LIBS) $(CMOCKA_LIBS)
# Runs the built ics-drs ($ICS_BUILDDIR/manager/drs/ics-drs).
manager_drs_tests_test_ics_drs_cli_SOURCES = manager/drs/tests/test_ics_drs_cli.c manager/drs/tests/drs_test_util.h
manager_drs_tests_test_ics_drs_cli_CPPFLAGS = $(ics_drs_test_cppflags)
manager_drs_tests_test_ics_drs_cli_CFLAGS = $(ICS_TEST_CFLAGS)
manager_drs_tests_test_ics_drs_cli_LDADD = $(ICSDRS_LIBS) $(CMOCKA_LIBS)

EXTRA_DIST += manager/drs/tests/data/hbal-small.tsv
