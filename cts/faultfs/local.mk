# cts/faultfs/local.mk: ics-faultfs, a FUSE passthrough filesystem the lab
# mounts per node over the shared pool to fail that node's storage path on
# command (eio, hang, ro, enospc).  Lab tooling: built for 'make check', never
# installed.  faultfs.test proves it (root only; skips otherwise).

cts_faultfs_ics_faultfs_SOURCES = cts/faultfs/ics-faultfs.c
cts_faultfs_ics_faultfs_CFLAGS = $(AM_CFLAGS) $(FUSE3_CFLAGS)
cts_faultfs_ics_faultfs_LDADD = $(FUSE3_LIBS)

EXTRA_DIST += cts/faultfs/faultfs.test

if ENABLE_CTS
check_PROGRAMS += cts/faultfs/ics-faultfs
TESTS += cts/faultfs/faultfs.test
endif
