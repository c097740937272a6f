# docs/local.mk: man pages, user and operator documentation, OpenAPI spec.
# Man pages are listed here; the programs they document live elsewhere.
man_MANS += docs/fence_ics_lab.8
EXTRA_DIST += docs/README.md docs/fence_ics_lab.8 docs/lab.md
