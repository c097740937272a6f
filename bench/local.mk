# bench/local.mk: benchmarks (Python 3 drivers over the real lab and the
# built programs).  They report medians; they are never part of `make check`.
EXTRA_DIST += bench/README.md bench/lab/bench-lab bench/storage/bench-storage bench/vm/bench-vm \
	bench/backup/bench-backup \
	bench/manager/bench-manager \
	bench/inventory/bench-inventory \
	bench/manager-ha/bench-manager-ha \
	bench/console/bench-console bench/console/console-bench.mjs bench/console/state_change.py
