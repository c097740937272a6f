# bench/drs/local.mk: the DRS benchmark (ICS engine against Ganeti's hbal).
