# manager/local.mk: ics-managerd (store, cluster adapter, services, REST,
# scheduler, backup, alarms) and its web console assets under manager/ui/.
# Placeholder: nothing built yet.
EXTRA_DIST += manager/README.md
