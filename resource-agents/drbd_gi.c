/*
 * drbd_gi.c: parsing DRBD generation identifiers from drbd-utils output.
 *
 * The parsers accept exactly what drbd-utils prints (see drbd_gi.h) and
 * reject anything else with the offending text in the message: a GI that
 * is misread would make the quorum-disk decision start a node that is
 * behind, so "could not read" must never turn into "zero" or "unknown
 * but fine".  The get-gi line is recognised by its shape (four 16-digit
 * hex fields then one-digit flags); dump-md is read line by line, keeping
 * only current-uuid, bitmap-uuid (v09) or the uuid block (v08), and the
 * history-uuids block (v09).
 */
#include "config.h"

#include <string.h>

#include "drbd_gi.h"
#include "ics/error.h"
#include "ics/exec.h"

#define DRBD_UUID_DIGITS 16

gboolean drbd_uuid_equal(guint64 a, guint64 b)
{
	return (a & DRBD_GI_UUID_MASK) == (b & DRBD_GI_UUID_MASK);
}

char *drbd_uuid_to_string(guint64 uuid)
{
	return g_strdup_printf("%016" G_GINT64_MODIFIER "X", uuid);
}

gboolean drbd_uuid_parse(const char *text, guint64 *out)
{
	const char *p = text;
	guint64 v = 0;

	if (g_str_has_prefix(p, "0x") || g_str_has_prefix(p, "0X"))
		p += 2;
	if (strlen(p) != DRBD_UUID_DIGITS)
		return FALSE;
	for (; *p != '\0'; p++) {
		if (!g_ascii_isxdigit(*p))
			return FALSE;
		v = v << 4 | (guint64)g_ascii_xdigit_value(*p);
	}
	*out = v;
	return TRUE;
}

static void add_unique(guint64 *arr, guint *n, guint max, guint64 uuid)
{
	if (uuid == 0 || *n >= max)
		return;
	for (guint i = 0; i < *n; i++)
		if (drbd_uuid_equal(arr[i], uuid))
			return;
	arr[(*n)++] = uuid;
}

gboolean drbd_gi_has_ancestor(const DrbdGi *gi, guint64 uuid)
{
	if ((uuid & DRBD_GI_UUID_MASK) == 0)
		return FALSE;
	for (guint i = 0; i < gi->n_bitmap; i++)
		if (drbd_uuid_equal(gi->bitmap[i], uuid))
			return TRUE;
	for (guint i = 0; i < gi->n_history; i++)
		if (drbd_uuid_equal(gi->history[i], uuid))
			return TRUE;
	return FALSE;
}

gboolean drbd_gi_knows(const DrbdGi *gi, guint64 uuid)
{
	if ((uuid & DRBD_GI_UUID_MASK) == 0)
		return FALSE;
	return drbd_uuid_equal(gi->current, uuid) || drbd_gi_has_ancestor(gi, uuid);
}

/* Is @line a get-gi line?  Fills @gi when it is. */
static gboolean parse_gi_fields(const char *line, DrbdGi *gi)
{
	g_auto(GStrv) f = g_strsplit(line, ":", -1);
	guint n = g_strv_length(f);
	guint64 u[4];

	/* v08: 4 UUIDs + 7 flags; v09: 4 UUIDs + 12 flags. */
	if (n != 11 && n != 16)
		return FALSE;
	for (guint i = 0; i < 4; i++)
		if (!drbd_uuid_parse(f[i], &u[i]) || g_str_has_prefix(f[i], "0x"))
			return FALSE;
	for (guint i = 4; i < n; i++)
		if (strcmp(f[i], "0") != 0 && strcmp(f[i], "1") != 0)
			return FALSE;
	memset(gi, 0, sizeof(*gi));
	gi->current = u[0];
	add_unique(gi->bitmap, &gi->n_bitmap, DRBD_GI_MAX_BITMAP, u[1]);
	add_unique(gi->history, &gi->n_history, DRBD_GI_MAX_HISTORY, u[2]);
	add_unique(gi->history, &gi->n_history, DRBD_GI_MAX_HISTORY, u[3]);
	return TRUE;
}

gboolean drbd_gi_parse_line(const char *text, DrbdGi *gi, GError **error)
{
	g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
	int found = 0;

	for (char **l = lines; *l != NULL; l++) {
		g_autofree char *line = g_strstrip(g_strdup(*l));
		DrbdGi tmp;

		if (parse_gi_fields(line, &tmp)) {
			if (found++ == 0)
				*gi = tmp;
		}
	}
	if (found == 1)
		return TRUE;
	if (found > 1) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
			    "DRBD get-gi output has %d GI lines, expected one", found);
		return FALSE;
	}
	g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
		    "no DRBD GI line (CURRENT:BITMAP:HISTORY1:HISTORY2:flags) in \"%.80s\"",
		    text ? text : "");
	return FALSE;
}

/* The "0x...;" tokens of @line, appended to @out; FALSE on anything else
 * than such tokens (and a trailing "}" for the closing line). */
static gboolean hex_tokens(const char *line, GArray *out)
{
	g_auto(GStrv) tok = g_strsplit_set(line, " \t", -1);

	for (char **t = tok; *t != NULL; t++) {
		gsize len = strlen(*t);
		guint64 v;

		if (len == 0)
			continue;
		if ((*t)[len - 1] != ';')
			return FALSE;
		(*t)[len - 1] = '\0';
		if (!g_str_has_prefix(*t, "0x") || !drbd_uuid_parse(*t, &v))
			return FALSE;
		g_array_append_val(out, v);
	}
	return TRUE;
}

/* "KEY 0x...;" -> value. */
static gboolean keyed_uuid(const char *line, const char *key, guint64 *out, gboolean *bad)
{
	gsize klen = strlen(key);
	g_autofree char *v = NULL;
	gsize len;

	if (strncmp(line, key, klen) != 0 || (line[klen] != ' ' && line[klen] != '\t'))
		return FALSE;
	v = g_strstrip(g_strdup(line + klen));
	len = strlen(v);
	if (len == 0 || v[len - 1] != ';' || (v[len - 1] = '\0', !drbd_uuid_parse(v, out)))
		*bad = TRUE;
	return TRUE;
}

typedef enum { BLOCK_NONE, BLOCK_V08_UUID, BLOCK_HISTORY } DumpBlock;

gboolean drbd_gi_parse_dump(const char *text, DrbdGi *gi, GError **error)
{
	g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
	g_autoptr(GArray) v08 = g_array_new(FALSE, FALSE, sizeof(guint64));
	g_autoptr(GArray) hist = g_array_new(FALSE, FALSE, sizeof(guint64));
	DumpBlock block = BLOCK_NONE;
	int version = 0;
	gboolean have_current = FALSE;
	guint lineno = 0;

	memset(gi, 0, sizeof(*gi));
	for (char **l = lines; *l != NULL; l++) {
		g_autofree char *line = g_strstrip(g_strdup(*l));
		gboolean bad = FALSE;
		guint64 v;

		lineno++;
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (block != BLOCK_NONE) {
			if (strcmp(line, "}") == 0) {
				block = BLOCK_NONE;
				continue;
			}
			if (block == BLOCK_V08_UUID && g_str_has_prefix(line, "flags "))
				continue;
			if (!hex_tokens(line, block == BLOCK_V08_UUID ? v08 : hist))
				goto bad_line;
			continue;
		}
		if (strcmp(line, "version \"v09\";") == 0) {
			version = 9;
		} else if (strcmp(line, "version \"v08\";") == 0) {
			version = 8;
		} else if (g_str_has_prefix(line, "version ")) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
				    "DRBD dump-md: unsupported metadata %s (v08 and v09 are)",
				    line);
			return FALSE;
		} else if (keyed_uuid(line, "current-uuid", &v, &bad)) {
			if (bad)
				goto bad_line;
			gi->current = v;
			have_current = TRUE;
		} else if (keyed_uuid(line, "bitmap-uuid", &v, &bad)) {
			if (bad)
				goto bad_line;
			add_unique(gi->bitmap, &gi->n_bitmap, DRBD_GI_MAX_BITMAP, v);
		} else if (strcmp(line, "history-uuids {") == 0) {
			block = BLOCK_HISTORY;
		} else if (strcmp(line, "uuid {") == 0) {
			block = BLOCK_V08_UUID;
		}
		continue;
	bad_line:
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
			    "DRBD dump-md line %u: cannot read \"%.80s\"", lineno, line);
		return FALSE;
	}
	if (block != BLOCK_NONE) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE, "DRBD dump-md: unterminated block");
		return FALSE;
	}
	if (version == 8) {
		if (v08->len != 4) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
				    "DRBD dump-md (v08): uuid block has %u UUIDs, expected 4",
				    v08->len);
			return FALSE;
		}
		gi->current = g_array_index(v08, guint64, 0);
		add_unique(gi->bitmap, &gi->n_bitmap, DRBD_GI_MAX_BITMAP,
			   g_array_index(v08, guint64, 1));
		add_unique(gi->history, &gi->n_history, DRBD_GI_MAX_HISTORY,
			   g_array_index(v08, guint64, 2));
		add_unique(gi->history, &gi->n_history, DRBD_GI_MAX_HISTORY,
			   g_array_index(v08, guint64, 3));
		return TRUE;
	}
	if (version != 9) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
			    "not DRBD dump-md output: no version line");
		return FALSE;
	}
	if (!have_current) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE,
			    "DRBD dump-md (v09): no current-uuid line");
		return FALSE;
	}
	for (guint i = 0; i < hist->len; i++)
		add_unique(gi->history, &gi->n_history, DRBD_GI_MAX_HISTORY,
			   g_array_index(hist, guint64, i));
	return TRUE;
}

gboolean drbd_gi_parse(const char *text, DrbdGi *gi, GError **error)
{
	if (text != NULL && (g_str_has_prefix(text, "# DRBD meta data dump") ||
			     strstr(text, "\nversion \"") != NULL))
		return drbd_gi_parse_dump(text, gi, error);
	return drbd_gi_parse_line(text, gi, error);
}

/* drbdmeta's own message: its last stderr line that is not the ioctl
 * notice it prints for every file. */
static const char *last_message(char *err)
{
	char *best = NULL;

	for (char *line = strtok(err ? err : (char *)"", "\n"); line != NULL;
	     line = strtok(NULL, "\n"))
		if (!g_str_has_prefix(line, "ioctl(") && line[0] != '\0')
			best = line;
	return best ? best : "no message";
}

gboolean drbd_gi_read_meta(const DrbdMetaSource *src, DrbdGi *gi, GError **error)
{
	const char *argv[] = { src->drbdmeta ? src->drbdmeta : "drbdmeta",
			       "--force",
			       src->minor,
			       src->format ? src->format : "v09",
			       src->meta,
			       src->index ? src->index : "internal",
			       "dump-md",
			       NULL };
	IcsExecOptions opts = { .argv = argv,
				.timeout_ms = src->timeout_ms ? src->timeout_ms : 10000 };
	g_auto(IcsExecResult) res = { 0 };

	if (src->minor == NULL || src->meta == NULL)
		return ics_error_invalid(error,
					 "DRBD metadata: minor and metadata path are needed");
	if (!ics_exec_run(&opts, &res, error)) {
		ics_error_prefix(error, "cannot read DRBD metadata of %s: ", src->meta);
		return FALSE;
	}
	if (res.exit_status != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_EXEC,
			    "cannot read DRBD metadata of %s: %s exited with status %d: %s",
			    src->meta, argv[0], res.exit_status, last_message(res.err));
		return FALSE;
	}
	if (!drbd_gi_parse_dump(res.out, gi, error)) {
		ics_error_prefix(error, "%s: ", src->meta);
		return FALSE;
	}
	return TRUE;
}
