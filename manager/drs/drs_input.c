/*
 * drs_input.c: the tab-separated cluster state format of ics-drs(1).
 *
 *   # comment (from '#' to the end of the line); blank lines are ignored
 *   H <name> <cpu_cores> <mem_mib> [on|maintenance|off]
 *   V <name> <vcpus> <mem_mib> <cpu_used_milli> <mem_used_mib> <host>
 *   A <group> affinity|anti-affinity <vm>,<vm>[,...]
 *   P <vm> <host>[,<host>...]
 *
 * Fields are separated by one tab.  Host lines come first, then VM lines;
 * rule lines (A, P) name VMs and hosts defined above them.  The format is
 * line-based so that anyone can produce it from their own inventory with a
 * one-line script, and strict so that a mistake is reported at its line
 * rather than planned on: every field is checked, the first error is
 * returned as "WHAT:LINE: reason", and nothing is half-loaded.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "ics/error.h"
#include "drs_internal.h"

#define MAX_DIGITS 18

typedef struct {
	const char *what;
	guint line;
	gboolean seen_vm;
} Parser;

static gboolean fail(const Parser *p, GError **error, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static gboolean fail(const Parser *p, GError **error, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE, "%s:%u: %s", p->what, p->line, msg);
	return FALSE;
}

/* A builder's error, re-raised as a parse error at this line. */
static gboolean fail_from(const Parser *p, GError **error, GError *cause)
{
	fail(p, error, "%s", cause->message);
	g_error_free(cause);
	return FALSE;
}

static gboolean integer(const Parser *p, const char *field, const char *s, gint64 *out,
			GError **error)
{
	const char *d = s[0] == '-' ? s + 1 : s;
	size_t n = strlen(d);

	if (n == 0 || n > MAX_DIGITS || strspn(d, "0123456789") != n)
		return fail(p, error, "%s \"%s\" is not a decimal integer", field, s);
	if (s[0] == '-')
		return fail(p, error, "%s %s is negative", field, s);
	*out = (gint64)g_ascii_strtoull(d, NULL, 10);
	return TRUE;
}

static gboolean host_state(const Parser *p, const char *s, IcsDrsHostState *out, GError **error)
{
	if (g_str_equal(s, "on"))
		*out = ICS_DRS_HOST_ON;
	else if (g_str_equal(s, "maintenance"))
		*out = ICS_DRS_HOST_MAINTENANCE;
	else if (g_str_equal(s, "off"))
		*out = ICS_DRS_HOST_OFF;
	else
		return fail(p, error, "host state \"%s\" is not on, maintenance or off", s);
	return TRUE;
}

static gboolean want_fields(const Parser *p, char **f, guint min, guint max, const char *syntax,
			    GError **error)
{
	guint n = g_strv_length(f);

	if (n < min || n > max)
		return fail(p, error, "%u fields, expected %s", n, syntax);
	for (guint i = 0; i < n; i++) {
		if (!*f[i])
			return fail(p, error, "field %u is empty (fields are separated by one tab)",
				    i + 1);
	}
	return TRUE;
}

static gboolean parse_host(Parser *p, IcsDrsCluster *c, char **f, GError **error)
{
	gint64 cores, mem;
	IcsDrsHostState state = ICS_DRS_HOST_ON;
	GError *err = NULL;

	if (!want_fields(p, f, 4, 5, "H<TAB>name<TAB>cpu_cores<TAB>mem_mib[<TAB>state]", error))
		return FALSE;
	if (p->seen_vm)
		return fail(p, error, "host \"%s\" after VM lines: hosts come first", f[1]);
	if (!integer(p, "cpu_cores", f[2], &cores, error) ||
	    !integer(p, "mem_mib", f[3], &mem, error) ||
	    (f[4] && !host_state(p, f[4], &state, error)))
		return FALSE;
	if (!ics_drs_cluster_add_host(c, f[1], cores, mem, state, &err))
		return fail_from(p, error, err);
	return TRUE;
}

static gboolean parse_vm(Parser *p, IcsDrsCluster *c, char **f, GError **error)
{
	gint64 vcpus, mem, cpu, mem_used;
	GError *err = NULL;

	if (!want_fields(
		    p, f, 7, 7,
		    "V<TAB>name<TAB>vcpus<TAB>mem_mib<TAB>cpu_used_milli<TAB>mem_used_mib<TAB>host",
		    error))
		return FALSE;
	p->seen_vm = TRUE;
	if (!integer(p, "vcpus", f[2], &vcpus, error) ||
	    !integer(p, "mem_mib", f[3], &mem, error) ||
	    !integer(p, "cpu_used_milli", f[4], &cpu, error) ||
	    !integer(p, "mem_used_mib", f[5], &mem_used, error))
		return FALSE;
	if (!ics_drs_cluster_add_vm(c, f[1], vcpus, mem, cpu, mem_used, f[6], &err))
		return fail_from(p, error, err);
	return TRUE;
}

static gboolean parse_rule(Parser *p, IcsDrsCluster *c, char **f, GError **error)
{
	IcsDrsRuleKind kind;
	GError *err = NULL;

	if (!want_fields(p, f, 4, 4, "A<TAB>group<TAB>affinity|anti-affinity<TAB>vm,vm,...", error))
		return FALSE;
	if (g_str_equal(f[2], "affinity"))
		kind = ICS_DRS_AFFINITY;
	else if (g_str_equal(f[2], "anti-affinity"))
		kind = ICS_DRS_ANTI_AFFINITY;
	else
		return fail(p, error, "rule kind \"%s\" is not affinity or anti-affinity", f[2]);
	g_auto(GStrv) vms = g_strsplit(f[3], ",", -1);
	if (!ics_drs_cluster_add_rule(c, f[1], kind, (const char *const *)vms, &err))
		return fail_from(p, error, err);
	return TRUE;
}

static gboolean parse_pin(Parser *p, IcsDrsCluster *c, char **f, GError **error)
{
	GError *err = NULL;

	if (!want_fields(p, f, 3, 3, "P<TAB>vm<TAB>host,host,...", error))
		return FALSE;
	g_auto(GStrv) hosts = g_strsplit(f[2], ",", -1);
	if (!ics_drs_cluster_pin(c, f[1], (const char *const *)hosts, &err))
		return fail_from(p, error, err);
	return TRUE;
}

static gboolean parse_line(Parser *p, IcsDrsCluster *c, char *line, GError **error)
{
	char *hash = strchr(line, '#');
	size_t n;

	if (hash)
		*hash = '\0';
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
		line[--n] = '\0';
	if (n == 0)
		return TRUE;
	g_auto(GStrv) f = g_strsplit(line, "\t", -1);
	if (g_str_equal(f[0], "H"))
		return parse_host(p, c, f, error);
	if (g_str_equal(f[0], "V"))
		return parse_vm(p, c, f, error);
	if (g_str_equal(f[0], "A"))
		return parse_rule(p, c, f, error);
	if (g_str_equal(f[0], "P"))
		return parse_pin(p, c, f, error);
	return fail(p, error, "unknown line kind \"%.16s\" (expected H, V, A or P and a tab)",
		    f[0]);
}

IcsDrsCluster *ics_drs_cluster_parse(const char *text, gsize len, const char *what, GError **error)
{
	g_autoptr(IcsDrsCluster) c = ics_drs_cluster_new();
	g_autofree char *buf = g_strndup(text, len);
	Parser p = { .what = what ? what : "input" };
	char *line = buf, *next;

	if (memchr(text, '\0', len)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE, "%s: contains a NUL byte", p.what);
		return NULL;
	}
	for (; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		p.line++;
		if (!parse_line(&p, c, line, error))
			return NULL;
	}
	if (c->hosts->len == 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_PARSE, "%s: no host (H) line", p.what);
		return NULL;
	}
	if (!ics_drs_cluster_validate(c, error)) {
		ics_error_prefix(error, "%s: ", p.what);
		return NULL;
	}
	return g_steal_pointer(&c);
}

IcsDrsCluster *ics_drs_cluster_load(const char *path, GError **error)
{
	g_autofree char *text = NULL;
	gsize len = 0;

	if (g_str_equal(path, "-")) {
		g_autoptr(GString) s = g_string_new(NULL);
		char chunk[65536];
		size_t n;
		while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
			g_string_append_len(s, chunk, (gssize)n);
		if (ferror(stdin)) {
			ics_error_set_errno(error, errno, "reading the cluster state from stdin");
			return NULL;
		}
		return ics_drs_cluster_parse(s->str, s->len, "stdin", error);
	}
	if (!g_file_get_contents(path, &text, &len, NULL)) {
		ics_error_set_errno(error, errno, "cannot read cluster state \"%s\"", path);
		return NULL;
	}
	return ics_drs_cluster_parse(text, len, path, error);
}

static const char *state_name(IcsDrsHostState s)
{
	return s == ICS_DRS_HOST_MAINTENANCE ? "maintenance" : s == ICS_DRS_HOST_OFF ? "off" : "on";
}

void ics_drs_cluster_write(const IcsDrsCluster *c, FILE *out)
{
	for (guint h = 0; h < c->hosts->len; h++) {
		const DrsHost *host = drs_host(c, h);
		fprintf(out, "H\t%s\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT, host->name,
			host->cores, host->mem_mib);
		if (host->state != ICS_DRS_HOST_ON)
			fprintf(out, "\t%s", state_name(host->state));
		fputc('\n', out);
	}
	for (guint i = 0; i < c->vms->len; i++) {
		const DrsVm *v = drs_vm(c, i);
		fprintf(out,
			"V\t%s\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT
			"\t%" G_GINT64_FORMAT "\t%s\n",
			v->name, v->vcpus, v->mem_mib, v->cpu_used, v->mem_used,
			drs_host(c, v->host)->name);
	}
	for (guint r = 0; r < c->rules->len; r++) {
		const DrsRule *rule = drs_rule(c, r);
		fprintf(out, "A\t%s\t%s\t", rule->name,
			rule->kind == ICS_DRS_AFFINITY ? "affinity" : "anti-affinity");
		for (guint i = 0; i < rule->vms->len; i++)
			fprintf(out, "%s%s", i ? "," : "",
				drs_vm(c, g_array_index(rule->vms, guint, i))->name);
		fputc('\n', out);
	}
	for (guint i = 0; i < c->vms->len; i++) {
		const DrsVm *v = drs_vm(c, i);
		if (!v->pinned)
			continue;
		fprintf(out, "P\t%s\t", v->name);
		for (guint j = 0; j < v->pinned->len; j++)
			fprintf(out, "%s%s", j ? "," : "",
				drs_host(c, g_array_index(v->pinned, guint, j))->name);
		fputc('\n', out);
	}
}
