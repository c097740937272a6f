/*
 * fence_args.c: parse fence-agent options from stdin and the command line.
 *
 * Values are kept in four string tables: strong keys from the command line,
 * strong keys from stdin, and the same two for weak aliases (such as
 * "nodename" for "port", which Pacemaker passes alongside the real port and
 * which must never override it).  A lookup walks the tables in that order,
 * which is the whole precedence rule; nothing is merged or copied.
 *
 * The stdin parser is deliberately strict about size (a fence agent reads
 * input from a local daemon; megabytes of it mean something is wrong) and
 * lenient about content, like fence-agents: what it does not understand it
 * warns about and skips, so a Pacemaker upgrade that adds a key does not
 * break fencing.
 */
#include "config.h"

#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fence_args.h"
#include "ics/error.h"
#include "ics/log.h"

struct FenceArgs {
	const FenceParam *params;
	GHashTable *argv_strong;
	GHashTable *stdin_strong;
	GHashTable *argv_weak;
	GHashTable *stdin_weak;
	gboolean help;
};

static const char *const action_names[] = {
	[FENCE_ACTION_ON] = "on",
	[FENCE_ACTION_OFF] = "off",
	[FENCE_ACTION_REBOOT] = "reboot",
	[FENCE_ACTION_STATUS] = "status",
	[FENCE_ACTION_LIST] = "list",
	[FENCE_ACTION_MONITOR] = "monitor",
	[FENCE_ACTION_METADATA] = "metadata",
	[FENCE_ACTION_VALIDATE_ALL] = "validate-all",
};

const char *fence_action_name(FenceAction action)
{
	if ((unsigned)action >= G_N_ELEMENTS(action_names))
		return "unknown";
	return action_names[action];
}

gboolean fence_action_parse(const char *name, FenceAction *action)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(action_names); i++) {
		if (g_strcmp0(name, action_names[i]) == 0) {
			*action = (FenceAction)i;
			return TRUE;
		}
	}
	/* Older spellings fence-agents still accepts. */
	if (g_strcmp0(name, "meta-data") == 0) {
		*action = FENCE_ACTION_METADATA;
		return TRUE;
	}
	return FALSE;
}

static GHashTable *new_table(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

FenceArgs *fence_args_new(const FenceParam *params)
{
	FenceArgs *args = g_new0(FenceArgs, 1);

	args->params = params;
	args->argv_strong = new_table();
	args->stdin_strong = new_table();
	args->argv_weak = new_table();
	args->stdin_weak = new_table();
	return args;
}

void fence_args_free(FenceArgs *args)
{
	if (args == NULL)
		return;
	g_hash_table_destroy(args->argv_strong);
	g_hash_table_destroy(args->stdin_strong);
	g_hash_table_destroy(args->argv_weak);
	g_hash_table_destroy(args->stdin_weak);
	g_free(args);
}

static const FenceParam *find_param(const FenceArgs *args, const char *name)
{
	for (const FenceParam *p = args->params; p->name != NULL; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

static void store(FenceArgs *args, const FenceParam *p, const char *value, gboolean from_argv)
{
	GHashTable *table;
	const char *key = p->canonical ? p->canonical : p->name;

	if (from_argv)
		table = p->weak ? args->argv_weak : args->argv_strong;
	else
		table = p->weak ? args->stdin_weak : args->stdin_strong;
	g_hash_table_replace(table, g_strdup(key), g_strdup(value));
}

gboolean fence_args_parse_text(FenceArgs *args, const char *text, gsize len, GError **error)
{
	gsize pos = 0;
	unsigned lineno = 0;

	if (len > FENCE_ARGS_MAX_INPUT) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "input on stdin is %" G_GSIZE_FORMAT " bytes, more than the %d allowed",
			    len, FENCE_ARGS_MAX_INPUT);
		return FALSE;
	}
	if (memchr(text, '\0', len) != NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "input on stdin contains a NUL byte");
		return FALSE;
	}

	while (pos < len) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		gsize linelen = nl ? (gsize)(nl - start) : len - pos;
		g_autofree char *line = NULL;
		const FenceParam *p;
		char *eq, *key, *value;

		pos += linelen + (nl ? 1 : 0);
		lineno++;
		if (linelen > FENCE_ARGS_MAX_LINE) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
				    "line %u on stdin is longer than %d bytes", lineno,
				    FENCE_ARGS_MAX_LINE);
			return FALSE;
		}
		line = g_strstrip(g_strndup(start, linelen));
		if (line[0] == '\0' || line[0] == '#')
			continue;
		eq = strchr(line, '=');
		if (eq == NULL || eq == line) {
			ics_warning(
				"ignoring malformed line %u on stdin: '%s' (expected key=value)",
				lineno, line);
			continue;
		}
		*eq = '\0';
		key = g_strchomp(line);
		value = g_strstrip(eq + 1);
		p = find_param(args, key);
		if (p == NULL) {
			ics_warning("ignoring unknown option '%s' on stdin", key);
			continue;
		}
		store(args, p, value, FALSE);
	}
	return TRUE;
}

gboolean fence_args_parse_stream(FenceArgs *args, FILE *stream, GError **error)
{
	g_autofree char *buf = g_malloc(FENCE_ARGS_MAX_INPUT + 1);
	gsize len = 0;

	for (;;) {
		size_t n = fread(buf + len, 1, FENCE_ARGS_MAX_INPUT + 1 - len, stream);

		len += n;
		if (n == 0 || len > FENCE_ARGS_MAX_INPUT)
			break;
	}
	if (ferror(stream)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "cannot read options from stdin");
		return FALSE;
	}
	return fence_args_parse_text(args, buf, len, error);
}

gboolean fence_args_parse_argv(FenceArgs *args, int argc, char **argv, GError **error)
{
	g_autoptr(GArray) longopts = g_array_new(TRUE, TRUE, sizeof(struct option));
	g_autoptr(GString) shortopts = g_string_new(":h");
	struct option help = { "help", no_argument, NULL, 'h' };
	int opt, longindex;

	g_array_append_val(longopts, help);
	for (const FenceParam *p = args->params; p->name != NULL; p++) {
		if (p->short_opt) {
			g_string_append_c(shortopts, p->short_opt);
			if (!p->flag)
				g_string_append_c(shortopts, ':');
		}
		if (p->long_opt) {
			struct option o = { p->long_opt, p->flag ? no_argument : required_argument,
					    NULL, 0 };

			/* Long options without a short one are told apart by index. */
			o.val = p->short_opt ? p->short_opt : 256 + (int)(p - args->params);
			g_array_append_val(longopts, o);
		}
	}

	optind = 0; /* full reinitialisation: the parser may run more than once */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shortopts->str, (struct option *)longopts->data,
				  &longindex)) != -1) {
		const FenceParam *p = NULL;

		if (opt == 'h') {
			args->help = TRUE;
			continue;
		}
		if (opt == '?' || opt == ':') {
			const char *bad = argv[optind - 1];

			g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
				    opt == '?' ? "unknown option '%s'"
					       : "option '%s' needs a value",
				    bad ? bad : "?");
			return FALSE;
		}
		if (opt >= 256) {
			p = &args->params[opt - 256];
		} else {
			for (const FenceParam *q = args->params; q->name != NULL; q++)
				if (q->short_opt == opt)
					p = q;
		}
		g_assert(p != NULL);
		store(args, p, p->flag ? "1" : optarg, TRUE);
	}
	if (optind < argc) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "unexpected argument '%s'", argv[optind]);
		return FALSE;
	}
	return TRUE;
}

const char *fence_args_get(const FenceArgs *args, const char *key)
{
	GHashTable *order[] = { args->argv_strong, args->stdin_strong, args->argv_weak,
				args->stdin_weak };

	for (unsigned i = 0; i < G_N_ELEMENTS(order); i++) {
		const char *v = g_hash_table_lookup(order[i], key);

		if (v != NULL)
			return v;
	}
	return NULL;
}

const char *fence_args_get_or(const FenceArgs *args, const char *key, const char *def)
{
	const char *v = fence_args_get(args, key);

	return v ? v : def;
}

gboolean fence_args_get_bool(const FenceArgs *args, const char *key)
{
	const char *v = fence_args_get(args, key);
	static const char *const yes[] = { "", "1", "yes", "true", "on", "y" };

	if (v == NULL)
		return FALSE;
	for (unsigned i = 0; i < G_N_ELEMENTS(yes); i++)
		if (g_ascii_strcasecmp(v, yes[i]) == 0)
			return TRUE;
	return FALSE;
}

gboolean fence_args_help(const FenceArgs *args)
{
	return args->help;
}

gboolean fence_args_action(const FenceArgs *args, FenceAction *action, GError **error)
{
	const char *name = fence_args_get_or(args, "action", "reboot");
	g_autoptr(GString) valid = g_string_new(NULL);

	if (fence_action_parse(name, action))
		return TRUE;
	for (unsigned i = 0; i < G_N_ELEMENTS(action_names); i++)
		g_string_append_printf(valid, "%s%s", i ? " " : "", action_names[i]);
	g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT, "unknown action '%s' (valid: %s)",
		    name, valid->str);
	return FALSE;
}

static gboolean stdin_has_input(int argc)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };

	if (argc <= 1)
		return TRUE;
	if (isatty(STDIN_FILENO))
		return FALSE;
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLIN | POLLHUP));
}

int fence_agent_main(const char *agent, const FenceParam *params, void (*usage)(void),
		     FenceRunFunc run, int argc, char **argv)
{
	g_autoptr(FenceArgs) args = fence_args_new(params);
	g_autoptr(GError) error = NULL;
	FenceAction action;
	int rc;

	ics_log_init(agent, ICS_LOG_STDERR, ICS_LOG_NOTICE);
	if (!fence_args_parse_argv(args, argc, argv, &error)) {
		fprintf(stderr, "%s: %s (see %s -h)\n", agent, error->message, agent);
		return 1;
	}
	if (fence_args_help(args)) {
		usage();
		return 0;
	}
	if (stdin_has_input(argc) && !fence_args_parse_stream(args, stdin, &error)) {
		fprintf(stderr, "%s: %s\n", agent, error->message);
		return 1;
	}
	if (fence_args_get_bool(args, "verbose"))
		ics_log_init(agent, ICS_LOG_STDERR, ICS_LOG_DEBUG);
	if (!fence_args_action(args, &action, &error)) {
		fprintf(stderr, "%s: %s\n", agent, error->message);
		return 1;
	}
	ics_debug("action %s, node %s", fence_action_name(action),
		  fence_args_get_or(args, "port", "(none)"));
	rc = run(action, args, &error);
	if (error != NULL)
		fprintf(stderr, "%s: %s\n", agent, error->message);
	fflush(stdout);
	return rc;
}
