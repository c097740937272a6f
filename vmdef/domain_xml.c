/*
 * domain_xml.c: libvirt domain XML from ICS VM metadata.
 *
 * The metadata has been validated by the parser, so this module only maps;
 * it never decides whether a VM is acceptable.  The XML is written with
 * libxml2's xmlTextWriter, which escapes every value, so no name, path or
 * kernel command line can inject markup.
 *
 * The choices that are not a one-to-one copy of a field:
 *  - crash policy (docs/vm-definition.md, "Crash policy"): a guest panic is
 *    reported through a <panic model='isa'/> (pvpanic) device.  For ha,
 *    restart and poweroff, on_crash is "destroy": QEMU goes away, the vm
 *    agent's monitor sees the domain gone without a stop being asked for
 *    and tells Pacemaker (ha/restart: recover; poweroff: the agent records
 *    a clean stop).  For none, on_crash is "preserve": the crashed guest is
 *    kept, lease held, for a human to inspect or dump.  A watchdog without
 *    an explicit action follows the same rule (poweroff, or pause for none).
 *  - no on_lockfailure: a VM whose lease is gone may be started elsewhere,
 *    so it must stop writing at once, whatever the policy.  libvirt's
 *    default leaves that to sanlock, which kills QEMU itself (SIGTERM, then
 *    SIGKILL); any explicit action (poweroff included) makes libvirt
 *    register a kill path that asks libvirtd, and a hung libvirtd then
 *    leaves QEMU writing (docs/libvirt-lock-driver.md).
 *  - cpu: host-model for kvm; nothing for qemu (TCG picks its qemu64 model,
 *    which every host can migrate to).
 *  - disks with cache "none" use io="native" (O_DIRECT + Linux AIO); the
 *    cdrom takes the first free sd target on the SATA bus, read only.
 *  - a SCSI disk brings a virtio-scsi controller (libvirt's default would
 *    be the emulated lsilogic).
 *  - graphics "vnc" is a VNC server with a password chosen at each start
 *    (ics_domain_xml_start, called by the vm agent), so the copy stored on
 *    the pool has no <graphics>: a stored password would outlive the run
 *    it was made for, and a VNC device without one is an open port.  The
 *    listen address is left to libvirtd (qemu.conf vnc_listen, the node's
 *    cluster address): libvirt does not carry it in a migration, so every
 *    node listens on its own address, while the password migrates with the
 *    domain.  A VGA card comes with it (libvirt's default for x86).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <libxml/xmlwriter.h>

#include "ics/error.h"
#include "ics/vmdef.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlTextWriter, xmlFreeTextWriter)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlBuffer, xmlBufferFree)

/* Every writer call returns < 0 on failure (out of memory only, for a
 * memory buffer); rc accumulates the first failure. */
typedef struct {
	xmlTextWriterPtr w;
	int rc;
} W;

static void start(W *w, const char *name)
{
	if (w->rc >= 0)
		w->rc = xmlTextWriterStartElement(w->w, BAD_CAST name);
}

static void end(W *w)
{
	if (w->rc >= 0)
		w->rc = xmlTextWriterEndElement(w->w);
}

static void attr(W *w, const char *name, const char *value)
{
	if (w->rc >= 0)
		w->rc = xmlTextWriterWriteAttribute(w->w, BAD_CAST name, BAD_CAST value);
}

static void attrf(W *w, const char *name, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void attrf(W *w, const char *name, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *v = NULL;

	va_start(ap, fmt);
	v = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	attr(w, name, v);
}

static void text(W *w, const char *value)
{
	if (w->rc >= 0)
		w->rc = xmlTextWriterWriteString(w->w, BAD_CAST value);
}

/* <name attr=value.../>: an empty element with up to two attributes. */
static void empty(W *w, const char *name, const char *a1, const char *v1, const char *a2,
		  const char *v2)
{
	start(w, name);
	if (a1)
		attr(w, a1, v1);
	if (a2)
		attr(w, a2, v2);
	end(w);
}

static void elem_text(W *w, const char *name, const char *value)
{
	start(w, name);
	text(w, value);
	end(w);
}

static void write_os(W *w, const IcsVmMeta *m)
{
	start(w, "os");
	start(w, "type");
	attr(w, "arch", m->arch);
	if (m->machine)
		attr(w, "machine", m->machine);
	text(w, "hvm");
	end(w);
	if (strcmp(m->firmware, "uefi") == 0) {
		start(w, "loader");
		attr(w, "readonly", "yes");
		attr(w, "type", "pflash");
		text(w, ICS_VM_OVMF_CODE);
		end(w);
		if (m->pool_path) {
			g_autofree char *dir = ics_vm_dir(m->pool_path, m->uuid);
			g_autofree char *nvram = g_build_filename(dir, "nvram.fd", NULL);

			start(w, "nvram");
			attr(w, "template", ICS_VM_OVMF_VARS);
			text(w, nvram);
			end(w);
		}
	}
	if (m->kernel_path) {
		elem_text(w, "kernel", m->kernel_path);
		if (m->kernel_initrd)
			elem_text(w, "initrd", m->kernel_initrd);
		if (m->kernel_cmdline)
			elem_text(w, "cmdline", m->kernel_cmdline);
	} else {
		for (char **b = m->boot; b && *b; b++)
			empty(w, "boot", "dev", *b, NULL, NULL);
	}
	end(w);
}

static void write_disk(W *w, const IcsVmDisk *d)
{
	gboolean block = g_str_has_prefix(d->path, "/dev/");

	start(w, "disk");
	attr(w, "type", block ? "block" : "file");
	attr(w, "device", "disk");
	start(w, "driver");
	attr(w, "name", "qemu");
	attr(w, "type", d->format);
	attr(w, "cache", d->cache);
	if (strcmp(d->cache, "none") == 0)
		attr(w, "io", "native");
	end(w);
	empty(w, "source", block ? "dev" : "file", d->path, NULL, NULL);
	empty(w, "target", "dev", d->target, "bus", d->bus);
	if (d->readonly)
		empty(w, "readonly", NULL, NULL, NULL, NULL);
	if (d->serial)
		elem_text(w, "serial", d->serial);
	end(w);
}

/* The first sd target the disks leave free. */
static char *cdrom_target(const IcsVmMeta *m)
{
	for (char c = 'a'; c <= 'z'; c++) {
		g_autofree char *t = g_strdup_printf("sd%c", c);
		gboolean used = FALSE;

		for (guint i = 0; i < m->disks->len && !used; i++)
			used = strcmp(((IcsVmDisk *)m->disks->pdata[i])->target, t) == 0;
		if (!used)
			return g_steal_pointer(&t);
	}
	return NULL;
}

static void write_nic(W *w, const IcsVmNic *n)
{
	gboolean network = strcmp(n->source_type, "network") == 0;

	start(w, "interface");
	attr(w, "type", network ? "network" : "bridge");
	empty(w, "mac", "address", n->mac, NULL, NULL);
	empty(w, "source", network ? "network" : "bridge", n->source_name, NULL, NULL);
	if (strcmp(n->source_type, "ovs") == 0) {
		empty(w, "virtualport", "type", "openvswitch", NULL, NULL);
		if (n->vlan) {
			start(w, "vlan");
			start(w, "tag");
			attrf(w, "id", "%u", n->vlan);
			end(w);
			end(w);
		}
	}
	empty(w, "model", "type", n->model, NULL, NULL);
	end(w);
}

static void write_devices(W *w, const IcsVmMeta *m, const char *cdrom_dev,
			  const char *vnc_password)
{
	gboolean scsi = FALSE;
	const char *wd_action = ics_vm_watchdog_action(m);

	start(w, "devices");
	for (guint i = 0; i < m->disks->len; i++) {
		const IcsVmDisk *d = m->disks->pdata[i];

		scsi |= strcmp(d->bus, "scsi") == 0;
		write_disk(w, d);
	}
	if (m->cdrom) {
		start(w, "disk");
		attr(w, "type", "file");
		attr(w, "device", "cdrom");
		empty(w, "driver", "name", "qemu", "type", "raw");
		empty(w, "source", "file", m->cdrom, NULL, NULL);
		empty(w, "target", "dev", cdrom_dev, "bus", "sata");
		empty(w, "readonly", NULL, NULL, NULL, NULL);
		end(w);
	}
	if (scsi)
		empty(w, "controller", "type", "scsi", "model", "virtio-scsi");
	for (guint i = 0; i < m->nics->len; i++)
		write_nic(w, m->nics->pdata[i]);
	if (m->serial_console) {
		start(w, "serial");
		attr(w, "type", "pty");
		empty(w, "target", "port", "0", NULL, NULL);
		end(w);
		start(w, "console");
		attr(w, "type", "pty");
		empty(w, "target", "type", "serial", "port", "0");
		end(w);
	}
	if (vnc_password) {
		start(w, "graphics");
		attr(w, "type", "vnc");
		attr(w, "autoport", "yes");
		attr(w, "passwd", vnc_password);
		end(w);
	}
	if (m->has_watchdog)
		empty(w, "watchdog", "model", m->watchdog_model, "action", wd_action);
	empty(w, "memballoon", "model", "virtio", NULL, NULL);
	/* pvpanic: lets a panicking guest tell QEMU, so on_crash applies. */
	empty(w, "panic", "model", "isa", NULL, NULL);
	if (m->has_lease) {
		start(w, "lease");
		elem_text(w, "lockspace", m->lease_lockspace);
		elem_text(w, "key", m->lease_name);
		start(w, "target");
		attr(w, "path", m->lease_path);
		attrf(w, "offset", "%" G_GUINT64_FORMAT, m->lease_offset);
		end(w);
		end(w);
	}
	end(w);
}

static char *domain_xml(const IcsVmMeta *m, const char *vnc_password, GError **error)
{
	g_autoptr(xmlBuffer) buf = xmlBufferCreate();
	g_autoptr(xmlTextWriter) writer = NULL;
	g_autofree char *cdrom_dev = NULL;
	g_autofree char *mem = NULL;
	W w = { NULL, 0 };

	if (m == NULL || m->uuid == NULL || m->name == NULL || m->disks == NULL ||
	    m->nics == NULL || m->virt_type == NULL || m->arch == NULL || m->firmware == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "domain XML: the VM metadata was not produced by the parser");
		return NULL;
	}
	if (m->cdrom) {
		cdrom_dev = cdrom_target(m);
		if (cdrom_dev == NULL) {
			g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
				    "vm \"%s\": no sd target left for the cdrom (sda..sdz used)",
				    m->name);
			return NULL;
		}
	}
	if (buf == NULL || (writer = xmlNewTextWriterMemory(buf, 0)) == NULL) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO, "vm \"%s\": out of memory", m->name);
		return NULL;
	}
	w.w = writer;
	xmlTextWriterSetIndent(writer, 1);
	xmlTextWriterSetIndentString(writer, BAD_CAST "  ");

	mem = g_strdup_printf("%" G_GUINT64_FORMAT, m->memory_mib * 1024);
	start(&w, "domain");
	attr(&w, "type", m->virt_type);
	elem_text(&w, "name", m->name);
	elem_text(&w, "uuid", m->uuid);
	start(&w, "memory");
	attr(&w, "unit", "KiB");
	text(&w, mem);
	end(&w);
	start(&w, "currentMemory");
	attr(&w, "unit", "KiB");
	text(&w, mem);
	end(&w);
	start(&w, "vcpu");
	attr(&w, "placement", "static");
	{
		g_autofree char *n = g_strdup_printf("%u", m->vcpus);
		text(&w, n);
	}
	end(&w);
	write_os(&w, m);
	start(&w, "features");
	empty(&w, "acpi", NULL, NULL, NULL, NULL);
	empty(&w, "apic", NULL, NULL, NULL, NULL);
	end(&w);
	if (strcmp(m->virt_type, "kvm") == 0)
		empty(&w, "cpu", "mode", "host-model", NULL, NULL);
	empty(&w, "clock", "offset", "utc", NULL, NULL);
	elem_text(&w, "on_poweroff", "destroy");
	elem_text(&w, "on_reboot", "restart");
	elem_text(&w, "on_crash", m->crash_policy == ICS_VM_CRASH_NONE ? "preserve" : "destroy");
	write_devices(&w, m, cdrom_dev, vnc_password);
	end(&w);
	if (w.rc >= 0)
		w.rc = xmlTextWriterEndDocument(writer);
	if (w.rc < 0) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_IO,
			    "vm \"%s\": cannot write the domain XML (out of memory)", m->name);
		return NULL;
	}
	g_clear_pointer(&writer, xmlFreeTextWriter); /* flushes into buf */
	return g_strdup((const char *)xmlBufferContent(buf));
}

char *ics_domain_xml(const IcsVmMeta *m, GError **error)
{
	return domain_xml(m, NULL, error);
}

char *ics_domain_xml_start(const IcsVmMeta *m, const char *vnc_password, GError **error)
{
	gboolean vnc = m != NULL && m->graphics != NULL && strcmp(m->graphics, "vnc") == 0;

	if (vnc && (vnc_password == NULL || vnc_password[0] == '\0' ||
		    strlen(vnc_password) > 8)) {
		g_set_error(error, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT,
			    "vm \"%s\": a VNC password of 1..8 characters is required", m->name);
		return NULL;
	}
	return domain_xml(m, vnc ? vnc_password : NULL, error);
}

char *ics_vnc_password_new(GError **error)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	guint8 raw[8];
	char *out;

	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
		ics_error_set_errno(error, errno, "cannot draw a VNC password");
		return NULL;
	}
	out = g_malloc(sizeof raw + 1);
	for (guint i = 0; i < sizeof raw; i++)
		out[i] = alphabet[raw[i] & 63];
	out[sizeof raw] = '\0';
	return out;
}
