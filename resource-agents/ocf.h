/*
 * ocf.h: the OCF resource agent calling convention, for ICS agents in C.
 *
 * Pacemaker runs an agent as "AGENT ACTION" with the resource's parameters
 * in OCF_RESKEY_<name> variables and its own settings in
 * OCF_RESKEY_CRM_meta_<name>; the exit code is the answer and a failure is
 * explained by one "ocf-exit-reason:" line on stderr.  An ICS agent
 * describes itself once, in an OcfAgent table (parameters and actions), and
 * this module derives everything else from it: meta-data, usage, defaults,
 * required parameters, and the dispatch of an action name to its function.
 * That keeps meta-data and behaviour from drifting apart.
 *
 * Logging goes through ics/log.h to syslog (ident = agent name) and, as
 * Pacemaker captures an agent's stderr into its own log, to stderr too.
 */
#ifndef ICS_OCF_H
#define ICS_OCF_H

#include <stdio.h>

#include <glib.h>

#include "ics/log.h"

/* Exit codes (OCF resource agent API 1.1). */
enum {
	OCF_SUCCESS = 0,
	OCF_ERR_GENERIC = 1,
	OCF_ERR_ARGS = 2,
	OCF_ERR_UNIMPLEMENTED = 3,
	OCF_ERR_PERM = 4,
	OCF_ERR_INSTALLED = 5,
	OCF_ERR_CONFIGURED = 6,
	OCF_NOT_RUNNING = 7,
	OCF_RUNNING_PROMOTED = 8,
	OCF_FAILED_PROMOTED = 9,
};

/* Name of an exit code ("OCF_NOT_RUNNING"); "OCF_UNKNOWN" otherwise. */
const char *ocf_rc_name(int rc);

/* Parameter types of the meta-data DTD (ra-api-1.dtd). */
typedef enum {
	OCF_TYPE_STRING,
	OCF_TYPE_INTEGER,
	OCF_TYPE_BOOLEAN,
	OCF_TYPE_TIME,
} OcfParamType;

typedef struct {
	const char *name;
	OcfParamType type;
	const char *def;       /* default value, NULL for none */
	gboolean required;
	gboolean unique;
	const char *shortdesc;
	const char *longdesc;
} OcfParam;

typedef struct OcfAgent OcfAgent;

/* An action's implementation; returns an OCF exit code. */
typedef int (*OcfActionFn)(const OcfAgent *agent);

typedef struct {
	const char *name;      /* "start", "monitor", ... */
	OcfActionFn run;       /* NULL: advertised only ("meta-data" is built in) */
	guint timeout_s;       /* recommended timeout, in meta-data */
	guint interval_s;      /* recommended interval (monitor), 0 = none */
	int depth;             /* OCF_CHECK_LEVEL advertised, -1 = none */
} OcfAction;

struct OcfAgent {
	const char *name;      /* "pool": the type in ocf:ics:<name> */
	const char *version;
	const char *shortdesc;
	const char *longdesc;
	const OcfParam *params;   /* terminated by name == NULL */
	const OcfAction *actions; /* terminated by name == NULL */
};

/* ---- parameters and environment --------------------------------------- */

/* OCF_RESKEY_<name>, NULL when unset or empty. */
const char *ocf_param_raw(const char *name);

/* The parameter's value, or its default from @agent's table (may be NULL). */
const char *ocf_param(const OcfAgent *agent, const char *name);

/* Parse an OCF boolean (1/0, yes/no, true/false, on/off; case-insensitive).
 * ICS_ERROR_INVALID_ARGUMENT naming @name otherwise. */
gboolean ocf_parse_bool(const char *name, const char *value, gboolean *out, GError **error);

/* Parse an unsigned integer within [min, max] with an error naming @name. */
gboolean ocf_parse_uint(const char *name, const char *value, guint64 min, guint64 max,
			guint64 *out, GError **error);

/* Every required parameter of @agent is set; otherwise an error naming the
 * missing one. */
gboolean ocf_check_required(const OcfAgent *agent, GError **error);

/* OCF_RESOURCE_INSTANCE, or the agent name when unset (manual runs). */
const char *ocf_resource_instance(const OcfAgent *agent);

/* The action being run (set by ocf_main), NULL before. */
const char *ocf_current_action(void);

/* A probe: monitor with OCF_RESKEY_CRM_meta_interval = 0. */
gboolean ocf_is_probe(void);

/* OCF_RESKEY_CRM_meta_timeout (ms) when set and valid, else @def_ms. */
guint ocf_timeout_ms(guint def_ms);

/* ---- reporting -------------------------------------------------------- */

/* Print "ocf-exit-reason:<message>" on stderr (one line: newlines become
 * spaces) and log it as an error. */
void ocf_exit_reason(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* Log to syslog and stderr, prefixed with the resource instance. */
void ocf_log(IcsLogLevel level, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* ---- meta-data, usage, dispatch --------------------------------------- */

/* The meta-data XML (ra-api-1.dtd), g_free it. */
char *ocf_metadata_xml(const OcfAgent *agent);

void ocf_print_usage(const OcfAgent *agent, FILE *out);

/*
 * Run the action named by argv[1]: "meta-data" prints the meta-data,
 * "usage"/"help" the usage; an action of the table runs its function;
 * an unknown action is OCF_ERR_UNIMPLEMENTED, no action prints the usage
 * and is OCF_ERR_ARGS.  Initializes logging first.  Returns the exit code.
 */
int ocf_main(const OcfAgent *agent, int argc, char **argv);

#endif /* ICS_OCF_H */
