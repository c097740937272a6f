/*
 * fence_ics_lab.c: the power switch of the ICS single-machine lab, as a
 * fence agent.
 *
 * Lab nodes are namespaces on one host, so "power" is the lab CLI killing
 * or restarting a node's processes.  This agent runs inside a node's own
 * network and mount namespaces (it is started by that node's fenced), where
 * the other nodes' processes cannot be reached.  It therefore does nothing
 * itself: it checks its arguments against the lab and delegates to
 *
 *     nsenter -t <anchor pid> -m -- <LAB_DIR>/ics-lab power <op> <port>
 *
 * where the anchor is a process the lab keeps in the host's root mount
 * namespace.  The lab directory holds "anchor.pid", "nodes" (one name per
 * line) and "ics-lab".  Exit codes follow fence-agents: 0 success, 1
 * failure, and for status 0 = on, 2 = off.  Every failure is one line on
 * stderr saying what failed and on what.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fence_args.h"
#include "ics/error.h"
#include "ics/exec.h"
#include "ics/log.h"

#define AGENT "fence_ics_lab"
#define DEFAULT_LAB_DIR "/var/tmp/ics-lab/ics"
#define DEFAULT_POWER_TIMEOUT_S 60.0
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_STATUS_OFF 2

static const FenceParam params[] = {
	{ "action", NULL, FALSE, 'o', "action", FALSE },
	{ "option", "action", FALSE, 0, NULL, FALSE },
	{ "port", NULL, FALSE, 'n', "plug", FALSE },
	{ "plug", "port", FALSE, 0, NULL, FALSE },
	{ "nodename", "port", TRUE, 0, NULL, FALSE },
	{ "lab_dir", NULL, FALSE, 0, "lab-dir", FALSE },
	{ "power_timeout", NULL, FALSE, 0, "power-timeout", FALSE },
	{ "verbose", NULL, FALSE, 'v', "verbose", TRUE },
	{ NULL, NULL, FALSE, 0, NULL, FALSE },
};

typedef struct {
	const char *dir;
	char *ics_lab;	  /* LAB_DIR/ics-lab */
	GPtrArray *nodes; /* of char*, from LAB_DIR/nodes */
	pid_t anchor;
	guint timeout_ms;
} Lab;

static void lab_clear(Lab *lab)
{
	g_free(lab->ics_lab);
	if (lab->nodes)
		g_ptr_array_unref(lab->nodes);
	memset(lab, 0, sizeof(*lab));
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Lab, lab_clear)

static void print_metadata(void)
{
	fputs("<?xml version=\"1.0\" ?>\n"
	      "<resource-agent name=\"" AGENT
	      "\" shortdesc=\"Fence agent for the ICS single-machine lab\">\n"
	      "<longdesc>fence_ics_lab powers lab nodes of the ICS cluster test suite on and off. "
	      "Lab nodes are namespaces on one machine; the agent asks the lab CLI, run in the "
	      "host's root mount namespace, to kill or restart a node's processes.</longdesc>\n"
	      "<vendor-url>https://example.invalid/ics</vendor-url>\n"
	      "<parameters>\n"
	      "\t<parameter name=\"action\" unique=\"0\" required=\"1\">\n"
	      "\t\t<getopt mixed=\"-o, --action=[action]\" />\n"
	      "\t\t<content type=\"string\" default=\"reboot\" />\n"
	      "\t\t<shortdesc lang=\"en\">Fencing action</shortdesc>\n"
	      "\t</parameter>\n"
	      "\t<parameter name=\"port\" unique=\"0\" required=\"0\">\n"
	      "\t\t<getopt mixed=\"-n, --plug=[name]\" />\n"
	      "\t\t<content type=\"string\" />\n"
	      "\t\t<shortdesc lang=\"en\">Lab node to act on (required for on, off, reboot and "
	      "status)</shortdesc>\n"
	      "\t</parameter>\n"
	      "\t<parameter name=\"plug\" unique=\"0\" required=\"0\" obsoletes=\"port\">\n"
	      "\t\t<getopt mixed=\"-n, --plug=[name]\" />\n"
	      "\t\t<content type=\"string\" />\n"
	      "\t\t<shortdesc lang=\"en\">Lab node to act on (alias of port)</shortdesc>\n"
	      "\t</parameter>\n"
	      "\t<parameter name=\"lab_dir\" unique=\"0\" required=\"0\">\n"
	      "\t\t<getopt mixed=\"--lab-dir=[dir]\" />\n"
	      "\t\t<content type=\"string\" default=\"" DEFAULT_LAB_DIR "\" />\n"
	      "\t\t<shortdesc lang=\"en\">Lab directory holding anchor.pid, nodes and "
	      "ics-lab</shortdesc>\n"
	      "\t</parameter>\n"
	      "\t<parameter name=\"power_timeout\" unique=\"0\" required=\"0\">\n"
	      "\t\t<getopt mixed=\"--power-timeout=[seconds]\" />\n"
	      "\t\t<content type=\"second\" default=\"60\" />\n"
	      "\t\t<shortdesc lang=\"en\">Seconds to wait for one lab power operation</shortdesc>\n"
	      "\t</parameter>\n"
	      "\t<parameter name=\"verbose\" unique=\"0\" required=\"0\">\n"
	      "\t\t<getopt mixed=\"-v, --verbose\" />\n"
	      "\t\t<content type=\"boolean\" />\n"
	      "\t\t<shortdesc lang=\"en\">Verbose mode: log the lab commands on "
	      "stderr</shortdesc>\n"
	      "\t</parameter>\n"
	      "</parameters>\n"
	      "<actions>\n"
	      "\t<action name=\"on\" automatic=\"0\" />\n"
	      "\t<action name=\"off\" />\n"
	      "\t<action name=\"reboot\" />\n"
	      "\t<action name=\"status\" />\n"
	      "\t<action name=\"list\" />\n"
	      "\t<action name=\"monitor\" />\n"
	      "\t<action name=\"metadata\" />\n"
	      "\t<action name=\"validate-all\" />\n"
	      "</actions>\n"
	      "</resource-agent>\n",
	      stdout);
}

static void print_usage(void)
{
	printf("Usage: " AGENT " [-o ACTION] [-n NODE] [--lab-dir DIR] [--power-timeout S] [-v]\n"
	       "       " AGENT
	       " < key=value lines (action, port, lab_dir, power_timeout, verbose)\n"
	       "\n"
	       "Fence agent for the ICS single-machine lab.\n"
	       "\n"
	       "  -o, --action=ACTION      on, off, reboot, status, list, monitor, metadata,\n"
	       "                           validate-all (default: reboot)\n"
	       "  -n, --plug=NODE          lab node to act on\n"
	       "      --lab-dir=DIR        lab directory (default: " DEFAULT_LAB_DIR ")\n"
	       "      --power-timeout=S    seconds per lab power operation (default: 60)\n"
	       "  -v, --verbose            log what is run\n"
	       "  -h, --help               show this help\n"
	       "\n"
	       "Exit status: 0 success (status: on), 1 failure, 2 status: off.\n");
}

static gboolean parse_timeout(const char *text, guint *ms, GError **error)
{
	char *end = NULL;
	double s;

	errno = 0;
	s = g_ascii_strtod(text, &end);
	if (errno != 0 || end == text || *end != '\0' || !(s > 0) || s > 86400) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "power_timeout '%s' is not a number of seconds between 0 and 86400",
			    text);
		return FALSE;
	}
	*ms = (guint)(s * 1000.0 + 0.5);
	if (*ms == 0)
		*ms = 1;
	return TRUE;
}

static GPtrArray *read_nodes(const char *path, GError **error)
{
	g_autofree char *text = NULL;
	g_autoptr(GError) ferr = NULL;
	g_auto(GStrv) lines = NULL;
	GPtrArray *nodes;

	if (!g_file_get_contents(path, &text, NULL, &ferr)) {
		g_set_error(error, ICS_ERROR,
			    g_error_matches(ferr, G_FILE_ERROR, G_FILE_ERROR_NOENT)
				    ? ICS_ERROR_NOT_FOUND
				    : ICS_ERROR_IO,
			    "cannot read the lab's node list: %s", ferr->message);
		return NULL;
	}
	nodes = g_ptr_array_new_with_free_func(g_free);
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l != NULL; l++) {
		char *name = g_strstrip(*l);

		if (name[0] != '\0' && name[0] != '#')
			g_ptr_array_add(nodes, g_strdup(name));
	}
	if (nodes->len == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "the lab's node list %s is empty", path);
		g_ptr_array_unref(nodes);
		return NULL;
	}
	return nodes;
}

static gboolean read_anchor(const char *path, pid_t *pid, GError **error)
{
	g_autofree char *text = NULL;
	g_autoptr(GError) ferr = NULL;
	char *end = NULL;
	gint64 v;

	if (!g_file_get_contents(path, &text, NULL, &ferr)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE, "lab is not running: %s",
			    ferr->message);
		return FALSE;
	}
	g_strstrip(text);
	v = g_ascii_strtoll(text, &end, 10);
	if (end == text || *end != '\0' || v <= 1 || v > G_MAXINT32) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
			    "%s does not hold a process id: '%s'", path, text);
		return FALSE;
	}
	if (kill((pid_t)v, 0) < 0 && errno == ESRCH) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "lab is not running: anchor process %" G_GINT64_FORMAT
			    " from %s is gone",
			    v, path);
		return FALSE;
	}
	*pid = (pid_t)v;
	return TRUE;
}

/* Load the lab directory: node list, anchor, lab CLI.  @need_anchor is
 * FALSE for actions that only read the node list. */
static gboolean lab_open(Lab *lab, const FenceArgs *args, gboolean need_anchor, GError **error)
{
	g_autofree char *nodes_path = NULL;
	g_autofree char *anchor_path = NULL;
	const char *timeout = fence_args_get(args, "power_timeout");

	lab->dir = fence_args_get_or(args, "lab_dir", DEFAULT_LAB_DIR);
	lab->timeout_ms = (guint)(DEFAULT_POWER_TIMEOUT_S * 1000);
	if (timeout != NULL && !parse_timeout(timeout, &lab->timeout_ms, error))
		return FALSE;
	if (!g_file_test(lab->dir, G_FILE_TEST_IS_DIR)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "lab directory %s does not exist (set lab_dir)", lab->dir);
		return FALSE;
	}
	nodes_path = g_build_filename(lab->dir, "nodes", NULL);
	lab->nodes = read_nodes(nodes_path, error);
	if (lab->nodes == NULL)
		return FALSE;
	if (!need_anchor)
		return TRUE;

	anchor_path = g_build_filename(lab->dir, "anchor.pid", NULL);
	if (!read_anchor(anchor_path, &lab->anchor, error))
		return FALSE;
	lab->ics_lab = g_build_filename(lab->dir, "ics-lab", NULL);
	if (access(lab->ics_lab, X_OK) != 0) {
		ics_error_set_errno(error, errno, "lab CLI %s is not executable", lab->ics_lab);
		return FALSE;
	}
	return TRUE;
}

static gboolean lab_check_node(const Lab *lab, const char *port, GError **error)
{
	g_autoptr(GString) names = g_string_new(NULL);

	if (port == NULL || port[0] == '\0') {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "no node given (set port=NODE on stdin or use -n NODE)");
		return FALSE;
	}
	for (guint i = 0; i < lab->nodes->len; i++) {
		const char *n = g_ptr_array_index(lab->nodes, i);

		if (strcmp(n, port) == 0)
			return TRUE;
		g_string_append_printf(names, "%s%s", i ? " " : "", n);
	}
	g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND, "unknown node '%s' (lab has: %s)", port,
		    names->str);
	return FALSE;
}

/*
 * Run "ics-lab power OP PORT" in the anchor's namespaces: the host's mount
 * namespace and the switch's network namespace.  Not in this node's network
 * namespace: when Pacemaker has a node fence itself (no peer can), powering
 * it off kills every process of the node, and the lab command must survive
 * to finish -- for a reboot, to power the node on again.  The exit status
 * goes to @status.
 */
static gboolean lab_power(const Lab *lab, const char *op, const char *port, int *status,
			  GError **error)
{
	g_autofree char *pid = g_strdup_printf("%d", (int)lab->anchor);
	const char *argv[] = { ICS_NSENTER,  "-t",    pid, "-m", "-n", "--",
			       lab->ics_lab, "power", op,  port, NULL };
	IcsExecOptions opts = { .argv = argv, .timeout_ms = lab->timeout_ms };
	g_auto(IcsExecResult) res = { 0 };

	ics_debug("running: %s -t %s -m -n -- %s power %s %s", ICS_NSENTER, pid, lab->ics_lab, op,
		  port);
	if (!ics_exec_run(&opts, &res, error)) {
		ics_error_prefix(error, "power %s of node '%s': ", op, port);
		return FALSE;
	}
	ics_debug("ics-lab power %s %s: exit %d, stdout '%s', stderr '%s'", op, port,
		  res.exit_status, g_strstrip(res.out), g_strstrip(res.err));
	if (res.term_signal != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_EXEC,
			    "power %s of node '%s': lab CLI killed by signal %d", op, port,
			    res.term_signal);
		return FALSE;
	}
	*status = res.exit_status;
	return TRUE;
}

static gboolean expect_success(const Lab *lab, const char *op, const char *port, GError **error)
{
	int status = -1;

	if (!lab_power(lab, op, port, &status, error))
		return FALSE;
	if (status != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_EXEC,
			    "power %s of node '%s' failed: '%s power %s %s' exited with status %d",
			    op, port, lab->ics_lab, op, port, status);
		return FALSE;
	}
	return TRUE;
}

static int run_action(FenceAction action, const FenceArgs *args, GError **error)
{
	g_auto(Lab) lab = { 0 };
	const char *port = fence_args_get(args, "port");
	int status = -1;

	switch (action) {
	case FENCE_ACTION_METADATA:
		print_metadata();
		return EXIT_OK;

	case FENCE_ACTION_LIST:
		if (!lab_open(&lab, args, FALSE, error))
			return EXIT_FAIL;
		for (guint i = 0; i < lab.nodes->len; i++)
			printf("%s\n", (const char *)g_ptr_array_index(lab.nodes, i));
		return EXIT_OK;

	case FENCE_ACTION_VALIDATE_ALL:
		if (!lab_open(&lab, args, TRUE, error))
			return EXIT_FAIL;
		if (port != NULL && !lab_check_node(&lab, port, error))
			return EXIT_FAIL;
		return EXIT_OK;

	case FENCE_ACTION_MONITOR: {
		g_autofree char *pid = NULL;
		const char *argv[] = {
			ICS_NSENTER, "-t", NULL, "-m", "--", "test", "-x", NULL, NULL
		};
		IcsExecOptions opts = { .argv = argv };
		g_auto(IcsExecResult) res = { 0 };

		if (!lab_open(&lab, args, TRUE, error))
			return EXIT_FAIL;
		/* Reachable = we can enter the root mount namespace and see the CLI there. */
		pid = g_strdup_printf("%d", (int)lab.anchor);
		argv[2] = pid;
		argv[7] = lab.ics_lab;
		opts.timeout_ms = lab.timeout_ms;
		if (!ics_exec_run(&opts, &res, error)) {
			ics_error_prefix(error, "lab unreachable: ");
			return EXIT_FAIL;
		}
		if (res.exit_status != 0) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
				    "lab unreachable: cannot enter the mount namespace of anchor "
				    "process %d to run %s (exit %d%s%s)",
				    (int)lab.anchor, lab.ics_lab, res.exit_status,
				    res.err_len ? ": " : "", g_strstrip(res.err));
			return EXIT_FAIL;
		}
		return EXIT_OK;
	}

	case FENCE_ACTION_STATUS:
		if (!lab_open(&lab, args, TRUE, error) || !lab_check_node(&lab, port, error) ||
		    !lab_power(&lab, "status", port, &status, error))
			return EXIT_FAIL;
		if (status == 0) {
			printf("Status: ON\n");
			return EXIT_OK;
		}
		if (status == 2) {
			printf("Status: OFF\n");
			return EXIT_STATUS_OFF;
		}
		g_set_error(error, ICS_ERROR, ICS_ERROR_EXEC,
			    "power status of node '%s' failed: '%s power status %s' exited with "
			    "status %d",
			    port, lab.ics_lab, port, status);
		return EXIT_FAIL;

	case FENCE_ACTION_ON:
	case FENCE_ACTION_OFF:
		if (!lab_open(&lab, args, TRUE, error) || !lab_check_node(&lab, port, error))
			return EXIT_FAIL;
		if (!expect_success(&lab, action == FENCE_ACTION_ON ? "on" : "off", port, error))
			return EXIT_FAIL;
		return EXIT_OK;

	case FENCE_ACTION_REBOOT:
		if (!lab_open(&lab, args, TRUE, error) || !lab_check_node(&lab, port, error))
			return EXIT_FAIL;
		/* one lab call: it completes even if this agent runs on the node
		 * being rebooted and dies with it */
		if (!expect_success(&lab, "reboot", port, error))
			return EXIT_FAIL;
		return EXIT_OK;
	}
	g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT, "unsupported action");
	return EXIT_FAIL;
}

int main(int argc, char **argv)
{
	return fence_agent_main(AGENT, params, print_usage, run_action, argc, argv);
}
