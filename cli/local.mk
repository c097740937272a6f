# cli/local.mk: ics-admin, the command-line client.
# Placeholder: nothing built yet.
EXTRA_DIST += cli/README.md
