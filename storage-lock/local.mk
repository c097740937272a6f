# storage-lock/local.mk: libicslock (lockspace and lease layout on libsanlock,
# fence-aware takeover) and the ics-lease inspection tool.
# Placeholder: nothing built yet.
EXTRA_DIST += storage-lock/README.md
