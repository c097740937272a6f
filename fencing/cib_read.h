/*
 * cib_read.h: one query of the CIB's configuration section, as storage
 * fencing reads it (the local copy through libcib; CIB_file is honoured
 * like every Pacemaker tool, which the unit tests use).
 */
#ifndef ICS_FENCING_CIB_READ_H
#define ICS_FENCING_CIB_READ_H

#include <glib.h>
#include <libxml/tree.h>

/*
 * The <configuration> element of the local CIB (free_xml() it), with @what
 * naming the purpose in messages ("the cluster's pools").  UNAVAILABLE when
 * the CIB cannot be read.
 */
xmlNode *cib_read_configuration(const char *what, GError **error);

#endif
