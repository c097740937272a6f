# docs/local.mk: man pages, user and operator documentation, OpenAPI spec.
# Man pages are listed here; the programs they document live elsewhere.
man_MANS += docs/fence_ics_lab.8 docs/ics-lease.8
EXTRA_DIST += docs/README.md docs/fence_ics_lab.8 docs/ics-lease.8 docs/lab.md docs/install.md
# Storage pools: the pool agent and storage fencing.
man_MANS += docs/ocf_ics_pool.7 docs/fence_ics_storage.8 docs/ocf_ics_vm.7
EXTRA_DIST += docs/ocf_ics_pool.7 docs/fence_ics_storage.8 docs/ocf_ics_vm.7 docs/storage-fencing.md \
	docs/lease-takeover.md docs/libvirt-lock-driver.md
man_MANS += docs/ics-admin.8
EXTRA_DIST += docs/ics-admin.8
# Backups: the standalone tool; the repository format is in backup/local.mk.
man_MANS += docs/ics-backup.8
EXTRA_DIST += docs/ics-backup.8
# The manager's cluster adapter.
EXTRA_DIST += docs/cluster-adapter.md
# The DRS/DPM engine and its file interface.
man_MANS += docs/ics-drs.1
EXTRA_DIST += docs/ics-drs.1 docs/drs.md
# The manager daemon: man page, API description, security design.
man_MANS += docs/ics-managerd.8
EXTRA_DIST += docs/ics-managerd.8 docs/openapi.yaml docs/manager-security.md docs/console-security.md
# Manager HA: the manager agent, its state backends and quorum disk.
man_MANS += docs/ocf_ics_manager.7
EXTRA_DIST += docs/ocf_ics_manager.7 docs/manager-ha.md docs/manager-backup.md
