/*
 * ics-lease: the operator's view of a pool's lockspace and leases, and the
 * few actions an operator (or a script) needs: init, join/leave, slots,
 * acquire as a contention probe, hold a lease for the life of a command,
 * and fence-aware takeover.  A thin main over libicslock; every decision
 * lives in the library.  Exit codes: 0 ok, 1 error, 2 usage, 3 busy or
 * refused (the lease or pool is in use, a takeover was refused).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ics/error.h"
#include "ics/exec.h"
#include "ics/json.h"
#include "ics/lock.h"
#include "lock_internal.h"

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2, EXIT_BUSY = 3 };

static gboolean opt_json, opt_force, opt_dry_run, opt_takeover, opt_quorum, opt_accept_manual;
static char *opt_name, *opt_uuid;
static int opt_io_timeout, opt_slots;
static gint64 opt_host_id;
static int opt_margin = ICS_LOCK_DEFAULT_CLOCK_MARGIN;

static GOptionEntry entries[] = {
	{ "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON", NULL },
	{ "force", 'f', 0, G_OPTION_ARG_NONE, &opt_force, "Override in-use refusals", NULL },
	{ "name", 'n', 0, G_OPTION_ARG_STRING, &opt_name, "Pool name (init)", "NAME" },
	{ "uuid", 0, 0, G_OPTION_ARG_STRING, &opt_uuid, "Pool uuid (init; default random)", "UUID" },
	{ "io-timeout", 0, 0, G_OPTION_ARG_INT, &opt_io_timeout, "sanlock io_timeout in s (init)", "S" },
	{ "slots", 0, 0, G_OPTION_ARG_INT, &opt_slots, "Number of lease slots (init)", "N" },
	{ "host-id", 'i', 0, G_OPTION_ARG_INT64, &opt_host_id,
	  "Host id (join/leave; default: corosync node id)", "N" },
	{ "dry-run", 0, 0, G_OPTION_ARG_NONE, &opt_dry_run, "Decide only (takeover)", NULL },
	{ "takeover", 0, 0, G_OPTION_ARG_NONE, &opt_takeover, "On busy, try fence-aware takeover (hold)", NULL },
	{ "quorum", 0, 0, G_OPTION_ARG_NONE, &opt_quorum, "Refuse unless this node is quorate (acquire, hold)", NULL },
	{ "clock-margin", 0, 0, G_OPTION_ARG_INT, &opt_margin, "Takeover clock margin in s (default 1)", "S" },
	{ "accept-manual-fencing", 0, 0, G_OPTION_ARG_NONE, &opt_accept_manual,
	  "Takeover: count a manual fencing confirmation (stonith_admin --confirm); the owner's "
	  "delta lease is still watched", NULL },
	{ NULL },
};

static int fail(GError *err)
{
	fprintf(stderr, "ics-lease: %s\n", err->message);
	if (err->domain == ICS_ERROR &&
	    (err->code == ICS_ERROR_BUSY || err->code == ICS_ERROR_CONFLICT))
		return EXIT_BUSY;
	if (err->domain == ICS_ERROR && err->code == ICS_ERROR_INVALID_ARGUMENT)
		return EXIT_USAGE;
	return EXIT_ERROR;
}

static int usage(const char *msg)
{
	fprintf(stderr, "ics-lease: %s (see ics-lease --help or ics-lease(8))\n", msg);
	return EXIT_USAGE;
}

static void print_json(json_t *j)
{
	g_autofree char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("%s\n", s);
}

/* This node's corosync node id, the default host id. */
static gboolean local_host_id(guint64 *out, GError **error)
{
	const char *cmap[] = { "corosync-cmapctl", "-g", "runtime.votequorum.this_node_id", NULL };
	const char *crm[] = { "crm_node", "-i", NULL };
	g_autofree char *text = NULL;

	if (ics_exec_simple(cmap, 10000, &text, NULL) && text && strchr(text, '=')) {
		*out = g_ascii_strtoull(strchr(text, '=') + 1, NULL, 10);
		return TRUE;
	}
	g_clear_pointer(&text, g_free);
	if (ics_exec_simple(crm, 10000, &text, NULL) && text && g_ascii_isdigit(text[0])) {
		*out = g_ascii_strtoull(text, NULL, 10);
		return TRUE;
	}
	g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
		    "cannot read this node's corosync node id (corosync-cmapctl, crm_node); pass --host-id");
	return FALSE;
}

static gboolean host_id_arg(guint64 *out, GError **error)
{
	if (opt_host_id != 0) {
		*out = (guint64)opt_host_id;
		return ics_lock_host_id_valid(*out, error);
	}
	return local_host_id(out, error) && ics_lock_host_id_valid(*out, error);
}

static json_t *leader_json(const IcsLeaderRecord *lr)
{
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:I, s:i, s:b}",
			 "magic", lr->magic == ICS_DELTA_MAGIC   ? "delta"
				  : lr->magic == ICS_PAXOS_MAGIC ? "paxos"
								 : "foreign",
			 "sector_size", (json_int_t)lr->sector_size, "owner_id", (json_int_t)lr->owner_id,
			 "owner_generation", (json_int_t)lr->owner_generation, "lver",
			 (json_int_t)lr->lver, "timestamp", (json_int_t)lr->timestamp, "lockspace",
			 lr->space_name, "resource", lr->resource_name, "flags", (json_int_t)lr->flags,
			 "io_timeout", (int)lr->io_timeout, "checksum_ok", lr->checksum_ok);
}

static json_t *pool_json(IcsPool *pool)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:i}", "path", ics_pool_path(pool), "name",
			 ics_pool_name(pool), "uuid", ics_pool_uuid(pool), "lockspace",
			 ics_pool_lockspace(pool), "io_timeout", (int)ics_pool_io_timeout(pool),
			 "lease_slots", (int)ics_pool_lease_slots(pool));
}

static int cmd_init(char **args, int n)
{
	g_autoptr(GError) err = NULL;
	IcsPoolInitOptions o = { .name = opt_name, .uuid = opt_uuid, .force = opt_force };

	if (n != 1 || !opt_name)
		return usage("usage: init POOL_PATH --name NAME [--io-timeout S] [--slots N] [--uuid U] [--force]");
	if (opt_io_timeout < 0 || opt_slots < 0)
		return usage("--io-timeout and --slots must be positive");
	o.io_timeout = (guint)opt_io_timeout;
	o.lease_slots = (guint)opt_slots;
	if (!ics_pool_init(args[0], &o, &err))
		return fail(err);
	g_autoptr(IcsPool) pool = ics_pool_open(args[0], NULL, &err);
	if (!pool)
		return fail(err);
	if (opt_json) {
		g_autoptr(json_t) j = pool_json(pool);
		print_json(j);
	} else
		printf("pool \"%s\" initialised at %s: uuid %s, lockspace %s, io_timeout %u s, %u slots\n",
		       ics_pool_name(pool), args[0], ics_pool_uuid(pool), ics_pool_lockspace(pool),
		       ics_pool_io_timeout(pool), ics_pool_lease_slots(pool));
	return EXIT_OK;
}

static json_t *leases_json(IcsPool *pool, GError **error)
{
	g_autoptr(GPtrArray) slots = ics_slot_list(pool, error);
	json_t *arr;

	if (!slots)
		return NULL;
	arr = json_array();
	for (guint i = 0; i < slots->len; i++) {
		IcsSlot *s = g_ptr_array_index(slots, i);
		IcsLeaseInfo info;
		g_autoptr(GError) e = NULL;
		json_t *o = json_pack("{s:i, s:s}", "slot", (int)s->index, "owner", s->owner);
		if (ics_lease_inspect(pool, s->owner, &info, &e)) {
			g_autofree char *hn = info.owner_host_id
						      ? ics_pool_host_disk_name(pool, info.owner_host_id)
						      : g_strdup("");
			json_object_set_new(o, "owner_host", json_integer((json_int_t)info.owner_host_id));
			json_object_set_new(o, "owner_host_name", json_string(hn));
			json_object_set_new(o, "owner_generation", json_integer((json_int_t)info.owner_generation));
			json_object_set_new(o, "lver", json_integer((json_int_t)info.lver));
			ics_lease_info_clear(&info);
		} else {
			json_object_set_new(o, "error", json_string(e->message));
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *disk_hosts_json(IcsPool *pool, gboolean all, GError **error)
{
	g_autofree guint8 *buf = ics_sectors_read(ics_pool_ids_path(pool), 0, ICS_LOCK_MAX_HOST_ID, error);
	json_t *arr;

	if (!buf)
		return NULL;
	arr = json_array();
	for (int h = 0; h < ICS_LOCK_MAX_HOST_ID; h++) {
		IcsLeaderRecord lr;
		ics_leader_decode(buf + h * ICS_SECTOR_SIZE, &lr);
		if (!all && lr.timestamp == 0 && lr.owner_generation == 0 && !lr.resource_name[0])
			continue;
		json_t *o = leader_json(&lr);
		json_object_set_new(o, "host_id", json_integer(h + 1));
		json_array_append_new(arr, o);
	}
	return arr;
}

static int cmd_status(char **args, int n)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GError) herr = NULL;

	if (n != 1)
		return usage("usage: status POOL_PATH [--json]");
	g_autoptr(IcsPool) pool = ics_pool_open(args[0], NULL, &err);
	if (!pool)
		return fail(err);
	g_autoptr(json_t) out = pool_json(pool);
	g_autoptr(GPtrArray) hosts = ics_pool_hosts(pool, &herr);
	json_t *harr = json_array();
	if (hosts) {
		for (guint i = 0; i < hosts->len; i++) {
			IcsHostInfo *h = g_ptr_array_index(hosts, i);
			json_array_append_new(
				harr, json_pack("{s:I, s:s, s:I, s:I, s:s, s:I, s:I}", "host_id",
						(json_int_t)h->host_id, "name", h->name ? h->name : "",
						"generation", (json_int_t)h->generation, "timestamp",
						(json_int_t)h->timestamp, "state", ics_host_state_name(h->state),
						"last_renewal", (json_int_t)h->last_renewal_wall,
						"heartbeat_age_s", (json_int_t)h->age_s));
		}
		json_object_set_new(out, "hosts_source", json_string("daemon"));
	} else {
		json_decref(harr);
		harr = disk_hosts_json(pool, FALSE, &err);
		if (!harr)
			return fail(err);
		json_object_set_new(out, "hosts_source", json_string("disk"));
		json_object_set_new(out, "hosts_note", json_string(herr->message));
	}
	json_object_set_new(out, "hosts", harr);
	json_t *leases = leases_json(pool, &err);
	if (!leases)
		return fail(err);
	json_object_set_new(out, "leases", leases);
	if (opt_json) {
		print_json(out);
		return EXIT_OK;
	}
	printf("pool %s (%s) at %s\n  lockspace %s, io_timeout %u s, %u slots\n",
	       ics_pool_name(pool), ics_pool_uuid(pool), ics_pool_path(pool), ics_pool_lockspace(pool),
	       ics_pool_io_timeout(pool), ics_pool_lease_slots(pool));
	size_t i;
	json_t *v;
	if (hosts) {
		printf("hosts (as the local sanlock daemon sees them):\n");
		printf("  %-5s %-16s %-10s %-8s %s\n", "ID", "NAME", "GEN", "STATE", "HEARTBEAT AGE");
		json_array_foreach(harr, i, v)
		{
			json_int_t age = json_integer_value(json_object_get(v, "heartbeat_age_s"));
			g_autofree char *a = age < 0 ? g_strdup("-") : g_strdup_printf("%" JSON_INTEGER_FORMAT " s", age);
			printf("  %-5" JSON_INTEGER_FORMAT " %-16s %-10" JSON_INTEGER_FORMAT " %-8s %s\n",
			       json_integer_value(json_object_get(v, "host_id")),
			       json_string_value(json_object_get(v, "name")),
			       json_integer_value(json_object_get(v, "generation")),
			       json_string_value(json_object_get(v, "state")), a);
		}
	} else {
		printf("hosts: %s\n  what the lease file says (no liveness without the daemon):\n",
		       herr->message);
		printf("  %-5s %-16s %-10s %s\n", "ID", "NAME", "GEN", "TIMESTAMP");
		json_array_foreach(harr, i, v)
		printf("  %-5" JSON_INTEGER_FORMAT " %-16s %-10" JSON_INTEGER_FORMAT " %" JSON_INTEGER_FORMAT "%s\n",
		       json_integer_value(json_object_get(v, "host_id")),
		       json_string_value(json_object_get(v, "resource")),
		       json_integer_value(json_object_get(v, "owner_generation")),
		       json_integer_value(json_object_get(v, "timestamp")),
		       json_integer_value(json_object_get(v, "timestamp")) ? "" : " (free)");
	}
	printf("leases:\n  %-5s %-40s %-20s %s\n", "SLOT", "OWNER", "HELD BY", "LVER");
	json_array_foreach(leases, i, v)
	{
		json_int_t host = json_integer_value(json_object_get(v, "owner_host"));
		g_autofree char *by = host ? g_strdup_printf("%" JSON_INTEGER_FORMAT " (%s)", host,
							     json_string_value(json_object_get(v, "owner_host_name")))
					   : g_strdup("-");
		printf("  %-5" JSON_INTEGER_FORMAT " %-40s %-20s %" JSON_INTEGER_FORMAT "\n",
		       json_integer_value(json_object_get(v, "slot")),
		       json_string_value(json_object_get(v, "owner")), by,
		       json_integer_value(json_object_get(v, "lver")));
	}
	return EXIT_OK;
}

static int cmd_dump(char **args, int n)
{
	g_autoptr(GError) err = NULL;

	if (n != 1)
		return usage("usage: dump POOL_PATH [--json]");
	g_autoptr(IcsPool) pool = ics_pool_open(args[0], NULL, &err);
	if (!pool)
		return fail(err);
	g_autofree char *json_path = g_build_filename(args[0], ".ics", "pool.json", NULL);
	g_autoptr(json_t) out = json_object();
	json_object_set_new(out, "pool.json", ics_json_load_file(json_path, NULL));
	json_t *hosts = disk_hosts_json(pool, FALSE, &err);
	if (!hosts)
		return fail(err);
	json_object_set_new(out, "ids", hosts);
	IcsLeaderRecord lr;
	json_t *leases = json_array();
	json_object_set_new(out, "leases", leases);
	if (!ics_leader_read(ics_pool_leases_path(pool), 0, &lr, &err))
		return fail(err);
	json_t *o = leader_json(&lr);
	json_object_set_new(o, "slot", json_integer(0));
	json_array_append_new(leases, o);
	g_autoptr(GPtrArray) slots = ics_slot_list(pool, &err);
	if (!slots)
		return fail(err);
	for (guint i = 0; i < slots->len; i++) {
		IcsSlot *s = g_ptr_array_index(slots, i);
		if (!ics_leader_read(ics_pool_leases_path(pool), ics_slot_offset(s->index), &lr, &err))
			return fail(err);
		o = leader_json(&lr);
		json_object_set_new(o, "slot", json_integer(s->index));
		json_object_set_new(o, "slot_owner", json_string(s->owner));
		json_array_append_new(leases, o);
	}
	if (opt_json) {
		print_json(out);
		return EXIT_OK;
	}
	g_autofree char *pj = json_dumps(json_object_get(out, "pool.json"), JSON_INDENT(2) | JSON_SORT_KEYS);
	printf("pool.json: %s\n", pj ? pj : "(unreadable)");
	printf("ids %s (delta leases with data):\n  %-5s %-20s %-6s %-12s %-6s %s\n",
	       ics_pool_ids_path(pool), "HOST", "NAME", "GEN", "TIMESTAMP", "IO_TO", "CHECKSUM");
	size_t i;
	json_t *v;
	json_array_foreach(hosts, i, v)
	printf("  %-5" JSON_INTEGER_FORMAT " %-20s %-6" JSON_INTEGER_FORMAT " %-12" JSON_INTEGER_FORMAT " %-6" JSON_INTEGER_FORMAT " %s\n",
	       json_integer_value(json_object_get(v, "host_id")),
	       json_string_value(json_object_get(v, "resource")),
	       json_integer_value(json_object_get(v, "owner_generation")),
	       json_integer_value(json_object_get(v, "timestamp")),
	       json_integer_value(json_object_get(v, "io_timeout")),
	       json_is_true(json_object_get(v, "checksum_ok")) ? "ok" : "BAD");
	printf("leases %s:\n  %-5s %-40s %-6s %-6s %-12s %-6s %s\n", ics_pool_leases_path(pool), "SLOT",
	       "RESOURCE", "OWNER", "GEN", "TIMESTAMP", "LVER", "CHECKSUM");
	json_array_foreach(leases, i, v)
	printf("  %-5" JSON_INTEGER_FORMAT " %-40s %-6" JSON_INTEGER_FORMAT " %-6" JSON_INTEGER_FORMAT " %-12" JSON_INTEGER_FORMAT " %-6" JSON_INTEGER_FORMAT " %s\n",
	       json_integer_value(json_object_get(v, "slot")),
	       json_string_value(json_object_get(v, "resource")),
	       json_integer_value(json_object_get(v, "owner_id")),
	       json_integer_value(json_object_get(v, "owner_generation")),
	       json_integer_value(json_object_get(v, "timestamp")),
	       json_integer_value(json_object_get(v, "lver")),
	       json_is_true(json_object_get(v, "checksum_ok")) ? "ok" : "BAD");
	return EXIT_OK;
}

static int cmd_slot(char **args, int n)
{
	g_autoptr(GError) err = NULL;

	if (n < 2)
		return usage("usage: slot alloc|free|list POOL_PATH [OWNER] [--force]");
	g_autoptr(IcsPool) pool = ics_pool_open(args[1], NULL, &err);
	if (!pool)
		return fail(err);
	if (strcmp(args[0], "list") == 0 && n == 2) {
		g_autoptr(json_t) arr = leases_json(pool, &err);
		if (!arr)
			return fail(err);
		if (opt_json) {
			print_json(arr);
			return EXIT_OK;
		}
		size_t i;
		json_t *v;
		json_array_foreach(arr, i, v)
		printf("%" JSON_INTEGER_FORMAT " %s\n", json_integer_value(json_object_get(v, "slot")),
		       json_string_value(json_object_get(v, "owner")));
		return EXIT_OK;
	}
	if (n != 3)
		return usage("usage: slot alloc|free POOL_PATH OWNER");
	if (strcmp(args[0], "alloc") == 0) {
		int k = ics_slot_alloc(pool, args[2], &err);
		if (k < 0)
			return fail(err);
		if (opt_json)
			printf("{\"slot\": %d, \"owner\": \"%s\"}\n", k, args[2]);
		else
			printf("%d\n", k);
		return EXIT_OK;
	}
	if (strcmp(args[0], "free") == 0) {
		if (!ics_slot_release(pool, args[2], opt_force, &err))
			return fail(err);
		return EXIT_OK;
	}
	return usage("usage: slot alloc|free|list POOL_PATH [OWNER] [--force]");
}

static int cmd_membership(const char *cmd, char **args, int n)
{
	g_autoptr(GError) err = NULL;
	guint64 id;

	if (n != 1)
		return usage("usage: join|leave POOL_PATH [--host-id N] [--force]");
	g_autoptr(IcsPool) pool = ics_pool_open(args[0], NULL, &err);
	if (!pool)
		return fail(err);
	if (!host_id_arg(&id, &err))
		return fail(err);
	gint64 t0 = g_get_monotonic_time();
	gboolean ok = strcmp(cmd, "join") == 0 ? ics_pool_join(pool, id, &err)
					       : ics_pool_leave(pool, id, opt_force, &err);
	if (!ok)
		return fail(err);
	printf("%s %s as host %" G_GUINT64_FORMAT ": done in %.2f s\n",
	       strcmp(cmd, "join") == 0 ? "joined" : "left", ics_pool_lockspace(pool), id,
	       (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
	return EXIT_OK;
}

static gboolean quorate(GError **error);

static int cmd_acquire(char **args, int n)
{
	g_autoptr(GError) err = NULL;

	if (n != 2)
		return usage("usage: acquire POOL_PATH OWNER [--quorum] [--json]");
	g_autoptr(IcsPool) pool = ics_pool_open(args[0], NULL, &err);
	if (!pool)
		return fail(err);
	if (opt_quorum && !quorate(&err))
		return fail(err);
	gint64 t0 = g_get_monotonic_time();
	IcsLease *lease = ics_lease_acquire(pool, args[1], &err);
	if (!lease)
		return fail(err);
	gint64 t1 = g_get_monotonic_time();
	gboolean ok = ics_lease_release(lease, &err);
	gint64 t2 = g_get_monotonic_time();
	ics_lease_free(lease);
	if (!ok)
		return fail(err);
	double acq = (double)(t1 - t0) / 1000, rel = (double)(t2 - t1) / 1000;
	if (opt_json) {
		g_autoptr(json_t) j = json_pack("{s:s, s:f, s:f}", "owner", args[1], "acquire_ms", acq,
						"release_ms", rel);
		print_json(j);
	} else {
		printf("acquired and released the lease of \"%s\": acquire %.1f ms, release %.1f ms\n",
		       args[1], acq, rel);
	}
	return EXIT_OK;
}

static gboolean quorate(GError **error)
{
	const char *argv[] = { "corosync-quorumtool", "-s", NULL };
	IcsExecOptions o = { .argv = argv, .timeout_ms = 10000 };
	g_auto(IcsExecResult) r = { 0 };

	if (!ics_exec_run(&o, &r, error))
		return FALSE;
	if (r.exit_status != 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "this node is not quorate (corosync-quorumtool -s exited %d): refusing to "
			    "take a lease",
			    r.exit_status);
		return FALSE;
	}
	return TRUE;
}

static int cmd_takeover_common(IcsPool *pool, const char *owner, gboolean dry, IcsTakeoverVerdict *v,
			       char **reason, GError **error);

static int cmd_hold(char **args, int n, char **cmd)
{
	g_autoptr(GError) err = NULL;

	if (n != 2 || !cmd || !cmd[0])
		return usage("usage: hold POOL_PATH OWNER [--takeover] [--quorum] -- CMD ARGS...");
	g_autoptr(IcsPool) pool = ics_pool_open(args[0], NULL, &err);
	if (!pool)
		return fail(err);
	if (opt_quorum && !quorate(&err))
		return fail(err);
	gint64 t0 = g_get_monotonic_time();
	IcsLease *lease = ics_lease_acquire(pool, args[1], &err);
	if (!lease && opt_takeover && g_error_matches(err, ICS_ERROR, ICS_ERROR_BUSY)) {
		IcsTakeoverVerdict v;
		g_autofree char *reason = NULL;
		g_clear_error(&err);
		if (cmd_takeover_common(pool, args[1], FALSE, &v, &reason, &err) != EXIT_OK)
			return fail(err);
		fprintf(stderr, "ics-lease: takeover: %s: %s\n", ics_takeover_verdict_name(v), reason);
		/* The owner's delta lease is free now; the daemon may need a moment. */
		for (int i = 0; i < 50; i++) {
			g_clear_error(&err);
			lease = ics_lease_acquire(pool, args[1], &err);
			if (lease || !g_error_matches(err, ICS_ERROR, ICS_ERROR_BUSY))
				break;
			g_usleep(100000);
		}
	}
	if (!lease)
		return fail(err);
	fprintf(stderr, "ics-lease: holding the lease of \"%s\" (%.1f ms); running %s\n", args[1],
		(double)(g_get_monotonic_time() - t0) / 1000, cmd[0]);
	fflush(NULL);
	/* The registration fd stays open across exec: CMD now holds the lease. */
	execvp(cmd[0], cmd);
	int e = errno;
	ics_lease_free(lease);
	fprintf(stderr, "ics-lease: cannot run %s: %s\n", cmd[0], g_strerror(e));
	return e == ENOENT ? 127 : 126;
}

/*
 * Decide (and on ALLOW unless @dry free the owner's delta lease).  EXIT_OK
 * for ALLOW and NOT_NEEDED, EXIT_BUSY for a refusal (*error names it),
 * EXIT_ERROR when the facts could not be gathered.
 */
static int cmd_takeover_common(IcsPool *pool, const char *owner, gboolean dry, IcsTakeoverVerdict *v,
			       char **reason, GError **error)
{
	IcsTakeoverOptions o = { .clock_margin_s = (guint)opt_margin,
				 .accept_manual = opt_accept_manual,
				 .dry_run = dry };

	if (!ics_lease_takeover_run(pool, owner, &o, v, reason, error))
		return EXIT_ERROR;
	if (*v == ICS_TAKEOVER_ALLOW || *v == ICS_TAKEOVER_NOT_NEEDED)
		return EXIT_OK;
	g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT, "pool \"%s\": takeover of \"%s\" refused (%s): %s",
		    ics_pool_name(pool), owner, ics_takeover_verdict_name(*v), *reason);
	return EXIT_BUSY;
}

static int cmd_takeover(char **args, int n)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *reason = NULL;
	IcsTakeoverVerdict v = ICS_TAKEOVER_REFUSE_UNKNOWN;

	if (n != 2)
		return usage("usage: takeover POOL_PATH OWNER [--dry-run] [--json]");
	g_autoptr(IcsPool) pool = ics_pool_open(args[0], NULL, &err);
	if (!pool)
		return fail(err);
	gint64 t0 = g_get_monotonic_time();
	int rc = cmd_takeover_common(pool, args[1], opt_dry_run, &v, &reason, &err);
	if (rc == EXIT_ERROR)
		return fail(err);
	if (!opt_dry_run && v == ICS_TAKEOVER_ALLOW) {
		g_autofree char *why = g_steal_pointer(&reason);
		reason = g_strdup_printf("%s; owner's delta lease freed", why);
	}
	double ms = (double)(g_get_monotonic_time() - t0) / 1000;
	if (opt_json) {
		g_autoptr(json_t) j = json_pack("{s:s, s:s, s:s, s:b, s:f}", "owner", args[1], "verdict",
						ics_takeover_verdict_name(v), "reason", reason ? reason : "",
						"dry_run", opt_dry_run, "elapsed_ms", ms);
		print_json(j);
	} else {
		printf("%s: %s (%.1f ms%s)\n", ics_takeover_verdict_name(v), reason ? reason : "", ms,
		       opt_dry_run ? ", dry run" : "");
	}
	if (v == ICS_TAKEOVER_ALLOW || v == ICS_TAKEOVER_NOT_NEEDED)
		return EXIT_OK;
	return EXIT_BUSY;
}

int main(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("COMMAND POOL_PATH [ARGS...] [-- CMD ARGS...]");
	g_autoptr(GError) err = NULL;
	char **cmd = NULL;

	g_option_context_set_summary(ctx,
		"Commands:\n"
		"  init POOL_PATH --name NAME [--io-timeout S] [--slots N] [--uuid U] [--force]\n"
		"  status POOL_PATH [--json]\n"
		"  dump POOL_PATH [--json]\n"
		"  slot alloc|free|list POOL_PATH [OWNER] [--force] [--json]\n"
		"  join|leave POOL_PATH [--host-id N] [--force]\n"
		"  acquire POOL_PATH OWNER [--quorum] [--json]\n"
		"  hold POOL_PATH OWNER [--takeover] [--quorum] -- CMD ARGS...\n"
		"  takeover POOL_PATH OWNER [--dry-run] [--json]");
	g_option_context_add_main_entries(ctx, entries, NULL);
	/* Split off "-- CMD ..." before option parsing. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			cmd = &argv[i + 1];
			argv[i] = NULL;
			argc = i;
			break;
		}
	}
	if (!g_option_context_parse(ctx, &argc, &argv, &err))
		return usage(err->message);
	if (argc < 2)
		return usage("missing command");
	const char *c = argv[1];
	char **args = argv + 2;
	int n = argc - 2;
	if (strcmp(c, "init") == 0)
		return cmd_init(args, n);
	if (strcmp(c, "status") == 0)
		return cmd_status(args, n);
	if (strcmp(c, "dump") == 0)
		return cmd_dump(args, n);
	if (strcmp(c, "slot") == 0)
		return cmd_slot(args, n);
	if (strcmp(c, "join") == 0 || strcmp(c, "leave") == 0)
		return cmd_membership(c, args, n);
	if (strcmp(c, "acquire") == 0)
		return cmd_acquire(args, n);
	if (strcmp(c, "hold") == 0)
		return cmd_hold(args, n, cmd);
	if (strcmp(c, "takeover") == 0)
		return cmd_takeover(args, n);
	return usage("unknown command");
}
