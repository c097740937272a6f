# manager/cluster/local.mk: the manager's cluster adapter (CIB through libcib).
