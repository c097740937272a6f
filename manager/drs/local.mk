# manager/drs/local.mk: the DRS/DPM balancing engine (libicsdrs) and ics-drs.
