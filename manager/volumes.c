/*
 * volumes.c: disk volumes on ICS pools through libvirt's storage API (the
 * formats, provisioning and the choice of libvirtd are described in
 * ics/manager/volumes.h).
 *
 * Each ICS pool is shown to libvirt as a transient "dir" storage pool named
 * "ics-<pool>" over the pool's directory, created the first time a volume
 * of that pool is touched.  Transient, because the pool's truth is the
 * cluster (the pool clone in the CIB and its mount), not libvirt's
 * configuration: a libvirtd restart forgets it and the next request makes
 * it again.  Every read refreshes the pool first, since other nodes create
 * and delete files in the same directory.  Names beginning with "." (the
 * pool's .ics/ area) and anything that is not a regular file are not
 * volumes.
 *
 * One connection per libvirt URI is kept; libvirt connections may be used
 * from several threads at once.  A call that finds its connection dead
 * closes it so that the next call reconnects.  libvirt's errors are
 * thread-local; they are turned into ICS errors here, naming the pool and
 * the volume, and libvirt's own printing to stderr is silenced.
 */
#include "config.h"

#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "ics/error.h"
#include "ics/manager/request_schema.h"
#include "ics/manager/volumes.h"

struct IcsVolumes {
	char *uri_template;
	GMutex lock;
	GHashTable *conns; /* uri -> virConnectPtr */
};

/* ---- validation ---------------------------------------------------------- */

gboolean ics_volume_name_check(const char *name, GError **error)
{
	return ics_name_check("volume name", name, error);
}

gboolean ics_volume_size_parse(const char *text, guint64 *bytes, GError **error)
{
	static const struct {
		const char *suffix;
		guint shift;
	} units[] = {
		{ "", 0 },   { "k", 10 },   { "kib", 10 }, { "m", 20 },	  { "mib", 20 },
		{ "g", 30 }, { "gib", 30 }, { "t", 40 },   { "tib", 40 },
	};
	g_autofree char *digits = NULL;
	const char *p = text;
	guint64 n;

	if (text == NULL)
		return ics_error_invalid(error, "size is missing");
	while (g_ascii_isdigit(*p))
		p++;
	digits = g_strndup(text, p - text);
	if (digits[0] == '\0' || !g_ascii_string_to_unsigned(digits, 10, 0, G_MAXUINT64, &n, NULL))
		goto bad;
	for (guint i = 0; i < G_N_ELEMENTS(units); i++) {
		if (g_ascii_strcasecmp(p, units[i].suffix) != 0)
			continue;
		if (n > (ICS_VOLUME_MAX_BYTES >> units[i].shift))
			return ics_error_invalid(error, "size %s is larger than the maximum, 64T",
						 text);
		n <<= units[i].shift;
		if (n < ICS_VOLUME_MIN_BYTES)
			return ics_error_invalid(error, "size %s is smaller than the minimum, 1M",
						 text);
		if (n % 512 != 0)
			return ics_error_invalid(error, "size %s is not a multiple of 512 bytes",
						 text);
		*bytes = n;
		return TRUE;
	}
bad:
	return ics_error_invalid(error,
				 "size \"%s\" must be an integer number of bytes or of K, M, G or "
				 "T (binary units), e.g. 10G",
				 text);
}

gboolean ics_volume_format_check(const char *format, GError **error)
{
	if (g_strcmp0(format, "qcow2") == 0 || g_strcmp0(format, "raw") == 0)
		return TRUE;
	return ics_error_invalid(error, "volume format must be qcow2 or raw, not \"%s\"",
				 format ? format : "");
}

gboolean ics_volume_provisioning_check(const char *provisioning, GError **error)
{
	if (g_strcmp0(provisioning, "thin") == 0 || g_strcmp0(provisioning, "thick-lazy") == 0)
		return TRUE;
	return ics_error_invalid(error, "provisioning must be thin or thick-lazy, not \"%s\"",
				 provisioning ? provisioning : "");
}

/* ---- libvirt errors ------------------------------------------------------ */

static void quiet(void *data, virErrorPtr err)
{
	(void)data;
	(void)err;
}

/* Set @error from libvirt's last error: "<what>: <libvirt's message>";
 * NULL, for "return virt_error(...)". */
static void *virt_error(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void *virt_error(GError **error, const char *fmt, ...)
{
	virErrorPtr e = virGetLastError();
	g_autofree char *what = NULL;
	IcsErrorCode code = ICS_ERROR_IO;
	va_list ap;

	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (e) {
		switch (e->code) {
		case VIR_ERR_NO_STORAGE_VOL:
			code = ICS_ERROR_NOT_FOUND;
			break;
		case VIR_ERR_STORAGE_VOL_EXIST:
			code = ICS_ERROR_CONFLICT;
			break;
		case VIR_ERR_NO_SUPPORT:
		case VIR_ERR_NO_CONNECT:
		case VIR_ERR_INVALID_CONN:
		case VIR_ERR_RPC:
		case VIR_ERR_AUTH_FAILED:
		case VIR_ERR_SYSTEM_ERROR:
			code = ICS_ERROR_UNAVAILABLE;
			break;
		default:
			break;
		}
	}
	g_set_error(error, ICS_ERROR, code, "%s: %s", what,
		    e && e->message ? e->message : "libvirt failed");
	return NULL;
}

/* ---- connections and pools ---------------------------------------------- */

static void close_connection(gpointer c)
{
	virConnectClose(c);
}

IcsVolumes *ics_volumes_new(const char *uri_template)
{
	IcsVolumes *v = g_new0(IcsVolumes, 1);

	v->uri_template = g_strdup(uri_template ? uri_template : ICS_VOLUMES_DEFAULT_URI);
	g_mutex_init(&v->lock);
	v->conns = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, close_connection);
	return v;
}

void ics_volumes_free(IcsVolumes *v)
{
	if (v == NULL)
		return;
	g_hash_table_destroy(v->conns);
	g_mutex_clear(&v->lock);
	g_free(v->uri_template);
	g_free(v);
}

static char *pool_uri(IcsVolumes *v, const IcsVolumePool *pool, GError **error)
{
	g_auto(GStrv) parts = NULL;

	if (strstr(v->uri_template, "{host}") == NULL)
		return g_strdup(v->uri_template);
	if (pool->host == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_UNAVAILABLE,
			    "pool %s is active on no node: no libvirtd to ask", pool->pool);
		return NULL;
	}
	parts = g_strsplit(v->uri_template, "{host}", -1);
	return g_strjoinv(pool->host, parts);
}

/* A reference to the connection for @pool (virConnectClose it). */
static virConnectPtr connection(IcsVolumes *v, const IcsVolumePool *pool, GError **error)
{
	g_autofree char *uri = pool_uri(v, pool, error);
	virConnectPtr c;

	if (uri == NULL)
		return NULL;
	g_mutex_lock(&v->lock);
	c = g_hash_table_lookup(v->conns, uri);
	if (c && virConnectIsAlive(c) != 1) {
		g_hash_table_remove(v->conns, uri);
		c = NULL;
	}
	if (c == NULL) {
		c = virConnectOpen(uri);
		if (c == NULL) {
			g_mutex_unlock(&v->lock);
			virt_error(error, "pool %s: cannot connect to libvirt at %s", pool->pool,
				   uri);
			(*error)->code = ICS_ERROR_UNAVAILABLE;
			return NULL;
		}
		virConnSetErrorFunc(c, NULL, quiet);
		g_hash_table_insert(v->conns, g_strdup(uri), c);
	}
	virConnectRef(c);
	g_mutex_unlock(&v->lock);
	return c;
}

/* The text of @xpath in @xml, or NULL. */
static char *xml_string(const char *xml, const char *xpath)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "volume.xml", NULL, XML_PARSE_NONET);
	xmlXPathContextPtr ctx = doc ? xmlXPathNewContext(doc) : NULL;
	xmlXPathObjectPtr obj = ctx ? xmlXPathEvalExpression(BAD_CAST xpath, ctx) : NULL;
	char *out = NULL;

	if (obj && obj->type == XPATH_STRING && obj->stringval && obj->stringval[0])
		out = g_strdup((const char *)obj->stringval);
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return out;
}

/* The libvirt pool over @pool's directory, started (virStoragePoolFree it). */
static virStoragePoolPtr storage_pool(IcsVolumes *v, virConnectPtr c, const IcsVolumePool *pool,
				      GError **error)
{
	g_autofree char *name = g_strconcat("ics-", pool->pool, NULL);
	g_autofree char *ename = g_markup_escape_text(name, -1);
	g_autofree char *epath = g_markup_escape_text(pool->path, -1);
	g_autofree char *xml = NULL, *desc = NULL, *have = NULL, *got = NULL, *want = NULL;
	virStoragePoolPtr p;

	/* Serialised so that two first requests do not both define it.  A pool
	 * an administrator defined over the same directory under another name
	 * is used as it is (libvirt refuses two pools over one path). */
	g_mutex_lock(&v->lock);
	p = virStoragePoolLookupByName(c, name);
	if (p == NULL)
		p = virStoragePoolLookupByTargetPath(c, pool->path);
	if (p == NULL) {
		xml = g_strdup_printf("<pool type='dir'><name>%s</name><target><path>%s</path>"
				      "</target></pool>",
				      ename, epath);
		p = virStoragePoolCreateXML(c, xml, 0);
		g_mutex_unlock(&v->lock);
		if (p == NULL)
			virt_error(error, "pool %s: cannot make libvirt storage pool %s over %s",
				   pool->pool, name, pool->path);
		return p;
	}
	g_mutex_unlock(&v->lock);
	desc = virStoragePoolGetXMLDesc(p, 0);
	have = desc ? xml_string(desc, "string(/pool/target/path)") : NULL;
	got = have ? g_canonicalize_filename(have, "/") : NULL;
	want = g_canonicalize_filename(pool->path, "/");
	if (got == NULL || !g_str_equal(got, want)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "pool %s: libvirt storage pool %s is over %s, not the pool's path %s; "
			    "remove it (virsh pool-destroy %s; virsh pool-undefine %s)",
			    pool->pool, virStoragePoolGetName(p), have ? have : "(unknown)",
			    pool->path, virStoragePoolGetName(p), virStoragePoolGetName(p));
		virStoragePoolFree(p);
		return NULL;
	}
	if (virStoragePoolIsActive(p) != 1 && virStoragePoolCreate(p, 0) < 0) {
		virt_error(error, "pool %s: cannot start libvirt storage pool %s", pool->pool,
			   virStoragePoolGetName(p));
		virStoragePoolFree(p);
		return NULL;
	}
	return p;
}

/* ---- volumes ------------------------------------------------------------- */

static json_t *volume_json(const IcsVolumePool *pool, virStorageVolPtr vol, GError **error)
{
	virStorageVolInfo info;
	g_autofree char *format = NULL;
	char *xml, *path;
	json_t *out;

	if (virStorageVolGetInfo(vol, &info) < 0 || (xml = virStorageVolGetXMLDesc(vol, 0)) == NULL)
		return virt_error(error, "pool %s: volume %s", pool->pool,
				  virStorageVolGetName(vol));
	format = xml_string(xml, "string(/volume/target/format/@type)");
	free(xml);
	path = virStorageVolGetPath(vol);
	out = json_pack("{s:s, s:s, s:s?, s:s, s:I, s:I}", "name", virStorageVolGetName(vol),
			"pool", pool->pool, "path", path, "format", format ? format : "raw",
			"capacity_bytes", (json_int_t)info.capacity, "allocation_bytes",
			(json_int_t)info.allocation);
	free(path);
	return out;
}

static gboolean is_volume(virStorageVolPtr vol)
{
	virStorageVolInfo info;
	const char *name = virStorageVolGetName(vol);

	return name && name[0] != '.' && virStorageVolGetInfo(vol, &info) == 0 &&
	       info.type == VIR_STORAGE_VOL_FILE;
}

json_t *ics_volumes_list(IcsVolumes *v, const IcsVolumePool *pool, GError **error)
{
	virConnectPtr c = connection(v, pool, error);
	virStoragePoolPtr p = c ? storage_pool(v, c, pool, error) : NULL;
	virStorageVolPtr *vols = NULL;
	json_t *out = NULL;
	int n = -1;

	if (p == NULL)
		goto out;
	if (virStoragePoolRefresh(p, 0) < 0 ||
	    (n = virStoragePoolListAllVolumes(p, &vols, 0)) < 0) {
		virt_error(error, "pool %s: cannot list volumes", pool->pool);
		goto out;
	}
	out = json_array();
	for (int i = 0; i < n; i++) {
		if (out && is_volume(vols[i])) {
			json_t *one = volume_json(pool, vols[i], error);

			if (one)
				json_array_append_new(out, one);
			else
				g_clear_pointer(&out, json_decref);
		}
		virStorageVolFree(vols[i]);
	}
	free(vols);
out:
	if (p)
		virStoragePoolFree(p);
	if (c)
		virConnectClose(c);
	return out;
}

/* The volume @name of @p (virStorageVolFree it); NOT_FOUND. */
static virStorageVolPtr lookup(virStoragePoolPtr p, const IcsVolumePool *pool, const char *name,
			       GError **error)
{
	virStorageVolPtr vol;

	if (virStoragePoolRefresh(p, 0) < 0) {
		virt_error(error, "pool %s: cannot scan", pool->pool);
		return NULL;
	}
	vol = virStorageVolLookupByName(p, name);
	if (vol == NULL) {
		virErrorPtr e = virGetLastError();

		if (e == NULL || e->code == VIR_ERR_NO_STORAGE_VOL) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
				    "pool %s has no volume %s", pool->pool, name);
			return NULL;
		}
		virt_error(error, "pool %s: volume %s", pool->pool, name);
		return NULL;
	}
	if (!is_volume(vol)) {
		virStorageVolFree(vol);
		g_set_error(error, ICS_ERROR, ICS_ERROR_NOT_FOUND,
			    "pool %s has no volume %s (it is not a regular file)", pool->pool,
			    name);
		return NULL;
	}
	return vol;
}

typedef json_t *(*VolumeFn)(virStoragePoolPtr p, const IcsVolumePool *pool, const void *arg,
			    GError **error);

/* Connect, find the storage pool and call @fn on it. */
static json_t *with_pool(IcsVolumes *v, const IcsVolumePool *pool, VolumeFn fn, const void *arg,
			 GError **error)
{
	virConnectPtr c = connection(v, pool, error);
	virStoragePoolPtr p = c ? storage_pool(v, c, pool, error) : NULL;
	json_t *out = p ? fn(p, pool, arg, error) : NULL;

	if (p)
		virStoragePoolFree(p);
	if (c)
		virConnectClose(c);
	return out;
}

static json_t *get_fn(virStoragePoolPtr p, const IcsVolumePool *pool, const void *arg,
		      GError **error)
{
	virStorageVolPtr vol = lookup(p, pool, arg, error);
	json_t *out;

	if (vol == NULL)
		return NULL;
	out = volume_json(pool, vol, error);
	virStorageVolFree(vol);
	return out;
}

json_t *ics_volumes_get(IcsVolumes *v, const IcsVolumePool *pool, const char *name, GError **error)
{
	if (!ics_volume_name_check(name, error))
		return NULL;
	return with_pool(v, pool, get_fn, name, error);
}

static json_t *create_fn(virStoragePoolPtr p, const IcsVolumePool *pool, const void *arg,
			 GError **error)
{
	const IcsVolumeSpec *spec = arg;
	gboolean thick = g_str_equal(spec->provisioning, "thick-lazy");
	gboolean qcow2 = g_str_equal(spec->format, "qcow2");
	/* qcow2: compat 1.1 (libvirt's default is 0.10, without zero clusters
	 * or lazy refcounts); thick qcow2 needs the PREALLOC_METADATA flag, with
	 * which libvirt 9 passes preallocation=falloc to qemu-img when the
	 * allocation is the capacity (metadata only when it is less).  Thick
	 * raw needs no flag: an allocation is posix_fallocate'd. */
	g_autofree char *xml = g_strdup_printf(
		"<volume type='file'><name>%s</name>"
		"<capacity unit='bytes'>%" G_GUINT64_FORMAT "</capacity>"
		"<allocation unit='bytes'>%" G_GUINT64_FORMAT "</allocation>"
		"<target><format type='%s'/>%s<permissions><mode>0600</mode></permissions>"
		"</target></volume>",
		spec->name, spec->capacity, thick ? spec->capacity : 0, spec->format,
		qcow2 ? "<compat>1.1</compat>" : "");
	unsigned int flags = thick && qcow2 ? VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA : 0;
	virStorageVolPtr vol;
	json_t *out;

	if (virStoragePoolRefresh(p, 0) < 0)
		return virt_error(error, "pool %s: cannot scan", pool->pool);
	vol = virStorageVolLookupByName(p, spec->name);
	if (vol) {
		virStorageVolFree(vol);
		g_set_error(error, ICS_ERROR, ICS_ERROR_CONFLICT,
			    "pool %s already has a file named %s", pool->pool, spec->name);
		return NULL;
	}
	vol = virStorageVolCreateXML(p, xml, flags);
	if (vol == NULL)
		return virt_error(error, "pool %s: cannot create volume %s", pool->pool,
				  spec->name);
	out = volume_json(pool, vol, error);
	virStorageVolFree(vol);
	return out;
}

json_t *ics_volumes_create(IcsVolumes *v, const IcsVolumePool *pool, const IcsVolumeSpec *spec,
			   GError **error)
{
	if (!ics_volume_name_check(spec->name, error) ||
	    !ics_volume_format_check(spec->format, error) ||
	    !ics_volume_provisioning_check(spec->provisioning, error))
		return NULL;
	if (spec->capacity < ICS_VOLUME_MIN_BYTES || spec->capacity > ICS_VOLUME_MAX_BYTES ||
	    spec->capacity % 512 != 0) {
		ics_error_invalid(error, "capacity %" G_GUINT64_FORMAT " bytes is out of bounds",
				  spec->capacity);
		return NULL;
	}
	return with_pool(v, pool, create_fn, spec, error);
}

typedef struct {
	const char *name;
	guint64 capacity;
} ResizeArg;

static json_t *resize_fn(virStoragePoolPtr p, const IcsVolumePool *pool, const void *arg,
			 GError **error)
{
	const ResizeArg *r = arg;
	virStorageVolPtr vol = lookup(p, pool, r->name, error);
	virStorageVolInfo info;
	g_autofree char *xml = NULL;
	unsigned int flags = 0;
	json_t *out = NULL;

	if (vol == NULL)
		return NULL;
	if (virStorageVolGetInfo(vol, &info) < 0) {
		virt_error(error, "pool %s: volume %s", pool->pool, r->name);
		goto out;
	}
	if (r->capacity <= info.capacity) {
		g_set_error(
			error, ICS_ERROR, ICS_ERROR_CONFLICT,
			"pool %s: volume %s is %llu bytes; it can only grow, and %" G_GUINT64_FORMAT
			" bytes is not larger (shrinking would cut the guest's file system)",
			pool->pool, r->name, info.capacity, r->capacity);
		goto out;
	}
	/* A fully allocated raw file stays fully allocated. */
	xml = virStorageVolGetXMLDesc(vol, 0);
	if (xml && info.allocation >= info.capacity) {
		g_autofree char *format = xml_string(xml, "string(/volume/target/format/@type)");

		if (g_strcmp0(format, "raw") == 0)
			flags |= VIR_STORAGE_VOL_RESIZE_ALLOCATE;
	}
	if (virStorageVolResize(vol, r->capacity, flags) < 0) {
		virt_error(error, "pool %s: cannot resize volume %s", pool->pool, r->name);
		goto out;
	}
	out = volume_json(pool, vol, error);
out:
	virStorageVolFree(vol);
	return out;
}

json_t *ics_volumes_resize(IcsVolumes *v, const IcsVolumePool *pool, const char *name,
			   guint64 capacity, GError **error)
{
	ResizeArg arg = { name, capacity };

	if (!ics_volume_name_check(name, error))
		return NULL;
	return with_pool(v, pool, resize_fn, &arg, error);
}

static json_t *delete_fn(virStoragePoolPtr p, const IcsVolumePool *pool, const void *arg,
			 GError **error)
{
	virStorageVolPtr vol = lookup(p, pool, arg, error);
	int rc;

	if (vol == NULL)
		return NULL;
	rc = virStorageVolDelete(vol, 0);
	virStorageVolFree(vol);
	if (rc < 0)
		return virt_error(error, "pool %s: cannot delete volume %s", pool->pool,
				  (const char *)arg);
	return json_true();
}

gboolean ics_volumes_delete(IcsVolumes *v, const IcsVolumePool *pool, const char *name,
			    GError **error)
{
	json_t *done;

	if (!ics_volume_name_check(name, error))
		return FALSE;
	done = with_pool(v, pool, delete_fn, name, error);
	if (done == NULL)
		return FALSE;
	json_decref(done);
	return TRUE;
}
