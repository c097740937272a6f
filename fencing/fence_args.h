/*
 * fence_args.h: the fence-agents calling convention, for ICS fence agents.
 *
 * Pacemaker's fenced runs a fence agent with no arguments and writes its
 * options as "key=value" lines on stdin; operators run the same agent with
 * getopt options (-o off -n node2).  An agent describes its parameters once,
 * in a FenceParam table, and this module fills a FenceArgs from both
 * sources.  A value given on the command line wins over the same key on
 * stdin.  Unknown stdin keys are warned about and ignored (fence-agents
 * does the same, so a newer Pacemaker can pass keys an agent does not know).
 */
#ifndef ICS_FENCE_ARGS_H
#define ICS_FENCE_ARGS_H

#include <stdio.h>

#include <glib.h>

/* Limits on stdin input: a line and the whole input. */
#define FENCE_ARGS_MAX_LINE 4096
#define FENCE_ARGS_MAX_INPUT (64 * 1024)

typedef enum {
	FENCE_ACTION_ON,
	FENCE_ACTION_OFF,
	FENCE_ACTION_REBOOT,
	FENCE_ACTION_STATUS,
	FENCE_ACTION_LIST,
	FENCE_ACTION_MONITOR,
	FENCE_ACTION_METADATA,
	FENCE_ACTION_VALIDATE_ALL,
} FenceAction;

typedef struct {
	const char *name;      /* key on stdin, e.g. "plug" */
	const char *canonical; /* key it sets; NULL: @name itself */
	gboolean weak;	       /* alias used only when no strong key set @canonical */
	char short_opt;	       /* getopt short option, 0 for none */
	const char *long_opt;  /* getopt long option, NULL for none */
	gboolean flag;	       /* option takes no argument; sets the value "1" */
} FenceParam;

typedef struct FenceArgs FenceArgs;

/* @params is terminated by an entry with name NULL and must outlive the
 * FenceArgs.  "help" (-h/--help) is always understood on the command line. */
FenceArgs *fence_args_new(const FenceParam *params);
void fence_args_free(FenceArgs *args);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FenceArgs, fence_args_free)

/*
 * Parse stdin-style text.  Blank lines and lines starting with '#' are
 * skipped; whitespace around keys and values is removed; a later line wins
 * over an earlier one.  Lines without '=' or with an empty key and unknown
 * keys are warned about and skipped.  ICS_ERROR_INVALID_ARGUMENT for a line
 * longer than FENCE_ARGS_MAX_LINE, input longer than FENCE_ARGS_MAX_INPUT
 * or a NUL byte.
 */
gboolean fence_args_parse_text(FenceArgs *args, const char *text, gsize len, GError **error);

/* Read @stream to end of file (bounded by FENCE_ARGS_MAX_INPUT) and parse it. */
gboolean fence_args_parse_stream(FenceArgs *args, FILE *stream, GError **error);

/* Parse getopt options; argv[0] is the program.  Positional arguments and
 * unknown options are ICS_ERROR_INVALID_ARGUMENT. */
gboolean fence_args_parse_argv(FenceArgs *args, int argc, char **argv, GError **error);

/* Value of canonical key @key: command line, then stdin, then weak aliases
 * (command line, then stdin).  NULL when unset.  Borrowed. */
const char *fence_args_get(const FenceArgs *args, const char *key);

/* Like fence_args_get() with a default. */
const char *fence_args_get_or(const FenceArgs *args, const char *key, const char *def);

/* TRUE when the key is set to 1, yes, true, on or to the empty string (as
 * fence-agents treats "verbose" with no value). */
gboolean fence_args_get_bool(const FenceArgs *args, const char *key);

/* Was -h/--help given? */
gboolean fence_args_help(const FenceArgs *args);

/* The "action" key as a FenceAction; fence-agents' default "reboot" when
 * absent.  ICS_ERROR_INVALID_ARGUMENT naming the valid actions otherwise. */
gboolean fence_args_action(const FenceArgs *args, FenceAction *action, GError **error);

const char *fence_action_name(FenceAction action);
gboolean fence_action_parse(const char *name, FenceAction *action);

/*
 * The whole main() of a fence agent: parse argv, then stdin when Pacemaker
 * (or a pipe) provides it, honour -h and verbose, resolve the action and
 * call @run, printing any error as one "AGENT: message" line.  Options come
 * from stdin when there are no arguments, and also when arguments are given
 * and stdin already holds input or end of file -- never from a terminal or
 * an idle inherited pipe.  Returns the process exit status.
 */
typedef int (*FenceRunFunc)(FenceAction action, const FenceArgs *args, GError **error);
int fence_agent_main(const char *agent, const FenceParam *params, void (*usage)(void),
		     FenceRunFunc run, int argc, char **argv);

#endif /* ICS_FENCE_ARGS_H */
