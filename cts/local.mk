# cts/local.mk: the cluster test suite.  The lab (cts/lab), the runner
# (cts/ctslib), the scenarios (cts/scenarios) and `ics-cts` are Python 3
# (standard library only); they drive the real cluster daemons.  The one
# Python client of the manager's API, cts/ctslib/icsapi.py, is shared with
# bench/; cts/icsapi.test runs it against a real ics-managerd.  `make check`
# runs every scenario on a fresh 3-node lab as one TAP test; configure
# --disable-cts leaves it out (distcheck does: one lab per machine is enough).

CTS_FILES = \
	cts/README.md \
	cts/ics-cts \
	cts/cts.test \
	cts/lab-cli.test \
	cts/icsapi.test \
	cts/sampler.test \
	cts/lab/ics-lab \
	cts/lab/icslab.py \
	cts/ctslib/__init__.py \
	cts/ctslib/runner.py \
	cts/ctslib/icsapi.py \
	cts/scenarios/__init__.py \
	cts/scenarios/basic.py \
	cts/scenarios/storage.py \
	cts/scenarios/vm.py \
	cts/scenarios/backup.py \
	cts/scenarios/manager.py \
	cts/scenarios/manager_cert.py \
	cts/scenarios/inventory.py \
	cts/scenarios/console.py \
	cts/guest/README.md \
	cts/guest/build-guest \
	cts/guest/guest-disk \
	cts/guest/guest.test \
	cts/guest/guestdisk.py \
	cts/guest/read-disk

EXTRA_DIST += $(CTS_FILES)
CLEANFILES += cts-results.json
clean-local: clean-cts-artifacts
clean-cts-artifacts:
	-rm -rf cts-artifacts
.PHONY: clean-cts-artifacts

if ENABLE_CTS
TESTS += cts/sampler.test cts/icsapi.test cts/lab-cli.test cts/guest/guest.test cts/cts.test
TESTS += manager/cluster/tests/lab-cluster.test
TESTS += manager/tests/lab-manager.test
TESTS += manager/tests/lab-drs.test
TESTS += manager/tests/lab-volumes.test
endif
