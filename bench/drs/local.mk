# bench/drs/local.mk: the DRS benchmark (ICS engine against Ganeti's hbal).
# A Python 3 driver over the built ics-drs; never part of `make check`.
EXTRA_DIST += bench/drs/bench-drs bench/drs/README.md
