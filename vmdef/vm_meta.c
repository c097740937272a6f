/*
 * vm_meta.c: the ICS VM metadata (vm.json) -- parse, validate, serialise.
 *
 * vm.json is the source of truth of a VM; the domain XML is derived from it.
 * The parser is strict on purpose: an unknown key is an error (a typo such
 * as "disk" for "disks" must not silently give a VM without disks), types
 * are exact (no null, no real for an integer), and every limit is checked
 * here, before the definition reaches libvirt, so the message can say which
 * field is wrong and why: `vm "web1": disks[1].path "/etc/passwd" is not
 * under pool /srv/ics/pools/shared`.
 *
 * Parsing normalises: the uuid and MACs become lower case, disk targets and
 * MACs left out get their values (MACs derived from the uuid, so the same
 * metadata always gives the same MACs).  Serialisation writes every field,
 * defaults included, so the file says what the VM is without reference to
 * this code's defaults, and parse(serialize(m)) == m.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/json.h"
#include "ics/vmdef.h"

/* ---- validation context ------------------------------------------------ */

typedef struct {
	char *label; /* `vm "web1"`, used in front of every message */
	GError **error;
} Ctx;

static gboolean reject(Ctx *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static gboolean reject(Ctx *c, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(c->error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT, "%s: %s", c->label, msg);
	return FALSE;
}

/* "disks[1].path" or "vcpus". */
static char *field(const char *where, const char *key)
{
	return where && *where ? g_strdup_printf("%s.%s", where, key) : g_strdup(key);
}

static gboolean in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return TRUE;
	return FALSE;
}

static char *list_text(const char *const *list)
{
	return g_strjoinv("|", (char **)list);
}

static gboolean check_keys(Ctx *c, const json_t *obj, const char *where, const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v)
	{
		if (!in_list(key, allowed)) {
			g_autofree char *ok = list_text(allowed);

			if (where && *where)
				return reject(c, "unknown key \"%s\" in %s (known: %s)", key, where,
					      ok);
			return reject(c, "unknown key \"%s\" (known: %s)", key, ok);
		}
	}
	return TRUE;
}

static const json_t *member(Ctx *c, const json_t *obj, const char *where, const char *key,
			    json_type type, gboolean required, gboolean *ok)
{
	const json_t *v = json_object_get(obj, key);
	g_autofree char *f = NULL;

	*ok = TRUE;
	if (v == NULL) {
		if (required) {
			f = field(where, key);
			*ok = reject(c, "%s is required", f);
		}
		return NULL;
	}
	if (json_typeof(v) != type && !(type == JSON_TRUE && json_is_boolean(v))) {
		static const char *const names[] = { "an object",  "an array",	    "a string",
						     "an integer", "a real number", "a boolean",
						     "a boolean",  "null" };
		f = field(where, key);
		*ok = reject(c, "%s must be %s, not %s", f, names[type], ics_json_type_name(v));
		return NULL;
	}
	return v;
}

/* No control characters: the text ends up in XML and in log lines. */
static gboolean printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return FALSE;
	return TRUE;
}

static gboolean get_str(Ctx *c, const json_t *obj, const char *where, const char *key,
			gboolean required, const char *def, char **out)
{
	gboolean ok;
	const json_t *v = member(c, obj, where, key, JSON_STRING, required, &ok);
	const char *s;

	if (!ok)
		return FALSE;
	if (v == NULL) {
		*out = g_strdup(def);
		return TRUE;
	}
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v) || !g_utf8_validate(s, -1, NULL) || !printable(s)) {
		g_autofree char *f = field(where, key);
		return reject(c, "%s contains control characters or invalid UTF-8", f);
	}
	if (*s == '\0') {
		g_autofree char *f = field(where, key);
		return reject(c, "%s must not be empty", f);
	}
	*out = g_strdup(s);
	return TRUE;
}

static gboolean get_enum(Ctx *c, const json_t *obj, const char *where, const char *key,
			 const char *def, const char *const *allowed, char **out)
{
	if (!get_str(c, obj, where, key, def == NULL, def, out))
		return FALSE;
	if (*out != NULL && !in_list(*out, allowed)) {
		g_autofree char *f = field(where, key);
		g_autofree char *ok = list_text(allowed);
		return reject(c, "%s \"%s\" is not one of %s", f, *out, ok);
	}
	return TRUE;
}

static gboolean get_int(Ctx *c, const json_t *obj, const char *where, const char *key,
			gboolean required, gint64 def, gint64 min, gint64 max, gint64 *out)
{
	gboolean ok;
	const json_t *v = member(c, obj, where, key, JSON_INTEGER, required, &ok);

	if (!ok)
		return FALSE;
	*out = v ? json_integer_value(v) : def;
	if (v && (*out < min || *out > max)) {
		g_autofree char *f = field(where, key);
		return reject(c,
			      "%s %" G_GINT64_FORMAT " is out of range %" G_GINT64_FORMAT
			      "..%" G_GINT64_FORMAT,
			      f, *out, min, max);
	}
	return TRUE;
}

static gboolean get_bool(Ctx *c, const json_t *obj, const char *where, const char *key,
			 gboolean def, gboolean *out)
{
	gboolean ok;
	const json_t *v = member(c, obj, where, key, JSON_TRUE, FALSE, &ok);

	if (!ok)
		return FALSE;
	*out = v ? json_is_true(v) : def;
	return TRUE;
}

/* ---- value checks ------------------------------------------------------ */

static gboolean valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 63 || !g_ascii_isalnum(s[0]))
		return FALSE;
	for (size_t i = 1; i < n; i++)
		if (!g_ascii_isalnum(s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return FALSE;
	return TRUE;
}

static gboolean valid_uuid(const char *s)
{
	static const char nil[] = "00000000-0000-0000-0000-000000000000";

	return g_uuid_string_is_valid(s) && g_ascii_strcasecmp(s, nil) != 0;
}

/* Absolute, normalised (no "", "." or ".." components), at most PATH_MAX. */
static const char *path_problem(const char *p)
{
	g_auto(GStrv) parts = NULL;

	if (p[0] != '/')
		return "is not an absolute path";
	if (strlen(p) > 4095)
		return "is longer than 4095 bytes";
	if (strcmp(p, "/") == 0)
		return "is the root directory";
	parts = g_strsplit(p + 1, "/", -1);
	for (char **s = parts; *s; s++)
		if (**s == '\0' || strcmp(*s, ".") == 0 || strcmp(*s, "..") == 0)
			return "is not a normalised path (empty, \".\" or \"..\" component)";
	return NULL;
}

static gboolean check_path(Ctx *c, const char *f, const char *p)
{
	const char *why = path_problem(p);

	if (why)
		return reject(c, "%s \"%s\" %s", f, p, why);
	return TRUE;
}

static gboolean under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && path[n] == '/' && path[n + 1] != '\0';
}

static gboolean parse_mac(const char *s, guint8 out[6])
{
	if (strlen(s) != 17)
		return FALSE;
	for (int i = 0; i < 6; i++) {
		int hi = g_ascii_xdigit_value(s[3 * i]);
		int lo = g_ascii_xdigit_value(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return FALSE;
		out[i] = (guint8)(hi << 4 | lo);
	}
	return TRUE;
}

/* Linux interface names: 1..15 bytes, no '/', no whitespace. */
static gboolean valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 15)
		return FALSE;
	for (; *s; s++)
		if (*s == '/' || g_ascii_isspace(*s) || *s == ':')
			return FALSE;
	return TRUE;
}

static gboolean valid_token(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n < 1 || n > max)
		return FALSE;
	for (; *s; s++)
		if (!g_ascii_isalnum(*s) && *s != '.' && *s != '_' && *s != '-')
			return FALSE;
	return TRUE;
}

/* libvirt's disk naming: 0 -> a, 25 -> z, 26 -> aa. */
static char *target_name(const char *prefix, guint idx)
{
	char letters[8];
	int i = (int)sizeof(letters) - 1;

	letters[i] = '\0';
	for (guint n = idx + 1; n > 0 && i > 0; n = (n - 1) / 26)
		letters[--i] = (char)('a' + (n - 1) % 26);
	return g_strconcat(prefix, letters + i, NULL);
}

static const char *bus_prefix(const char *bus)
{
	return strcmp(bus, "virtio") == 0 ? "vd" : "sd";
}

static gboolean valid_target(const char *t, const char *prefix)
{
	size_t n = strlen(t);

	if (n < 3 || n > 5 || strncmp(t, prefix, 2) != 0)
		return FALSE;
	for (size_t i = 2; i < n; i++)
		if (t[i] < 'a' || t[i] > 'z')
			return FALSE;
	return TRUE;
}

/* The cdrom goes on the first of sda..sdz the disks leave free. */
static gboolean sd_letter_free(const IcsVmMeta *m)
{
	guint used = 0;

	for (guint i = 0; i < m->disks->len; i++) {
		const char *t = ((IcsVmDisk *)m->disks->pdata[i])->target;

		if (strlen(t) == 3 && strncmp(t, "sd", 2) == 0)
			used++;
	}
	return used < 26;
}

/* ---- public helpers ---------------------------------------------------- */

const char *ics_vm_crash_policy_name(IcsVmCrashPolicy policy)
{
	switch (policy) {
	case ICS_VM_CRASH_NONE:
		return "none";
	case ICS_VM_CRASH_RESTART:
		return "restart";
	case ICS_VM_CRASH_POWEROFF:
		return "poweroff";
	case ICS_VM_CRASH_HA:
		return "ha";
	}
	return "ha";
}

char *ics_vm_default_mac(const char *uuid, guint index)
{
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_autofree char *lower = g_ascii_strdown(uuid, -1);
	g_autofree char *input = g_strdup_printf("%s/nic%u", lower, index);
	guint8 digest[32];
	gsize len = sizeof(digest);

	g_checksum_update(sum, (const guchar *)input, -1);
	g_checksum_get_digest(sum, digest, &len);
	return g_strdup_printf("52:54:00:%02x:%02x:%02x", digest[0], digest[1], digest[2]);
}

const char *ics_vm_watchdog_action(const IcsVmMeta *m)
{
	if (!m->has_watchdog)
		return NULL;
	if (m->watchdog_action)
		return m->watchdog_action;
	/* Expiry is a crash: end the guest so the cluster sees it gone, or
	 * keep it (paused) for inspection when the policy is "none". */
	return m->crash_policy == ICS_VM_CRASH_NONE ? "pause" : "poweroff";
}

static void disk_free(gpointer p)
{
	IcsVmDisk *d = p;

	g_free(d->path);
	g_free(d->format);
	g_free(d->bus);
	g_free(d->target);
	g_free(d->cache);
	g_free(d->serial);
	g_free(d);
}

static void nic_free(gpointer p)
{
	IcsVmNic *n = p;

	g_free(n->mac);
	g_free(n->model);
	g_free(n->source_type);
	g_free(n->source_name);
	g_free(n);
}

void ics_vm_meta_free(IcsVmMeta *m)
{
	if (m == NULL)
		return;
	g_free(m->uuid);
	g_free(m->name);
	g_strfreev(m->tags);
	g_free(m->virt_type);
	g_free(m->arch);
	g_free(m->machine);
	g_free(m->firmware);
	g_free(m->graphics);
	g_strfreev(m->boot);
	g_free(m->kernel_path);
	g_free(m->kernel_initrd);
	g_free(m->kernel_cmdline);
	if (m->disks)
		g_ptr_array_unref(m->disks);
	g_free(m->cdrom);
	if (m->nics)
		g_ptr_array_unref(m->nics);
	g_free(m->watchdog_model);
	g_free(m->watchdog_action);
	g_free(m->lease_lockspace);
	g_free(m->lease_name);
	g_free(m->lease_path);
	g_free(m->pool_path);
	g_free(m);
}

/* ---- parsing ----------------------------------------------------------- */

static const char *const top_keys[] = { "format",	"uuid",	     "name",	       "tags",
					"vcpus",
					"memory_mib",	"virt_type", "arch",	       "machine",
					"firmware",	"boot",	     "kernel",	       "disks",
					"cdrom",	"nics",	     "serial_console", "watchdog",
					"crash_policy", "migration", "lease",	       "graphics",
					NULL };
static const char *const disk_keys[] = { "path",  "format",   "bus",	"target",
					 "cache", "readonly", "serial", "shared_outside_pool",
					 NULL };
static const char *const nic_keys[] = { "mac", "model", "source", "vlan", NULL };
static const char *const source_keys[] = { "type", "name", NULL };
static const char *const kernel_keys[] = { "path", "initrd", "cmdline", NULL };
static const char *const watchdog_keys[] = { "model", "action", NULL };
static const char *const migration_keys[] = { "bandwidth_mibps", "max_downtime_ms", NULL };
static const char *const lease_keys[] = { "lockspace", "name", "path", "offset", NULL };

static const char *const virt_types[] = { "kvm", "qemu", NULL };
static const char *const arches[] = { "x86_64", "i686", NULL };
static const char *const firmwares[] = { "bios", "uefi", NULL };
static const char *const graphics_kinds[] = { "vnc", "none", NULL };
static const char *const boot_devs[] = { "hd", "cdrom", "network", NULL };
static const char *const disk_formats[] = { "raw", "qcow2", NULL };
static const char *const disk_buses[] = { "virtio", "sata", "scsi", NULL };
static const char *const disk_caches[] = { "none", "writeback", "writethrough", "directsync",
					   NULL };
static const char *const nic_models[] = { "virtio", "e1000", "rtl8139", NULL };
static const char *const source_types[] = { "bridge", "network", "ovs", NULL };
static const char *const wd_models[] = { "i6300esb", "ib700", NULL };
static const char *const wd_actions[] = { "reset", "poweroff", "pause", "none", "dump", NULL };
static const char *const crash_policies[] = { "none", "restart", "poweroff", "ha", NULL };

#define MIB (G_GUINT64_CONSTANT(1) << 20)

static gboolean parse_kernel(Ctx *c, IcsVmMeta *m, const json_t *k)
{
	if (!check_keys(c, k, "kernel", kernel_keys) ||
	    !get_str(c, k, "kernel", "path", TRUE, NULL, &m->kernel_path) ||
	    !check_path(c, "kernel.path", m->kernel_path) ||
	    !get_str(c, k, "kernel", "initrd", FALSE, NULL, &m->kernel_initrd) ||
	    (m->kernel_initrd && !check_path(c, "kernel.initrd", m->kernel_initrd)) ||
	    !get_str(c, k, "kernel", "cmdline", FALSE, NULL, &m->kernel_cmdline))
		return FALSE;
	if (m->kernel_cmdline && strlen(m->kernel_cmdline) > 2048)
		return reject(c, "kernel.cmdline is longer than 2048 bytes");
	return TRUE;
}

static gboolean parse_tags(Ctx *c, IcsVmMeta *m, const json_t *t)
{
	size_t i;
	json_t *v;

	if (json_array_size(t) > ICS_VM_MAX_TAGS)
		return reject(c, "tags lists %zu tags, at most %d are supported",
			      json_array_size(t), ICS_VM_MAX_TAGS);
	if (json_array_size(t) == 0)
		return TRUE;
	m->tags = g_new0(char *, json_array_size(t) + 1);
	json_array_foreach(t, i, v)
	{
		if (!json_is_string(v))
			return reject(c, "tags[%zu] must be a string, not %s", i, ics_json_type_name(v));
		if (!valid_name(json_string_value(v)))
			return reject(c, "tags[%zu] \"%s\" must match [A-Za-z0-9][A-Za-z0-9._-]{0,62}",
				      i, json_string_value(v));
		if (g_strv_contains((const char *const *)m->tags, json_string_value(v)))
			return reject(c, "tags[%zu] \"%s\" is listed twice", i,
				      json_string_value(v));
		m->tags[i] = g_strdup(json_string_value(v));
	}
	return TRUE;
}

static gboolean parse_boot(Ctx *c, IcsVmMeta *m, const json_t *b)
{
	size_t n = json_array_size(b);
	size_t i;
	json_t *v;

	if (n == 0)
		return reject(c, "boot must list at least one device");
	m->boot = g_new0(char *, n + 1);
	json_array_foreach(b, i, v)
	{
		if (!json_is_string(v))
			return reject(c, "boot[%zu] must be a string, not %s", i, ics_json_type_name(v));
		if (!in_list(json_string_value(v), boot_devs))
			return reject(c, "boot[%zu] \"%s\" is not one of hd|cdrom|network", i,
				      json_string_value(v));
		if (g_strv_contains((const char *const *)m->boot, json_string_value(v)))
			return reject(c, "boot[%zu] \"%s\" is listed twice", i,
				      json_string_value(v));
		m->boot[i] = g_strdup(json_string_value(v));
	}
	return TRUE;
}

static gboolean parse_disk(Ctx *c, IcsVmMeta *m, const json_t *d, size_t i)
{
	g_autofree char *where = g_strdup_printf("disks[%zu]", i);
	g_autofree char *fpath = field(where, "path");
	IcsVmDisk *disk = g_new0(IcsVmDisk, 1);

	g_ptr_array_add(m->disks, disk);
	if (!json_is_object(d))
		return reject(c, "%s must be an object, not %s", where, ics_json_type_name(d));
	if (!check_keys(c, d, where, disk_keys) ||
	    !get_str(c, d, where, "path", TRUE, NULL, &disk->path) ||
	    !check_path(c, fpath, disk->path) ||
	    !get_bool(c, d, where, "shared_outside_pool", FALSE, &disk->shared_outside_pool) ||
	    !get_enum(c, d, where, "format", "raw", disk_formats, &disk->format) ||
	    !get_enum(c, d, where, "bus", "virtio", disk_buses, &disk->bus) ||
	    !get_str(c, d, where, "target", FALSE, NULL, &disk->target) ||
	    !get_enum(c, d, where, "cache", "none", disk_caches, &disk->cache) ||
	    !get_bool(c, d, where, "readonly", FALSE, &disk->readonly) ||
	    !get_str(c, d, where, "serial", FALSE, NULL, &disk->serial))
		return FALSE;
	if (m->pool_path && !disk->shared_outside_pool && !under(disk->path, m->pool_path))
		return reject(c,
			      "%s \"%s\" is not under pool %s (set shared_outside_pool for "
			      "storage every host sees elsewhere)",
			      fpath, disk->path, m->pool_path);
	if (m->pool_path && under(disk->path, m->pool_path)) {
		g_autofree char *ics = g_build_filename(m->pool_path, ".ics", NULL);

		if (under(disk->path, ics))
			return reject(c, "%s \"%s\" is inside the pool's .ics directory", fpath,
				      disk->path);
	}
	if (disk->target && !valid_target(disk->target, bus_prefix(disk->bus)))
		return reject(c, "%s.target \"%s\" is not a %s target (%sa..%szzz)", where,
			      disk->target, disk->bus, bus_prefix(disk->bus),
			      bus_prefix(disk->bus));
	if (disk->serial && !valid_token(disk->serial, 20))
		return reject(c, "%s.serial \"%s\" must be 1..20 of [A-Za-z0-9._-]", where,
			      disk->serial);
	return TRUE;
}

/* Fill in absent targets and check that all are unique (the cdrom takes the
 * first free sd name when the domain XML is made). */
static gboolean assign_targets(Ctx *c, IcsVmMeta *m)
{
	g_autoptr(GHashTable) used = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; i < m->disks->len; i++) {
		IcsVmDisk *d = m->disks->pdata[i];

		if (d->target == NULL)
			continue;
		if (!g_hash_table_add(used, d->target))
			return reject(c, "disks[%u].target \"%s\" is used by another disk", i,
				      d->target);
	}
	for (guint i = 0; i < m->disks->len; i++) {
		IcsVmDisk *d = m->disks->pdata[i];

		for (guint k = 0; d->target == NULL; k++) {
			g_autofree char *t = target_name(bus_prefix(d->bus), k);

			if (!g_hash_table_contains(used, t)) {
				d->target = g_steal_pointer(&t);
				g_hash_table_add(used, d->target);
			}
		}
	}
	return TRUE;
}

static gboolean parse_nic(Ctx *c, IcsVmMeta *m, const json_t *n, size_t i)
{
	g_autofree char *where = g_strdup_printf("nics[%zu]", i);
	g_autofree char *swhere = g_strdup_printf("nics[%zu].source", i);
	IcsVmNic *nic = g_new0(IcsVmNic, 1);
	const json_t *src;
	gint64 vlan;
	gboolean ok;

	g_ptr_array_add(m->nics, nic);
	if (!json_is_object(n))
		return reject(c, "%s must be an object, not %s", where, ics_json_type_name(n));
	if (!check_keys(c, n, where, nic_keys) ||
	    !get_str(c, n, where, "mac", FALSE, NULL, &nic->mac) ||
	    !get_enum(c, n, where, "model", "virtio", nic_models, &nic->model) ||
	    !get_int(c, n, where, "vlan", FALSE, 0, 1, 4094, &vlan))
		return FALSE;
	nic->vlan = (guint)vlan;
	src = member(c, n, where, "source", JSON_OBJECT, TRUE, &ok);
	if (!ok)
		return FALSE;
	if (!check_keys(c, src, swhere, source_keys) ||
	    !get_enum(c, src, swhere, "type", NULL, source_types, &nic->source_type) ||
	    !get_str(c, src, swhere, "name", TRUE, NULL, &nic->source_name))
		return FALSE;
	if (strcmp(nic->source_type, "network") == 0 ? !valid_token(nic->source_name, 64)
						     : !valid_ifname(nic->source_name))
		return reject(c, "%s.name \"%s\" is not a valid %s name", swhere, nic->source_name,
			      nic->source_type);
	if (nic->vlan && strcmp(nic->source_type, "ovs") != 0)
		return reject(c, "%s.vlan is only supported with source type ovs, not %s", where,
			      nic->source_type);
	if (nic->mac) {
		guint8 b[6];
		char *lower;

		if (!parse_mac(nic->mac, b))
			return reject(c, "%s.mac \"%s\" is not a MAC address (xx:xx:xx:xx:xx:xx)",
				      where, nic->mac);
		if (b[0] & 1)
			return reject(c, "%s.mac \"%s\" is a multicast address", where, nic->mac);
		if (!(b[0] | b[1] | b[2] | b[3] | b[4] | b[5]))
			return reject(c, "%s.mac \"%s\" is the all-zero address", where, nic->mac);
		lower = g_ascii_strdown(nic->mac, -1);
		g_free(nic->mac);
		nic->mac = lower;
	}
	return TRUE;
}

static gboolean assign_macs(Ctx *c, IcsVmMeta *m)
{
	g_autoptr(GHashTable) used = g_hash_table_new(g_str_hash, g_str_equal);
	guint salt = 0;

	for (guint i = 0; i < m->nics->len; i++) {
		IcsVmNic *n = m->nics->pdata[i];

		if (n->mac && !g_hash_table_add(used, n->mac))
			return reject(c, "nics[%u].mac %s is used by another NIC", i, n->mac);
	}
	for (guint i = 0; i < m->nics->len; i++) {
		IcsVmNic *n = m->nics->pdata[i];

		/* Index first; on the (unlikely) collision with another NIC,
		 * further indexes beyond the NIC count. */
		for (guint k = i; n->mac == NULL; k = m->nics->len + salt++) {
			g_autofree char *mac = ics_vm_default_mac(m->uuid, k);

			if (!g_hash_table_contains(used, mac)) {
				n->mac = g_steal_pointer(&mac);
				g_hash_table_add(used, n->mac);
			}
		}
	}
	return TRUE;
}

static gboolean parse_lease(Ctx *c, IcsVmMeta *m, const json_t *l)
{
	gint64 offset;

	if (!check_keys(c, l, "lease", lease_keys) ||
	    !get_str(c, l, "lease", "lockspace", TRUE, NULL, &m->lease_lockspace) ||
	    !get_str(c, l, "lease", "name", TRUE, NULL, &m->lease_name) ||
	    !get_str(c, l, "lease", "path", TRUE, NULL, &m->lease_path) ||
	    !check_path(c, "lease.path", m->lease_path) ||
	    !get_int(c, l, "lease", "offset", TRUE, 0, (gint64)MIB, G_MAXINT64, &offset))
		return FALSE;
	m->lease_offset = (guint64)offset;
	m->has_lease = TRUE;
	/* sanlock names are at most 48 bytes (SANLK_NAME_LEN). */
	if (!valid_token(m->lease_lockspace, 48))
		return reject(c, "lease.lockspace \"%s\" must be 1..48 of [A-Za-z0-9._-]",
			      m->lease_lockspace);
	if (g_ascii_strcasecmp(m->lease_name, m->uuid) != 0)
		return reject(c, "lease.name \"%s\" must be the VM's uuid %s", m->lease_name,
			      m->uuid);
	g_free(m->lease_name);
	m->lease_name = g_strdup(m->uuid);
	if (m->lease_offset % MIB != 0)
		return reject(c,
			      "lease.offset %" G_GUINT64_FORMAT
			      " is not a multiple of 1 MiB (slot * 1048576)",
			      m->lease_offset);
	if (m->pool_path) {
		g_autofree char *want = g_build_filename(m->pool_path, ".ics", "leases", NULL);

		if (strcmp(m->lease_path, want) != 0)
			return reject(c, "lease.path \"%s\" is not the lease file of pool %s (%s)",
				      m->lease_path, m->pool_path, want);
	}
	return TRUE;
}

static char *label_of(const json_t *root)
{
	const char *name =
		json_is_object(root) ? json_string_value(json_object_get(root, "name")) : NULL;
	const char *uuid =
		json_is_object(root) ? json_string_value(json_object_get(root, "uuid")) : NULL;

	if (name && valid_name(name))
		return g_strdup_printf("vm \"%s\"", name);
	if (uuid && valid_uuid(uuid))
		return g_strdup_printf("vm %s", uuid);
	return g_strdup("vm definition");
}

static gboolean parse_all(Ctx *c, IcsVmMeta *m, const json_t *root)
{
	const json_t *v;
	gint64 num;
	gboolean ok;
	g_autofree char *policy = NULL;

	if (!json_is_object(root))
		return reject(c, "must be a JSON object, not %s", ics_json_type_name(root));
	if (!check_keys(c, root, "", top_keys))
		return FALSE;
	if (!get_int(c, root, "", "format", FALSE, ICS_VM_FORMAT, G_MININT64, G_MAXINT64, &num))
		return FALSE;
	if (num != ICS_VM_FORMAT)
		return reject(c,
			      "format %" G_GINT64_FORMAT " is not supported (this build reads "
			      "format %d)",
			      num, ICS_VM_FORMAT);
	m->format = ICS_VM_FORMAT;

	if (!get_str(c, root, "", "uuid", TRUE, NULL, &m->uuid))
		return FALSE;
	if (!valid_uuid(m->uuid))
		return reject(c,
			      "uuid \"%s\" is not an RFC 4122 uuid "
			      "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, not all zero)",
			      m->uuid);
	{
		char *lower = g_ascii_strdown(m->uuid, -1);

		g_free(m->uuid);
		m->uuid = lower;
	}
	if (!get_str(c, root, "", "name", TRUE, NULL, &m->name))
		return FALSE;
	if (!valid_name(m->name))
		return reject(c, "name \"%s\" must match [A-Za-z0-9][A-Za-z0-9._-]{0,62}", m->name);
	v = member(c, root, "", "tags", JSON_ARRAY, FALSE, &ok);
	if (!ok || (v && !parse_tags(c, m, v)))
		return FALSE;

	if (!get_int(c, root, "", "vcpus", TRUE, 0, ICS_VM_MIN_VCPUS, ICS_VM_MAX_VCPUS, &num))
		return FALSE;
	m->vcpus = (guint)num;
	if (!get_int(c, root, "", "memory_mib", TRUE, 0, ICS_VM_MIN_MEMORY_MIB,
		     ICS_VM_MAX_MEMORY_MIB, &num))
		return FALSE;
	m->memory_mib = (guint64)num;

	if (!get_enum(c, root, "", "virt_type", "kvm", virt_types, &m->virt_type) ||
	    !get_enum(c, root, "", "arch", "x86_64", arches, &m->arch) ||
	    !get_str(c, root, "", "machine", FALSE, NULL, &m->machine) ||
	    !get_enum(c, root, "", "firmware", "bios", firmwares, &m->firmware))
		return FALSE;
	if (m->machine && !valid_token(m->machine, 64))
		return reject(c, "machine \"%s\" must be 1..64 of [A-Za-z0-9._-]", m->machine);

	v = member(c, root, "", "kernel", JSON_OBJECT, FALSE, &ok);
	if (!ok || (v && !parse_kernel(c, m, v)))
		return FALSE;
	v = member(c, root, "", "boot", JSON_ARRAY, FALSE, &ok);
	if (!ok || (v && !parse_boot(c, m, v)))
		return FALSE;
	if (m->kernel_path && m->boot)
		return reject(c, "boot and kernel exclude each other (a kernel boots directly)");
	if (!m->kernel_path && !m->boot) {
		m->boot = g_new0(char *, 2);
		m->boot[0] = g_strdup("hd");
	}

	m->disks = g_ptr_array_new_with_free_func(disk_free);
	v = member(c, root, "", "disks", JSON_ARRAY, FALSE, &ok);
	if (!ok)
		return FALSE;
	if (v && json_array_size(v) > ICS_VM_MAX_DISKS)
		return reject(c, "disks lists %zu disks, at most %d are supported",
			      json_array_size(v), ICS_VM_MAX_DISKS);
	for (size_t i = 0; v && i < json_array_size(v); i++)
		if (!parse_disk(c, m, json_array_get(v, i), i))
			return FALSE;
	if (!assign_targets(c, m))
		return FALSE;

	if (!get_str(c, root, "", "cdrom", FALSE, NULL, &m->cdrom) ||
	    (m->cdrom && !check_path(c, "cdrom", m->cdrom)))
		return FALSE;
	if (m->cdrom && !sd_letter_free(m))
		return reject(c, "cdrom needs a free target sda..sdz, all are used by disks");

	m->nics = g_ptr_array_new_with_free_func(nic_free);
	v = member(c, root, "", "nics", JSON_ARRAY, FALSE, &ok);
	if (!ok)
		return FALSE;
	if (v && json_array_size(v) > ICS_VM_MAX_NICS)
		return reject(c, "nics lists %zu NICs, at most %d are supported",
			      json_array_size(v), ICS_VM_MAX_NICS);
	for (size_t i = 0; v && i < json_array_size(v); i++)
		if (!parse_nic(c, m, json_array_get(v, i), i))
			return FALSE;
	if (!assign_macs(c, m))
		return FALSE;

	if (m->boot && g_strv_contains((const char *const *)m->boot, "cdrom") && !m->cdrom)
		return reject(c, "boot lists cdrom but the VM has no cdrom");
	if (m->boot && g_strv_contains((const char *const *)m->boot, "network") &&
	    m->nics->len == 0)
		return reject(c, "boot lists network but the VM has no NIC");

	if (!get_bool(c, root, "", "serial_console", TRUE, &m->serial_console) ||
	    !get_enum(c, root, "", "graphics", "vnc", graphics_kinds, &m->graphics))
		return FALSE;

	v = member(c, root, "", "watchdog", JSON_OBJECT, FALSE, &ok);
	if (!ok)
		return FALSE;
	if (v) {
		m->has_watchdog = TRUE;
		if (!check_keys(c, v, "watchdog", watchdog_keys) ||
		    !get_enum(c, v, "watchdog", "model", "i6300esb", wd_models,
			      &m->watchdog_model) ||
		    !get_str(c, v, "watchdog", "action", FALSE, NULL, &m->watchdog_action))
			return FALSE;
		if (m->watchdog_action && !in_list(m->watchdog_action, wd_actions))
			return reject(c,
				      "watchdog.action \"%s\" is not one of "
				      "reset|poweroff|pause|none|dump",
				      m->watchdog_action);
	}

	if (!get_enum(c, root, "", "crash_policy", "ha", crash_policies, &policy))
		return FALSE;
	for (int p = ICS_VM_CRASH_NONE; p <= ICS_VM_CRASH_HA; p++)
		if (strcmp(policy, ics_vm_crash_policy_name(p)) == 0)
			m->crash_policy = p;

	v = member(c, root, "", "migration", JSON_OBJECT, FALSE, &ok);
	if (!ok)
		return FALSE;
	if (v) {
		if (!check_keys(c, v, "migration", migration_keys) ||
		    !get_int(c, v, "migration", "bandwidth_mibps", FALSE, 0, 1, 1048576, &num))
			return FALSE;
		m->migration_bandwidth_mibps = (guint)num;
		if (!get_int(c, v, "migration", "max_downtime_ms", FALSE, 0, 1, 600000, &num))
			return FALSE;
		m->migration_max_downtime_ms = (guint)num;
	}

	v = member(c, root, "", "lease", JSON_OBJECT, FALSE, &ok);
	if (!ok || (v && !parse_lease(c, m, v)))
		return FALSE;
	if (m->pool_path && !m->has_lease)
		return reject(c, "lease is required for a VM on pool %s (allocate a lease slot)",
			      m->pool_path);
	return TRUE;
}

IcsVmMeta *ics_vm_meta_from_json(const json_t *root, const char *pool_path, GError **error)
{
	g_autoptr(IcsVmMeta) m = g_new0(IcsVmMeta, 1);
	g_autofree char *label = label_of(root);
	Ctx c = { label, error };

	if (pool_path) {
		const char *why = path_problem(pool_path);

		if (why && strcmp(pool_path, "/") != 0) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
				    "%s: pool path \"%s\" %s", label, pool_path, why);
			return NULL;
		}
		m->pool_path = g_strdup(pool_path);
	}
	if (!parse_all(&c, m, root))
		return NULL;
	return g_steal_pointer(&m);
}

IcsVmMeta *ics_vm_meta_parse(const char *text, const char *pool_path, GError **error)
{
	g_autoptr(json_t) root = ics_json_load_string(text, "vm.json", error);

	if (root == NULL)
		return NULL;
	return ics_vm_meta_from_json(root, pool_path, error);
}

/* ---- serialisation ----------------------------------------------------- */

static void set_str(json_t *obj, const char *key, const char *s)
{
	if (s)
		json_object_set_new(obj, key, json_string(s));
}

json_t *ics_vm_meta_to_json(const IcsVmMeta *m)
{
	json_t *o = json_object();
	json_t *disks = json_array();
	json_t *nics = json_array();

	json_object_set_new(o, "format", json_integer(m->format ? m->format : ICS_VM_FORMAT));
	set_str(o, "uuid", m->uuid);
	set_str(o, "name", m->name);
	if (m->tags) {
		json_t *t = json_array();

		for (char **s = m->tags; *s; s++)
			json_array_append_new(t, json_string(*s));
		json_object_set_new(o, "tags", t);
	}
	json_object_set_new(o, "vcpus", json_integer(m->vcpus));
	json_object_set_new(o, "memory_mib", json_integer((json_int_t)m->memory_mib));
	set_str(o, "virt_type", m->virt_type);
	set_str(o, "arch", m->arch);
	set_str(o, "machine", m->machine);
	set_str(o, "firmware", m->firmware);
	if (m->boot) {
		json_t *b = json_array();

		for (char **s = m->boot; *s; s++)
			json_array_append_new(b, json_string(*s));
		json_object_set_new(o, "boot", b);
	}
	if (m->kernel_path) {
		json_t *k = json_object();

		set_str(k, "path", m->kernel_path);
		set_str(k, "initrd", m->kernel_initrd);
		set_str(k, "cmdline", m->kernel_cmdline);
		json_object_set_new(o, "kernel", k);
	}
	for (guint i = 0; m->disks && i < m->disks->len; i++) {
		const IcsVmDisk *d = m->disks->pdata[i];
		json_t *j = json_object();

		set_str(j, "path", d->path);
		set_str(j, "format", d->format);
		set_str(j, "bus", d->bus);
		set_str(j, "target", d->target);
		set_str(j, "cache", d->cache);
		json_object_set_new(j, "readonly", json_boolean(d->readonly));
		set_str(j, "serial", d->serial);
		json_object_set_new(j, "shared_outside_pool", json_boolean(d->shared_outside_pool));
		json_array_append_new(disks, j);
	}
	json_object_set_new(o, "disks", disks);
	set_str(o, "cdrom", m->cdrom);
	for (guint i = 0; m->nics && i < m->nics->len; i++) {
		const IcsVmNic *n = m->nics->pdata[i];
		json_t *j = json_object();
		json_t *src = json_object();

		set_str(j, "mac", n->mac);
		set_str(j, "model", n->model);
		set_str(src, "type", n->source_type);
		set_str(src, "name", n->source_name);
		json_object_set_new(j, "source", src);
		if (n->vlan)
			json_object_set_new(j, "vlan", json_integer(n->vlan));
		json_array_append_new(nics, j);
	}
	json_object_set_new(o, "nics", nics);
	json_object_set_new(o, "serial_console", json_boolean(m->serial_console));
	set_str(o, "graphics", m->graphics);
	if (m->has_watchdog) {
		json_t *w = json_object();

		set_str(w, "model", m->watchdog_model);
		set_str(w, "action", m->watchdog_action);
		json_object_set_new(o, "watchdog", w);
	}
	set_str(o, "crash_policy", ics_vm_crash_policy_name(m->crash_policy));
	if (m->migration_bandwidth_mibps || m->migration_max_downtime_ms) {
		json_t *mig = json_object();

		if (m->migration_bandwidth_mibps)
			json_object_set_new(mig, "bandwidth_mibps",
					    json_integer(m->migration_bandwidth_mibps));
		if (m->migration_max_downtime_ms)
			json_object_set_new(mig, "max_downtime_ms",
					    json_integer(m->migration_max_downtime_ms));
		json_object_set_new(o, "migration", mig);
	}
	if (m->has_lease) {
		json_t *l = json_object();

		set_str(l, "lockspace", m->lease_lockspace);
		set_str(l, "name", m->lease_name);
		set_str(l, "path", m->lease_path);
		json_object_set_new(l, "offset", json_integer((json_int_t)m->lease_offset));
		json_object_set_new(o, "lease", l);
	}
	return o;
}

char *ics_vm_meta_serialize(const IcsVmMeta *m)
{
	g_autoptr(json_t) o = ics_vm_meta_to_json(m);
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	char *out = g_strconcat(text, "\n", NULL);

	free(text);
	return out;
}

gboolean ics_vm_meta_equal(const IcsVmMeta *a, const IcsVmMeta *b)
{
	g_autoptr(json_t) ja = ics_vm_meta_to_json(a);
	g_autoptr(json_t) jb = ics_vm_meta_to_json(b);

	/* Every field is serialised, so equal JSON is equal metadata. */
	return json_equal(ja, jb) != 0;
}
