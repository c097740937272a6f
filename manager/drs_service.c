/*
 * drs_service.c: DRS in the manager (see ics/manager/drs_service.h) --
 * measured load in, the engine's plan out, plans applied through the
 * cluster, everything kept as history.
 *
 * Measuring.  The adapter reports cumulative CPU time per VM; use is the
 * difference between two readings over the time between them.  The service
 * keeps the previous reading of every VM (in memory: a restart costs one
 * short extra reading), so a periodic run measures the average over the
 * whole period.  When a VM has no usable previous reading (first run, VM
 * just started or migrated: its counter restarts in the new QEMU), the run
 * reads twice, SAMPLE_GAP apart.  Memory use is the balloon size libvirt
 * reports.
 *
 * Planning.  The engine sees the hosts that are on or in maintenance with
 * the size their libvirtd reports and every running VM with its size
 * (Pacemaker's utilization) and measured use.  A VM in the middle of a
 * migration is pinned where it is; so is a VM that DRS moved within the
 * last ICS_DRS_COOLDOWN_PERIODS periods, so measurement noise right after
 * a migration cannot send it away again (the engine itself does not move a
 * VM back on unchanged load).  The plan, DPM's proposals and the scores
 * are stored as one run; a new plan supersedes the plans not applied.
 *
 * Applying.  A run is applied by a task, wave by wave; the migrations of
 * a wave run together, one thread each (the engine puts at most one
 * migration in or out of a host in a wave).  Each migration first checks
 * that the VM still runs where the plan found it (else it is skipped: the
 * world moved on); after a failed migration the later waves are skipped,
 * since they may count on memory it was to free.  The task is idempotent:
 * after a restart, what is done is not redone.  Only one run is applied
 * at a time, and no periodic run plans while one is.
 *
 * DPM's power actions are proposals only: they are shown in the plan and
 * never executed.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ics/drs.h"
#include "ics/error.h"
#include "ics/json.h"
#include "ics/log.h"
#include "ics/manager/drs_service.h"
#include "ics/manager/timestamp.h"

#define SAMPLE_GAP_US (1 * G_USEC_PER_SEC)
#define KEEP_RUNS 500

typedef struct {
	char *host;
	gint64 cpu_ns, t_us;
} Prev;

struct IcsDrsService {
	IcsStore *store;
	IcsTaskRunner *tasks;
	const IcsClusterOps *ops;
	IcsTaskKind apply_kind;
	GMutex run_lock; /* one run (measure, plan, store) at a time */
	/* Under lock. */
	GMutex lock;
	GCond cond;
	IcsDrsSettings cfg;
	gboolean stopping, reset;
	GHashTable *prev;      /* uuid -> Prev */
	GHashTable *executing; /* run ids being applied in this process */
	GThread *thread;
};

static const char *const mode_names[] = { "off", "manual", "automatic" };

const char *ics_drs_mode_name(IcsDrsMode mode)
{
	return mode <= ICS_DRS_MODE_AUTOMATIC ? mode_names[mode] : "off";
}

static gboolean mode_parse(const char *text, IcsDrsMode *out)
{
	for (guint i = 0; i < G_N_ELEMENTS(mode_names); i++)
		if (g_strcmp0(text, mode_names[i]) == 0) {
			*out = (IcsDrsMode)i;
			return TRUE;
		}
	return FALSE;
}

static void prev_free(gpointer p)
{
	Prev *x = p;

	g_free(x->host);
	g_free(x);
}

/* ---- configuration ------------------------------------------------------ */

static gboolean load_settings(IcsDrsService *svc, IcsDrsSettings *cfg, gint64 *updated_us,
			      GError **error)
{
	g_autoptr(IcsStmt) st = NULL;
	gboolean ok = FALSE;

	ics_store_read_begin(svc->store);
	st = ics_store_stmt(
		svc->store,
		"SELECT mode, level, period_s, ha_reserve_pct, updated_us FROM drs_config "
		"WHERE id = 1",
		error);
	if (st && ics_stmt_step(st, error) == SQLITE_ROW) {
		mode_parse(ics_stmt_text(st, 0), &cfg->mode);
		cfg->level = (guint)sqlite3_column_int(st, 1);
		cfg->period_s = (guint)sqlite3_column_int(st, 2);
		cfg->ha_reserve_pct = (guint)sqlite3_column_int(st, 3);
		if (updated_us)
			*updated_us = sqlite3_column_int64(st, 4);
		ok = TRUE;
	} else if (st && error && *error == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
			    "DRS: the configuration row is missing");
	}
	g_clear_pointer(&st, ics_stmt_release);
	ics_store_read_end(svc->store);
	return ok;
}

static json_t *settings_json(const IcsDrsSettings *cfg, gint64 updated_us)
{
	g_autofree char *at = updated_us ? ics_timestamp_format(updated_us) : NULL;

	return json_pack("{s:s, s:i, s:i, s:i, s:i, s:s?}", "mode", ics_drs_mode_name(cfg->mode),
			 "level", (int)cfg->level, "period_s", (int)cfg->period_s, "ha_reserve_pct",
			 (int)cfg->ha_reserve_pct, "cooldown_s",
			 (int)(cfg->period_s * ICS_DRS_COOLDOWN_PERIODS), "updated_at", at);
}

json_t *ics_drs_service_config(IcsDrsService *svc, GError **error)
{
	IcsDrsSettings cfg = { 0 };
	gint64 updated = 0;

	if (!load_settings(svc, &cfg, &updated, error))
		return NULL;
	return settings_json(&cfg, updated);
}

/* Member @key of @patch as an integer in min..max, when present. */
static gboolean patch_int(const json_t *patch, const char *key, gint64 min, gint64 max, guint *out,
			  GError **error)
{
	json_t *v = json_object_get(patch, key);

	if (v == NULL)
		return TRUE;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return ics_error_invalid(
			error,
			"DRS configuration: %s must be an integer from %" G_GINT64_FORMAT
			" to %" G_GINT64_FORMAT,
			key, min, max);
	*out = (guint)json_integer_value(v);
	return TRUE;
}

json_t *ics_drs_service_configure(IcsDrsService *svc, const json_t *patch, GError **error)
{
	IcsDrsSettings cfg;
	json_t *mode = json_object_get(patch, "mode");
	gint64 now = ics_now_us();
	g_autoptr(IcsStmt) st = NULL;

	if (!load_settings(svc, &cfg, NULL, error))
		return NULL;
	if (mode && !mode_parse(json_string_value(mode), &cfg.mode)) {
		ics_error_invalid(error, "DRS configuration: mode must be \"off\", \"manual\" or "
					 "\"automatic\"");
		return NULL;
	}
	if (!patch_int(patch, "level", 1, 5, &cfg.level, error) ||
	    !patch_int(patch, "period_s", 10, 86400, &cfg.period_s, error) ||
	    !patch_int(patch, "ha_reserve_pct", 0, 90, &cfg.ha_reserve_pct, error))
		return NULL;
	if (!ics_store_begin(svc->store, error))
		return NULL;
	st = ics_store_stmt(svc->store,
			    "UPDATE drs_config SET mode = ?, level = ?, period_s = ?, "
			    "ha_reserve_pct = ?, updated_us = ? WHERE id = 1",
			    error);
	if (st == NULL)
		goto fail;
	ics_stmt_bind_text(st, 1, ics_drs_mode_name(cfg.mode));
	ics_stmt_bind_int(st, 2, cfg.level);
	ics_stmt_bind_int(st, 3, cfg.period_s);
	ics_stmt_bind_int(st, 4, cfg.ha_reserve_pct);
	ics_stmt_bind_int(st, 5, now);
	if (!ics_stmt_run(st, error))
		goto fail;
	g_clear_pointer(&st, ics_stmt_release);
	if (!ics_store_commit(svc->store, error))
		return NULL;
	g_mutex_lock(&svc->lock);
	svc->cfg = cfg;
	svc->reset = TRUE;
	g_cond_broadcast(&svc->cond);
	g_mutex_unlock(&svc->lock);
	ics_notice("DRS: mode %s, level %u, period %u s, HA reserve %u%%",
		   ics_drs_mode_name(cfg.mode), cfg.level, cfg.period_s, cfg.ha_reserve_pct);
	return settings_json(&cfg, now);
fail:
	g_clear_pointer(&st, ics_stmt_release);
	ics_store_rollback(svc->store);
	return NULL;
}

/* ---- measuring ------------------------------------------------------------ */

typedef struct {
	char *name;
	char *state;
	gint64 cpus, memory_mib;
} HostLoad;

typedef struct {
	char *uuid, *host;
	gint64 vcpus, memory_mib, memory_used_mib, cpu_ns, cpu_milli;
	gboolean migrating, measured;
} VmLoad;

typedef struct {
	GPtrArray *hosts, *vms;
	gint64 t_us;
} Sample;

static void host_load_free(gpointer p)
{
	HostLoad *h = p;

	g_free(h->name);
	g_free(h->state);
	g_free(h);
}

static void vm_load_free(gpointer p)
{
	VmLoad *v = p;

	g_free(v->uuid);
	g_free(v->host);
	g_free(v);
}

static void sample_free(Sample *s)
{
	if (s == NULL)
		return;
	g_ptr_array_unref(s->hosts);
	g_ptr_array_unref(s->vms);
	g_free(s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Sample, sample_free)

static Sample *read_sample(IcsDrsService *svc, GError **error)
{
	g_autoptr(json_t) load = NULL;
	g_autoptr(Sample) s = g_new0(Sample, 1);
	json_t *item;
	size_t i;

	s->hosts = g_ptr_array_new_with_free_func(host_load_free);
	s->vms = g_ptr_array_new_with_free_func(vm_load_free);
	if (svc->ops == NULL || svc->ops->load == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "no cluster adapter: DRS has no load to balance");
		return NULL;
	}
	load = svc->ops->load(svc->ops->self, error);
	s->t_us = g_get_monotonic_time();
	if (load == NULL)
		return NULL;
	json_array_foreach(json_object_get(load, "hosts"), i, item)
	{
		HostLoad *h = g_new0(HostLoad, 1);
		json_int_t cpus = 0, mem = 0;
		const char *name = NULL, *state = NULL;

		g_ptr_array_add(s->hosts, h);
		if (json_unpack(item, "{s:s, s:s, s?:I, s?:I}", "name", &name, "state", &state,
				"cpus", &cpus, "memory_mib", &mem) != 0) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
				    "DRS: the cluster adapter's load has a malformed host");
			return NULL;
		}
		h->name = g_strdup(name);
		h->state = g_strdup(state);
		h->cpus = cpus;
		h->memory_mib = mem;
	}
	json_array_foreach(json_object_get(load, "vms"), i, item)
	{
		VmLoad *v = g_new0(VmLoad, 1);
		const char *uuid = NULL, *host = NULL;
		json_int_t vcpus = 0, mem = 0, used = 0, cpu = 0;
		int migrating = 0;

		g_ptr_array_add(s->vms, v);
		if (json_unpack(item, "{s:s, s:s, s:I, s:I, s?:b, s:I, s:I}", "uuid", &uuid, "host",
				&host, "vcpus", &vcpus, "memory_mib", &mem, "migrating", &migrating,
				"cpu_time_ns", &cpu, "memory_used_mib", &used) != 0) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
				    "DRS: the cluster adapter's load has a malformed VM");
			return NULL;
		}
		v->uuid = g_strdup(uuid);
		v->host = g_strdup(host);
		v->vcpus = vcpus;
		v->memory_mib = mem;
		v->memory_used_mib = CLAMP(used, 0, mem);
		v->cpu_ns = cpu;
		v->migrating = migrating;
	}
	return g_steal_pointer(&s);
}

/* CPU use of every VM of @s from the previous readings, which @s then
 * replaces; the number of VMs that had no usable previous reading. */
static guint measure_against_prev(IcsDrsService *svc, Sample *s)
{
	g_autoptr(GHashTable) next =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, prev_free);
	guint missing = 0;

	g_mutex_lock(&svc->lock);
	for (guint i = 0; i < s->vms->len; i++) {
		VmLoad *v = s->vms->pdata[i];
		const Prev *p = g_hash_table_lookup(svc->prev, v->uuid);
		Prev *n = g_new0(Prev, 1);

		if (p && g_strcmp0(p->host, v->host) == 0 && v->cpu_ns >= p->cpu_ns &&
		    s->t_us - p->t_us >= SAMPLE_GAP_US / 2 && !v->migrating) {
			gint64 milli = (v->cpu_ns - p->cpu_ns) / (s->t_us - p->t_us);

			v->cpu_milli = CLAMP(milli, 0, v->vcpus * 1000);
			v->measured = TRUE;
		} else {
			missing++;
		}
		n->host = g_strdup(v->host);
		n->cpu_ns = v->cpu_ns;
		n->t_us = s->t_us;
		g_hash_table_insert(next, g_strdup(v->uuid), n);
	}
	g_hash_table_unref(svc->prev);
	svc->prev = g_steal_pointer(&next);
	g_mutex_unlock(&svc->lock);
	return missing;
}

static Sample *measure(IcsDrsService *svc, GError **error)
{
	g_autoptr(Sample) s = read_sample(svc, error);

	if (s == NULL)
		return NULL;
	if (measure_against_prev(svc, s) == 0)
		return g_steal_pointer(&s);
	g_usleep(SAMPLE_GAP_US);
	g_clear_pointer(&s, sample_free);
	s = read_sample(svc, error);
	if (s)
		measure_against_prev(svc, s);
	return g_steal_pointer(&s);
}

/* ---- planning --------------------------------------------------------------- */

static const HostLoad *find_host(const Sample *s, const char *name)
{
	for (guint i = 0; i < s->hosts->len; i++) {
		const HostLoad *h = s->hosts->pdata[i];

		if (g_str_equal(h->name, name))
			return h;
	}
	return NULL;
}

/* The VMs DRS moved since @since_us (balancing leaves them alone). */
static GHashTable *cooling_vms(IcsDrsService *svc, gint64 since_us, GError **error)
{
	g_autoptr(GHashTable) set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(IcsStmt) st = NULL;
	int rc = SQLITE_DONE;

	ics_store_read_begin(svc->store);
	st = ics_store_stmt(
		svc->store,
		"SELECT DISTINCT vm FROM drs_moves WHERE state = 'done' AND ended_us > ?", error);
	if (st) {
		ics_stmt_bind_int(st, 1, since_us);
		while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW)
			g_hash_table_add(set, g_strdup(ics_stmt_text(st, 0)));
	}
	g_clear_pointer(&st, ics_stmt_release);
	ics_store_read_end(svc->store);
	return rc == SQLITE_DONE ? g_steal_pointer(&set) : NULL;
}

static IcsDrsCluster *build_cluster(const Sample *s, const char *evacuate, GHashTable *cooling,
				    GError **error)
{
	g_autoptr(IcsDrsCluster) c = ics_drs_cluster_new();

	for (guint i = 0; i < s->hosts->len; i++) {
		const HostLoad *h = s->hosts->pdata[i];
		IcsDrsHostState state;

		/* Hosts that are off or unavailable are not in the model: their
		 * size is unknown (libvirtd is not asked) and they hold no VM. */
		if (g_str_equal(h->state, "on"))
			state = ICS_DRS_HOST_ON;
		else if (g_str_equal(h->state, "maintenance"))
			state = ICS_DRS_HOST_MAINTENANCE;
		else
			continue;
		if (g_strcmp0(h->name, evacuate) == 0)
			state = ICS_DRS_HOST_MAINTENANCE;
		if (!ics_drs_cluster_add_host(c, h->name, MAX(h->cpus, 1), MAX(h->memory_mib, 1),
					      state, error))
			return NULL;
	}
	if (evacuate && !ics_drs_host_lookup(c, evacuate, &(guint){ 0 })) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "host %s is not a node that is on (DRS cannot evacuate it)", evacuate);
		return NULL;
	}
	for (guint i = 0; i < s->vms->len; i++) {
		const VmLoad *v = s->vms->pdata[i];
		guint host;

		if (!ics_drs_host_lookup(c, v->host, &host))
			continue;
		if (!ics_drs_cluster_add_vm(c, v->uuid, MAX(v->vcpus, 1), v->memory_mib,
					    v->cpu_milli, v->memory_used_mib, v->host, error))
			return NULL;
		if (v->migrating || (cooling && g_hash_table_contains(cooling, v->uuid) &&
				     ics_drs_host_state(c, host) == ICS_DRS_HOST_ON)) {
			const char *here[] = { v->host, NULL };

			if (!ics_drs_cluster_pin(c, v->uuid, here, error))
				return NULL;
		}
	}
	if (!ics_drs_cluster_validate(c, error))
		return NULL;
	return g_steal_pointer(&c);
}

/* JSON has no NaN or infinity (a statistic over no host). */
static double fin(double x)
{
	return isfinite(x) ? x : 0.0;
}

static json_t *score_json(const IcsDrsScore *s)
{
	return json_pack("{s:f, s:f, s:f, s:i, s:f, s:f, s:f, s:f}", "hbal", fin(s->hbal),
			 "objective", fin(s->objective), "penalty", fin(s->penalty), "violations",
			 (int)s->violations, "free_mem_sd", fin(s->free_mem_sd), "vcpu_sd",
			 fin(s->vcpu_sd), "cpu_load_sd", fin(s->cpu_load_sd), "mem_load_sd",
			 fin(s->mem_load_sd));
}

/* Per host: size, VMs, CPU and memory they use, with the VMs where @c
 * puts them. */
static json_t *hosts_json(const IcsDrsCluster *c, const Sample *s)
{
	json_t *out = json_array();

	for (guint h = 0; h < ics_drs_cluster_n_hosts(c); h++) {
		const HostLoad *hl = find_host(s, ics_drs_host_name(c, h));
		gint64 cpu = 0, alloc = 0, used = 0, n = 0;

		for (guint i = 0; i < s->vms->len; i++) {
			const VmLoad *v = s->vms->pdata[i];
			guint vm;

			if (!ics_drs_vm_lookup(c, v->uuid, &vm) || ics_drs_vm_host(c, vm) != h)
				continue;
			cpu += v->cpu_milli;
			alloc += v->memory_mib;
			used += v->memory_used_mib;
			n++;
		}
		json_array_append_new(
			out, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "name",
				       hl->name, "state",
				       ics_drs_host_state(c, h) == ICS_DRS_HOST_ON ? "on"
										   : "maintenance",
				       "cores", (json_int_t)hl->cpus, "memory_mib",
				       (json_int_t)hl->memory_mib, "vm_count", (json_int_t)n,
				       "cpu_used_milli", (json_int_t)cpu, "memory_allocated_mib",
				       (json_int_t)alloc, "memory_used_mib", (json_int_t)used,
				       "cpu_load_pct",
				       hl->cpus ? (double)cpu / 10.0 / (double)hl->cpus : 0.0));
	}
	return out;
}

static json_t *moves_json(const IcsDrsCluster *c, const GArray *moves)
{
	json_t *out = json_array();

	for (guint i = 0; moves && i < moves->len; i++) {
		const IcsDrsMove *m = &g_array_index(moves, IcsDrsMove, i);

		json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:i, s:f}", "vm",
						     ics_drs_vm_name(c, m->vm), "from",
						     ics_drs_host_name(c, m->from), "to",
						     ics_drs_host_name(c, m->to), "wave",
						     (int)m->wave, "gain", fin(m->gain)));
	}
	return out;
}

static json_t *power_json(const IcsDrsCluster *c, const IcsDrsDpmPlan *dpm)
{
	json_t *actions = json_array();

	for (guint i = 0; i < dpm->actions->len; i++) {
		const IcsDrsPowerAction *a = dpm->actions->pdata[i];
		json_t *ev = moves_json(c, a->evacuation);

		json_array_append_new(actions, json_pack("{s:s, s:s, s:o}", "host",
							 ics_drs_host_name(c, a->host), "action",
							 a->power_on ? "power-on" : "power-off",
							 "evacuation", ev));
	}
	return json_pack("{s:f, s:f, s:s?, s:o, s:b}", "demand_before_pct", fin(dpm->demand_before),
			 "demand_after_pct", fin(dpm->demand_after), "explanation",
			 dpm->explanation, "actions", actions, "executed", 0);
}

typedef struct {
	json_t *plan;  /* what is stored in drs_runs.plan */
	json_t *moves; /* [{vm, from, to, wave, gain}] */
} Planned;

static void planned_clear(Planned *p)
{
	g_clear_pointer(&p->plan, json_decref);
	g_clear_pointer(&p->moves, json_decref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Planned, planned_clear)

static gboolean plan(IcsDrsService *svc, const IcsDrsSettings *cfg, const char *evacuate,
		     Planned *out, GError **error)
{
	g_autoptr(Sample) s = measure(svc, error);
	g_autoptr(GHashTable) cooling = NULL;
	g_autoptr(IcsDrsCluster) c = NULL;
	g_autoptr(IcsDrsPlan) p = NULL;
	g_autoptr(IcsDrsDpmPlan) dpm = NULL;
	IcsDrsPolicy policy = { 0 };
	IcsDrsDpmPolicy dpol = { 0 };
	guint measured = 0;
	json_t *before;

	if (s == NULL)
		return FALSE;
	if (evacuate == NULL) {
		cooling = cooling_vms(svc,
				      ics_now_us() - (gint64)cfg->period_s *
							     ICS_DRS_COOLDOWN_PERIODS *
							     G_USEC_PER_SEC,
				      error);
		if (cooling == NULL)
			return FALSE;
	}
	c = build_cluster(s, evacuate, cooling, error);
	if (c == NULL) {
		ics_error_prefix(error, "DRS: ");
		return FALSE;
	}
	/* Evacuating a host plans repairs only: its VMs leave, nothing else
	 * moves. */
	policy.level = evacuate ? 1 : cfg->level;
	policy.moves_per_host = 1;
	policy.ha_reserve_pct = cfg->ha_reserve_pct;
	p = ics_drs_plan(c, &policy);
	dpol.ha_reserve_pct = cfg->ha_reserve_pct;
	dpm = ics_drs_dpm(c, &dpol);
	for (guint i = 0; i < s->vms->len; i++)
		measured += ((VmLoad *)s->vms->pdata[i])->measured;
	before = hosts_json(c, s);
	out->moves = moves_json(c, p->moves);
	out->plan = json_pack("{s:s, s:i, s:i, s:s?, s:I, s:I, s:o, s:{s:o, s:o}, s:i, s:s?, "
			      "s:o}",
			      "mode", ics_drs_mode_name(cfg->mode), "level", (int)policy.level,
			      "ha_reserve_pct", (int)cfg->ha_reserve_pct, "evacuate", evacuate,
			      "vm_count", (json_int_t)ics_drs_cluster_n_vms(c), "vms_measured",
			      (json_int_t)measured, "hosts", before, "score", "before",
			      score_json(&p->before), "after", score_json(&p->after), "waves",
			      (int)p->n_waves, "explanation", p->explanation, "power",
			      power_json(c, dpm));
	if (out->plan == NULL || out->moves == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
			    "DRS: the plan cannot be written as JSON");
		return FALSE;
	}
	ics_drs_plan_apply(c, p);
	json_object_set_new(out->plan, "hosts_after", hosts_json(c, s));
	return TRUE;
}

/* ---- runs in the database --------------------------------------------------- */

static gint64 store_run(IcsDrsService *svc, const char *trigger, const char *state,
			const json_t *plan_json, const json_t *moves, const char *why,
			GError **error)
{
	g_autofree char *text = plan_json ? json_dumps(plan_json, JSON_COMPACT) : NULL;
	gint64 now = ics_now_us(), id;
	json_t *m;
	size_t i;

	if (!ics_store_begin(svc->store, error))
		return -1;
	if (g_str_equal(state, "planned") || g_str_equal(state, "applying")) {
		g_autoptr(IcsStmt) st = ics_store_stmt(svc->store,
						       "UPDATE drs_runs SET state = 'superseded', "
						       "ended_us = ? WHERE state = 'planned'",
						       error);

		if (st == NULL)
			goto fail;
		ics_stmt_bind_int(st, 1, now);
		if (!ics_stmt_run(st, error))
			goto fail;
	}
	{
		g_autoptr(IcsStmt) st = ics_store_stmt(
			svc->store,
			"INSERT INTO drs_runs (trigger, state, plan, error, created_us, ended_us) "
			"VALUES (?, ?, ?, ?, ?, ?)",
			error);

		if (st == NULL)
			goto fail;
		ics_stmt_bind_text(st, 1, trigger);
		ics_stmt_bind_text(st, 2, state);
		ics_stmt_bind_text(st, 3, text);
		ics_stmt_bind_text(st, 4, why);
		ics_stmt_bind_int(st, 5, now);
		if (g_str_equal(state, "failed"))
			ics_stmt_bind_int(st, 6, now);
		if (!ics_stmt_run(st, error))
			goto fail;
		id = ics_store_last_insert_id(svc->store);
	}
	json_array_foreach(moves, i, m)
	{
		g_autoptr(IcsStmt) st = ics_store_stmt(svc->store,
						       "INSERT INTO drs_moves (run_id, seq, wave, "
						       "vm, from_host, to_host, gain, state) "
						       "VALUES (?, ?, ?, ?, ?, ?, ?, 'planned')",
						       error);

		if (st == NULL)
			goto fail;
		ics_stmt_bind_int(st, 1, id);
		ics_stmt_bind_int(st, 2, (gint64)i);
		ics_stmt_bind_int(st, 3, json_integer_value(json_object_get(m, "wave")));
		ics_stmt_bind_text(st, 4, json_string_value(json_object_get(m, "vm")));
		ics_stmt_bind_text(st, 5, json_string_value(json_object_get(m, "from")));
		ics_stmt_bind_text(st, 6, json_string_value(json_object_get(m, "to")));
		sqlite3_bind_double(st, 7, json_real_value(json_object_get(m, "gain")));
		if (!ics_stmt_run(st, error))
			goto fail;
	}
	{
		g_autoptr(IcsStmt) st = ics_store_stmt(svc->store,
						       "DELETE FROM drs_runs WHERE id <= ? - ? AND "
						       "state NOT IN ('planned', 'applying')",
						       error);

		if (st == NULL)
			goto fail;
		ics_stmt_bind_int(st, 1, id);
		ics_stmt_bind_int(st, 2, KEEP_RUNS);
		if (!ics_stmt_run(st, error))
			goto fail;
	}
	if (!ics_store_commit(svc->store, error))
		return -1;
	return id;
fail:
	ics_store_rollback(svc->store);
	return -1;
}

/* One UPDATE in its own transaction: @sql binds state, why, now, then @a
 * and, when @b >= 0, @b. */
static gboolean record_state(IcsDrsService *svc, const char *sql, const char *state,
			     const char *why, gint64 a, gint64 b, GError **error)
{
	g_autoptr(IcsStmt) st = NULL;

	if (!ics_store_begin(svc->store, error))
		return FALSE;
	st = ics_store_stmt(svc->store, sql, error);
	if (st) {
		ics_stmt_bind_text(st, 1, state);
		ics_stmt_bind_text(st, 2, why);
		ics_stmt_bind_int(st, 3, ics_now_us());
		ics_stmt_bind_int(st, 4, a);
		if (b >= 0)
			ics_stmt_bind_int(st, 5, b);
	}
	if (st && ics_stmt_run(st, error)) {
		g_clear_pointer(&st, ics_stmt_release);
		return ics_store_commit(svc->store, error);
	}
	g_clear_pointer(&st, ics_stmt_release);
	ics_store_rollback(svc->store);
	return FALSE;
}

static void set_run_state(IcsDrsService *svc, gint64 id, const char *state, const char *why)
{
	g_autoptr(GError) err = NULL;

	if (!record_state(svc,
			  "UPDATE drs_runs SET state = ?, error = COALESCE(?, error), ended_us = ? "
			  "WHERE id = ?",
			  state, why, id, -1, &err))
		ics_error("DRS: cannot record run %" G_GINT64_FORMAT " as %s: %s", id, state,
			  err->message);
}

static void set_move_state(IcsDrsService *svc, gint64 run, gint64 seq, const char *state,
			   const char *why)
{
	g_autoptr(GError) err = NULL;
	const char *sql = g_str_equal(state, "running")
				  ? "UPDATE drs_moves SET state = ?, error = ?, started_us = ? "
				    "WHERE run_id = ? AND seq = ?"
				  : "UPDATE drs_moves SET state = ?, error = ?, ended_us = ? "
				    "WHERE run_id = ? AND seq = ?";

	if (!record_state(svc, sql, state, why, run, seq, &err))
		ics_error("DRS: cannot record move %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
			  " as %s: %s",
			  run, seq, state, err->message);
}

static json_t *time_or_null(IcsStmt *st, int col)
{
	g_autofree char *t = NULL;

	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return json_null();
	t = ics_timestamp_format(sqlite3_column_int64(st, col));
	return json_string(t);
}

static json_t *text_or_null(IcsStmt *st, int col)
{
	const char *t = ics_stmt_text(st, col);

	return t ? json_string(t) : json_null();
}

/* Run @id as the API shows it (the caller holds a reader or the lock). */
static json_t *run_json(IcsDrsService *svc, gint64 id, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		svc->store,
		"SELECT trigger, state, plan, error, task_id, created_us, ended_us FROM drs_runs "
		"WHERE id = ?",
		error);
	g_autoptr(json_t) out = NULL;
	json_t *moves;
	int rc;

	if (st == NULL)
		return NULL;
	ics_stmt_bind_int(st, 1, id);
	rc = ics_stmt_step(st, error);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
				    "DRS run %" G_GINT64_FORMAT " does not exist", id);
		return NULL;
	}
	out = ics_stmt_text(st, 2) ? json_loads(ics_stmt_text(st, 2), 0, NULL) : NULL;
	if (out == NULL)
		out = json_object();
	json_object_set_new(out, "id", json_integer(id));
	json_object_set_new(out, "trigger", json_string(ics_stmt_text(st, 0)));
	json_object_set_new(out, "state", json_string(ics_stmt_text(st, 1)));
	json_object_set_new(out, "error", text_or_null(st, 3));
	json_object_set_new(out, "task_id",
			    sqlite3_column_type(st, 4) == SQLITE_NULL
				    ? json_null()
				    : json_integer(sqlite3_column_int64(st, 4)));
	json_object_set_new(out, "created_at", time_or_null(st, 5));
	json_object_set_new(out, "ended_at", time_or_null(st, 6));
	g_clear_pointer(&st, ics_stmt_release);

	moves = json_array();
	json_object_set_new(out, "moves", moves);
	st = ics_store_stmt(svc->store,
			    "SELECT m.seq, m.wave, m.vm, v.name, m.from_host, m.to_host, m.gain, "
			    "m.state, m.error, m.started_us, m.ended_us FROM drs_moves m "
			    "LEFT JOIN vms v ON v.uuid = m.vm WHERE m.run_id = ? ORDER BY m.seq",
			    error);
	if (st == NULL)
		return NULL;
	ics_stmt_bind_int(st, 1, id);
	while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW)
		json_array_append_new(
			moves,
			json_pack("{s:I, s:s, s:o, s:s, s:s, s:i, s:f, s:s, s:o, s:o, s:o}", "seq",
				  (json_int_t)sqlite3_column_int64(st, 0), "vm",
				  ics_stmt_text(st, 2), "name", text_or_null(st, 3), "from",
				  ics_stmt_text(st, 4), "to", ics_stmt_text(st, 5), "wave",
				  sqlite3_column_int(st, 1), "gain", sqlite3_column_double(st, 6),
				  "state", ics_stmt_text(st, 7), "error", text_or_null(st, 8),
				  "started_at", time_or_null(st, 9), "ended_at",
				  time_or_null(st, 10)));
	if (rc != SQLITE_DONE)
		return NULL;
	return g_steal_pointer(&out);
}

json_t *ics_drs_service_plan(IcsDrsService *svc, GError **error)
{
	g_autoptr(IcsStmt) st = NULL;
	json_t *out = NULL;
	gint64 id = 0;
	int rc;

	ics_store_read_begin(svc->store);
	st = ics_store_stmt(
		svc->store,
		"SELECT id FROM drs_runs WHERE plan IS NOT NULL AND trigger <> 'maintenance' "
		"ORDER BY id DESC LIMIT 1",
		error);
	if (st && (rc = ics_stmt_step(st, error)) >= 0) {
		if (rc == SQLITE_ROW)
			id = sqlite3_column_int64(st, 0);
		g_clear_pointer(&st, ics_stmt_release);
		out = id ? run_json(svc, id, error) : json_null();
	}
	g_clear_pointer(&st, ics_stmt_release);
	ics_store_read_end(svc->store);
	return out;
}

json_t *ics_drs_service_history(IcsDrsService *svc, gint64 before, gint64 limit, GError **error)
{
	g_autoptr(IcsStmt) st = NULL;
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_autoptr(json_t) items = json_array();
	json_t *out = NULL;
	int rc = -1;

	ics_store_read_begin(svc->store);
	st = ics_store_stmt(
		svc->store,
		"SELECT id FROM drs_runs WHERE (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?", error);
	if (st) {
		ics_stmt_bind_int(st, 1, before);
		ics_stmt_bind_int(st, 2, before);
		ics_stmt_bind_int(st, 3, limit);
		while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW) {
			gint64 id = sqlite3_column_int64(st, 0);

			g_array_append_val(ids, id);
		}
	}
	g_clear_pointer(&st, ics_stmt_release);
	for (guint i = 0; rc == SQLITE_DONE && i < ids->len; i++) {
		json_t *r = run_json(svc, g_array_index(ids, gint64, i), error);

		if (r == NULL)
			rc = -1;
		else
			json_array_append_new(items, r);
	}
	ics_store_read_end(svc->store);
	if (rc != SQLITE_DONE)
		return NULL;
	out = json_pack("{s:O, s:o}", "items", items, "next",
			(gint64)ids->len == limit && ids->len
				? json_integer(g_array_index(ids, gint64, ids->len - 1))
				: json_null());
	return out;
}

/* ---- runs ------------------------------------------------------------------ */

static void current_settings(IcsDrsService *svc, IcsDrsSettings *cfg)
{
	g_mutex_lock(&svc->lock);
	*cfg = svc->cfg;
	g_mutex_unlock(&svc->lock);
}

/* Measure, plan and store; the run's id, or -1 (the failure is stored
 * too, as a failed run). */
static gint64 run_locked(IcsDrsService *svc, const char *trigger, const char *evacuate,
			 GError **error)
{
	g_auto(Planned) p = { 0 };
	IcsDrsSettings cfg;
	g_autoptr(GError) e = NULL;
	gint64 id;

	current_settings(svc, &cfg);
	if (!plan(svc, &cfg, evacuate, &p, &e)) {
		if (!g_error_matches(e, ICS_ERROR, ICS_ERROR_UNAVAILABLE) || svc->ops) {
			g_autoptr(GError) se = NULL;

			if (store_run(svc, trigger, "failed", NULL, NULL, e->message, &se) < 0)
				ics_error("DRS: cannot record a failed run: %s", se->message);
		}
		g_propagate_error(error, g_steal_pointer(&e));
		return -1;
	}
	id = store_run(svc, trigger, evacuate ? "applying" : "planned", p.plan, p.moves, NULL,
		       error);
	if (id > 0)
		ics_info("DRS: run %" G_GINT64_FORMAT " (%s) plans %zu migration(s)", id, trigger,
			 json_array_size(p.moves));
	return id;
}

json_t *ics_drs_service_run(IcsDrsService *svc, const char *trigger, GError **error)
{
	gint64 id;
	json_t *out;

	g_mutex_lock(&svc->run_lock);
	id = run_locked(svc, trigger, NULL, error);
	g_mutex_unlock(&svc->run_lock);
	if (id < 0)
		return NULL;
	ics_store_read_begin(svc->store);
	out = run_json(svc, id, error);
	ics_store_read_end(svc->store);
	return out;
}

/* Close runs left "applying" by a task that ended without closing them
 * (cancelled while queued, manager killed); the id of a run still being
 * applied, or 0.  The caller holds the store lock. */
static gint64 applying_run(IcsDrsService *svc, GError **error)
{
	g_autoptr(IcsStmt) st = ics_store_stmt(
		svc->store, "SELECT id, task_id FROM drs_runs WHERE state = 'applying'", error);
	g_autoptr(GArray) stale = g_array_new(FALSE, FALSE, sizeof(gint64));
	gint64 busy = 0;
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW) {
		gint64 id = sqlite3_column_int64(st, 0);
		gint64 task = sqlite3_column_int64(st, 1);
		gboolean live;

		g_mutex_lock(&svc->lock);
		live = g_hash_table_contains(svc->executing, &id);
		g_mutex_unlock(&svc->lock);
		if (!live && task > 0) {
			g_autoptr(json_t) t = ics_task_get(svc->store, task, NULL, NULL);
			const char *ts = json_string_value(json_object_get(t, "state"));

			live = g_strcmp0(ts, "queued") == 0 || g_strcmp0(ts, "running") == 0;
		}
		if (live)
			busy = id;
		else
			g_array_append_val(stale, id);
	}
	g_clear_pointer(&st, ics_stmt_release);
	if (rc != SQLITE_DONE)
		return -1;
	for (guint i = 0; i < stale->len; i++) {
		g_autoptr(IcsStmt) up =
			ics_store_stmt(svc->store,
				       "UPDATE drs_runs SET state = 'cancelled', ended_us = ?, "
				       "error = COALESCE(error, "
				       "'its task ended before the plan was applied') WHERE id = ?",
				       error);

		if (up == NULL)
			return -1;
		ics_stmt_bind_int(up, 1, ics_now_us());
		ics_stmt_bind_int(up, 2, g_array_index(stale, gint64, i));
		if (!ics_stmt_run(up, error))
			return -1;
	}
	return busy;
}

gint64 ics_drs_service_apply(IcsDrsService *svc, gint64 run_id, gint64 owner_id, GError **error)
{
	g_autoptr(json_t) params = NULL;
	g_autofree char *object = NULL;
	gint64 busy, task;
	const char *state = NULL;

	if (run_id == 0) {
		g_autoptr(IcsStmt) st = NULL;
		int rc;

		ics_store_read_begin(svc->store);
		st = ics_store_stmt(
			svc->store,
			"SELECT id FROM drs_runs WHERE state = 'planned' ORDER BY id DESC "
			"LIMIT 1",
			error);
		rc = st ? ics_stmt_step(st, error) : -1;
		if (rc == SQLITE_ROW)
			run_id = sqlite3_column_int64(st, 0);
		g_clear_pointer(&st, ics_stmt_release);
		ics_store_read_end(svc->store);
		if (rc < 0)
			return -1;
		if (run_id == 0) {
			/* Nothing planned: plan now, and apply that. */
			g_mutex_lock(&svc->run_lock);
			run_id = run_locked(svc, "apply", NULL, error);
			g_mutex_unlock(&svc->run_lock);
			if (run_id < 0)
				return -1;
		}
	}
	if (!ics_store_begin(svc->store, error))
		return -1;
	busy = applying_run(svc, error);
	if (busy < 0)
		goto fail;
	if (busy > 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "DRS run %" G_GINT64_FORMAT " is being applied; wait for its task",
			    busy);
		goto fail;
	}
	{
		g_autoptr(IcsStmt) st = ics_store_stmt(
			svc->store, "SELECT state FROM drs_runs WHERE id = ?", error);
		int rc;

		if (st == NULL)
			goto fail;
		ics_stmt_bind_int(st, 1, run_id);
		rc = ics_stmt_step(st, error);
		if (rc < 0)
			goto fail;
		if (rc == SQLITE_DONE) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
				    "DRS run %" G_GINT64_FORMAT " does not exist", run_id);
			goto fail;
		}
		state = ics_stmt_text(st, 0);
		if (g_strcmp0(state, "planned") != 0) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
				    "DRS run %" G_GINT64_FORMAT
				    " is %s, not a plan to apply; plan again (POST "
				    "/api/v1/drs/plan)",
				    run_id, state);
			goto fail;
		}
	}
	params = json_pack("{s:I}", "run_id", (json_int_t)run_id);
	object = g_strdup_printf("%" G_GINT64_FORMAT, run_id);
	task = ics_task_create(svc->tasks, svc->apply_kind.name, "drs_run", object, owner_id,
			       params, error);
	if (task < 0)
		goto fail;
	{
		g_autoptr(IcsStmt) st = ics_store_stmt(
			svc->store,
			"UPDATE drs_runs SET state = 'applying', task_id = ? WHERE id = ?", error);

		if (st == NULL)
			goto fail;
		ics_stmt_bind_int(st, 1, task);
		ics_stmt_bind_int(st, 2, run_id);
		if (!ics_stmt_run(st, error))
			goto fail;
	}
	if (!ics_store_commit(svc->store, error))
		return -1;
	return task;
fail:
	ics_store_rollback(svc->store);
	return -1;
}

/* ---- applying ---------------------------------------------------------------- */

typedef struct {
	IcsDrsService *svc;
	gint64 run, seq, wave;
	char *vm, *from, *to;
	char *state; /* before this application: "planned", "done", ... */
	const volatile gint *cancelled;
	gboolean ok, skipped;
	GError *error;
} MoveJob;

static void move_job_free(gpointer p)
{
	MoveJob *j = p;

	g_free(j->vm);
	g_free(j->from);
	g_free(j->to);
	g_free(j->state);
	g_clear_error(&j->error);
	g_free(j);
}

static gpointer move_thread(gpointer data)
{
	MoveJob *j = data;
	const IcsClusterOps *ops = j->svc->ops;
	g_autofree char *state = NULL, *host = NULL;

	if (!ops->vm_status(ops->self, j->vm, &state, &host, &j->error)) {
		set_move_state(j->svc, j->run, j->seq, "failed", j->error->message);
		return NULL;
	}
	if (g_strcmp0(state, "running") == 0 && g_strcmp0(host, j->to) == 0) {
		/* Done before (a restarted application) or by someone else. */
		set_move_state(j->svc, j->run, j->seq, "done", NULL);
		j->ok = TRUE;
		return NULL;
	}
	if (g_strcmp0(state, "running") != 0 || g_strcmp0(host, j->from) != 0) {
		g_autofree char *why =
			g_strdup_printf("VM is %s%s%s now, not running on %s", state,
					host ? " on " : "", host ? host : "", j->from);

		set_move_state(j->svc, j->run, j->seq, "skipped", why);
		j->ok = j->skipped = TRUE;
		return NULL;
	}
	set_move_state(j->svc, j->run, j->seq, "running", NULL);
	j->ok = ops->migrate_vm(ops->self, j->vm, j->to, NULL, NULL, j->cancelled, &j->error);
	set_move_state(j->svc, j->run, j->seq, j->ok ? "done" : "failed",
		       j->ok ? NULL : j->error->message);
	if (j->ok)
		ics_notice("DRS: run %" G_GINT64_FORMAT ": VM %s migrated from %s to %s", j->run,
			   j->vm, j->from, j->to);
	else
		ics_warning("DRS: run %" G_GINT64_FORMAT ": VM %s from %s to %s: %s", j->run, j->vm,
			    j->from, j->to, j->error->message);
	return NULL;
}

static GPtrArray *load_moves(IcsDrsService *svc, gint64 run, GError **error)
{
	g_autoptr(GPtrArray) jobs = g_ptr_array_new_with_free_func(move_job_free);
	g_autoptr(IcsStmt) st = NULL;
	int rc = -1;

	ics_store_read_begin(svc->store);
	st = ics_store_stmt(svc->store,
			    "SELECT seq, wave, vm, from_host, to_host, state FROM drs_moves "
			    "WHERE run_id = ? ORDER BY seq",
			    error);
	if (st) {
		ics_stmt_bind_int(st, 1, run);
		while ((rc = ics_stmt_step(st, error)) == SQLITE_ROW) {
			MoveJob *j = g_new0(MoveJob, 1);

			j->svc = svc;
			j->run = run;
			j->seq = sqlite3_column_int64(st, 0);
			j->wave = sqlite3_column_int64(st, 1);
			j->vm = g_strdup(ics_stmt_text(st, 2));
			j->from = g_strdup(ics_stmt_text(st, 3));
			j->to = g_strdup(ics_stmt_text(st, 4));
			j->state = g_strdup(ics_stmt_text(st, 5));
			g_ptr_array_add(jobs, j);
		}
	}
	g_clear_pointer(&st, ics_stmt_release);
	ics_store_read_end(svc->store);
	return rc == SQLITE_DONE ? g_steal_pointer(&jobs) : NULL;
}

/* Apply run @run (its moves in the database), wave by wave. */
static gboolean execute(IcsDrsService *svc, gint64 run, IcsClusterProgressFn progress,
			void *progress_data, const volatile gint *cancelled, guint *n_done,
			guint *n_failed, guint *n_skipped, GError **error)
{
	g_autoptr(GPtrArray) jobs = load_moves(svc, run, error);
	const char *stop_why = NULL;
	GError *first = NULL;
	guint i = 0, finished = 0;

	*n_done = *n_failed = *n_skipped = 0;
	if (jobs == NULL)
		return FALSE;
	if (svc->ops == NULL || svc->ops->migrate_vm == NULL || svc->ops->vm_status == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "no cluster adapter: DRS cannot migrate VMs");
		return FALSE;
	}
	while (i < jobs->len) {
		gint64 wave = ((MoveJob *)jobs->pdata[i])->wave;
		g_autoptr(GPtrArray) threads = g_ptr_array_new();
		guint start = i;

		if (cancelled && g_atomic_int_get(cancelled))
			stop_why = "cancelled";
		for (; i < jobs->len && ((MoveJob *)jobs->pdata[i])->wave == wave; i++) {
			MoveJob *j = jobs->pdata[i];

			j->cancelled = cancelled;
			if (g_str_equal(j->state, "done")) {
				j->ok = TRUE;
				continue;
			}
			if (stop_why) {
				set_move_state(svc, run, j->seq, "skipped", stop_why);
				j->ok = j->skipped = TRUE;
				continue;
			}
			g_ptr_array_add(threads, g_thread_new("drs-move", move_thread, j));
		}
		for (guint t = 0; t < threads->len; t++)
			g_thread_join(threads->pdata[t]);
		for (guint k = start; k < i; k++) {
			MoveJob *j = jobs->pdata[k];

			if (!j->ok) {
				(*n_failed)++;
				if (first == NULL)
					first = g_error_copy(j->error);
			} else if (j->skipped) {
				(*n_skipped)++;
			} else {
				(*n_done)++;
			}
			finished++;
		}
		if (*n_failed && stop_why == NULL)
			stop_why = "an earlier migration of the plan failed";
		if (progress) {
			g_autofree char *msg =
				g_strdup_printf("%u of %u migrations done (%u failed, %u skipped)",
						*n_done, jobs->len, *n_failed, *n_skipped);

			progress(progress_data, jobs->len ? finished * 100 / jobs->len : 100, msg);
		}
	}
	if (progress && jobs->len == 0)
		progress(progress_data, 100, "nothing to migrate");
	if (cancelled && g_atomic_int_get(cancelled)) {
		g_clear_error(&first);
		set_run_state(svc, run, "cancelled", "cancelled");
		ics_task_set_cancelled_error(error);
		return FALSE;
	}
	if (first) {
		g_autofree char *why = g_strdup_printf("%u of %u migrations failed; first: %s",
						       *n_failed, jobs->len, first->message);

		set_run_state(svc, run, "partial", why);
		g_set_error(error, ICS_ERROR,
			    first->domain == ICS_ERROR ? first->code : ICS_ERROR_IO,
			    "DRS run %" G_GINT64_FORMAT ": %s", run, why);
		g_error_free(first);
		return FALSE;
	}
	set_run_state(svc, run, "applied", NULL);
	return TRUE;
}

static void task_progress(void *data, guint percent, const char *message)
{
	ics_task_progress(data, percent, message);
}

static void executing(IcsDrsService *svc, gint64 run, gboolean on)
{
	g_mutex_lock(&svc->lock);
	if (on)
		g_hash_table_add(svc->executing, g_memdup2(&run, sizeof(run)));
	else
		g_hash_table_remove(svc->executing, &run);
	g_mutex_unlock(&svc->lock);
}

static json_t *run_apply(IcsTaskContext *ctx, const json_t *params, GError **error)
{
	IcsDrsService *svc = ics_task_data(ctx);
	gint64 run = json_integer_value(json_object_get(params, "run_id"));
	guint done, failed, skipped;
	gboolean ok;

	ics_task_progress(ctx, 0, "applying the DRS plan");
	executing(svc, run, TRUE);
	ok = execute(svc, run, task_progress, ctx, ics_task_cancel_flag(ctx), &done, &failed,
		     &skipped, error);
	executing(svc, run, FALSE);
	if (!ok)
		return NULL;
	return json_pack("{s:I, s:i, s:i, s:i}", "run_id", (json_int_t)run, "done", (int)done,
			 "failed", (int)failed, "skipped", (int)skipped);
}

gboolean ics_drs_service_evacuate(IcsDrsService *svc, const char *host,
				  IcsClusterProgressFn progress, void *progress_data,
				  const volatile gint *cancelled, GError **error)
{
	guint done, failed, skipped;
	gint64 run, busy;
	gboolean ok;

	/* Two sets of migrations planned apart could fill the same host. */
	ics_store_lock(svc->store);
	busy = applying_run(svc, error);
	ics_store_unlock(svc->store);
	if (busy < 0)
		return FALSE;
	if (busy > 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_BUSY,
			    "DRS run %" G_GINT64_FORMAT " is being applied", busy);
		return FALSE;
	}
	g_mutex_lock(&svc->run_lock);
	run = run_locked(svc, "maintenance", host, error);
	if (run > 0)
		executing(svc, run, TRUE);
	g_mutex_unlock(&svc->run_lock);
	if (run < 0)
		return FALSE;
	ok = execute(svc, run, progress, progress_data, cancelled, &done, &failed, &skipped, error);
	executing(svc, run, FALSE);
	return ok;
}

/* ---- the period ----------------------------------------------------------------- */

static void periodic_run(IcsDrsService *svc, const IcsDrsSettings *cfg)
{
	g_autoptr(GError) err = NULL;
	gint64 busy, id, task;

	ics_store_lock(svc->store);
	busy = applying_run(svc, &err);
	ics_store_unlock(svc->store);
	if (busy != 0) {
		if (busy < 0)
			ics_warning("DRS: %s", err->message);
		else
			ics_info("DRS: run %" G_GINT64_FORMAT " is being applied; no new plan now",
				 busy);
		return;
	}
	g_mutex_lock(&svc->run_lock);
	id = run_locked(svc, "periodic", NULL, &err);
	g_mutex_unlock(&svc->run_lock);
	if (id < 0) {
		ics_warning("DRS: periodic run: %s", err->message);
		return;
	}
	if (cfg->mode != ICS_DRS_MODE_AUTOMATIC)
		return;
	{
		g_autoptr(IcsStmt) st = NULL;
		gint64 n = 0;

		ics_store_read_begin(svc->store);
		st = ics_store_stmt(svc->store, "SELECT count(*) FROM drs_moves WHERE run_id = ?",
				    &err);
		if (st) {
			ics_stmt_bind_int(st, 1, id);
			if (ics_stmt_step(st, &err) == SQLITE_ROW)
				n = sqlite3_column_int64(st, 0);
		}
		g_clear_pointer(&st, ics_stmt_release);
		ics_store_read_end(svc->store);
		if (n == 0)
			return;
	}
	task = ics_drs_service_apply(svc, id, 0, &err);
	if (task < 0)
		ics_warning("DRS: applying run %" G_GINT64_FORMAT ": %s", id, err->message);
	else
		ics_notice("DRS: applying run %" G_GINT64_FORMAT " (task %" G_GINT64_FORMAT ")", id,
			   task);
}

static gpointer periodic(gpointer data)
{
	IcsDrsService *svc = data;

	g_mutex_lock(&svc->lock);
	while (!svc->stopping) {
		gint64 deadline =
			g_get_monotonic_time() + (gint64)svc->cfg.period_s * G_USEC_PER_SEC;
		IcsDrsSettings cfg;

		svc->reset = FALSE;
		while (!svc->stopping && !svc->reset && g_get_monotonic_time() < deadline)
			g_cond_wait_until(&svc->cond, &svc->lock, deadline);
		if (svc->stopping || svc->reset)
			continue;
		cfg = svc->cfg;
		g_mutex_unlock(&svc->lock);
		if (cfg.mode != ICS_DRS_MODE_OFF && svc->ops && svc->ops->load)
			periodic_run(svc, &cfg);
		g_mutex_lock(&svc->lock);
	}
	g_mutex_unlock(&svc->lock);
	return NULL;
}

/* ---- life -------------------------------------------------------------------- */

IcsDrsService *ics_drs_service_new(IcsStore *store, IcsTaskRunner *tasks, const IcsClusterOps *ops,
				   GError **error)
{
	g_autoptr(IcsDrsService) svc = g_new0(IcsDrsService, 1);

	svc->store = store;
	svc->tasks = tasks;
	svc->ops = ops;
	g_mutex_init(&svc->lock);
	g_mutex_init(&svc->run_lock);
	g_cond_init(&svc->cond);
	svc->prev = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, prev_free);
	svc->executing = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	if (!load_settings(svc, &svc->cfg, NULL, error))
		return NULL;
	/* Idempotent: a move already done is not redone after a restart. */
	svc->apply_kind = (IcsTaskKind){ "drs.apply", run_apply, TRUE, svc };
	ics_task_runner_register(tasks, &svc->apply_kind);
	return g_steal_pointer(&svc);
}

void ics_drs_service_start(IcsDrsService *svc)
{
	if (svc->thread == NULL)
		svc->thread = g_thread_new("drs", periodic, svc);
}

void ics_drs_service_stop(IcsDrsService *svc)
{
	if (svc == NULL || svc->thread == NULL)
		return;
	g_mutex_lock(&svc->lock);
	svc->stopping = TRUE;
	g_cond_broadcast(&svc->cond);
	g_mutex_unlock(&svc->lock);
	g_thread_join(svc->thread);
	svc->thread = NULL;
}

void ics_drs_service_free(IcsDrsService *svc)
{
	if (svc == NULL)
		return;
	ics_drs_service_stop(svc);
	g_hash_table_unref(svc->prev);
	g_hash_table_unref(svc->executing);
	g_mutex_clear(&svc->lock);
	g_mutex_clear(&svc->run_lock);
	g_cond_clear(&svc->cond);
	g_free(svc);
}
