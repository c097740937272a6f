/*
 * authz_rules.c: who may call what -- the authorization table of the REST
 * API, in one place.
 *
 * Every route has exactly one row here, and the API refuses to start with
 * a route that has none (ics_api_register), so no route can be added
 * without deciding who may call it.  A row says how the caller is let in:
 *   public      no authentication (health, login, the console's files);
 *   any user    any authenticated caller; the handler limits the call to
 *               the caller's own objects (its session, keys, password);
 * A session that has not finished its second factor (TOTP) reaches only
 * the rows marked "before the second factor".
 *   permission  the caller holds the permission, at any scope; where the
 *               route names one object, "object" says the permission is
 *               checked again on that object's owner, so a caller holding
 *               it for owned objects only (vm_manager) reaches its own and
 *               gets 404 for the others (their existence is not disclosed).
 * The dispatcher enforces the route column (401 without credentials, 403
 * "lacks permission" without the permission); handlers enforce the object
 * column and the field rules below, looking their permission up here.
 *
 * Field rules are what a body may ask for beyond the route: host paths in
 * VM definitions, giving a VM to someone else, granting roles.  Two rules
 * have no permission at all ("never"): no caller may point a VM at device
 * nodes, kernel or runtime file systems, the manager's state or a pool's
 * lease area, and nobody grants a permission they do not hold -- a holder
 * of user.admin or role.admin is not an administrator in disguise.
 *
 * docs/manager-security.md carries this table as text; test_authz_table
 * checks that it says the same as this file and walks every route of
 * docs/openapi.yaml with every builtin role against it.
 */
#include "config.h"

#include <string.h>

#include "ics/error.h"
#include "ics/manager/authz.h"

#define PUB ICS_ACCESS_PUBLIC
#define ANY ICS_ACCESS_ANY_USER
#define PERM ICS_ACCESS_PERMISSION

const IcsRouteRule ics_route_rules[] = {
	{ "GET", "/api/v1/health", PUB, NULL, NULL, NULL, FALSE },
	{ "GET", "/", PUB, NULL, NULL, "a redirect to the console", FALSE },
	{ "GET", "/console/", PUB, NULL, NULL, NULL, FALSE },
	{ "GET", "/console/{file}", PUB, NULL, NULL, NULL, FALSE },
	{ "POST", "/api/v1/sessions", PUB, NULL, NULL, "log in", FALSE },
	{ "GET", "/api/v1/sessions/current", ANY, NULL, NULL, "the caller's own session", TRUE },
	{ "DELETE", "/api/v1/sessions/current", ANY, NULL, NULL, "the caller's own session", TRUE },
	{ "POST", "/api/v1/sessions/current/second-factor", ANY, NULL, NULL,
	  "the caller's own session, with a code", TRUE },

	{ "GET", "/api/v1/users", PERM, "user.read", NULL, NULL, FALSE },
	{ "POST", "/api/v1/users", PERM, "user.admin", NULL, "field rule grant", FALSE },
	{ "GET", "/api/v1/users/{user}", PERM, "user.read", NULL, NULL, FALSE },
	{ "PATCH", "/api/v1/users/{user}", PERM, "user.admin", NULL, "field rules grant, superior",
	  FALSE },
	{ "DELETE", "/api/v1/users/{user}", PERM, "user.admin", NULL, "field rule superior",
	  FALSE },
	{ "POST", "/api/v1/users/{user}/password", ANY, NULL, NULL,
	  "the caller's own password, proving the old one", FALSE },
	{ "GET", "/api/v1/users/{user}/totp", ANY, NULL, NULL,
	  "the caller's own; anyone's with user.read", TRUE },
	{ "POST", "/api/v1/users/{user}/totp", ANY, NULL, NULL, "the caller's own enrolment",
	  TRUE },
	{ "POST", "/api/v1/users/{user}/totp/confirm", ANY, NULL, NULL,
	  "the caller's own, with a code", TRUE },
	{ "POST", "/api/v1/users/{user}/totp/disable", ANY, NULL, NULL,
	  "the caller's own, with a code", FALSE },
	{ "POST", "/api/v1/users/{user}/totp/recovery-codes", ANY, NULL, NULL,
	  "the caller's own, with a code", FALSE },
	{ "DELETE", "/api/v1/users/{user}/totp", PERM, "user.admin", NULL, "field rule superior",
	  FALSE },

	{ "GET", "/api/v1/roles", PERM, "role.read", NULL, NULL, FALSE },
	{ "POST", "/api/v1/roles", PERM, "role.admin", NULL, "field rule grant", FALSE },
	{ "GET", "/api/v1/roles/{role}", PERM, "role.read", NULL, NULL, FALSE },
	{ "PATCH", "/api/v1/roles/{role}", PERM, "role.admin", NULL,
	  "only whether its holders need a second factor", FALSE },
	{ "DELETE", "/api/v1/roles/{role}", PERM, "role.admin", NULL, "field rule grant", FALSE },

	{ "GET", "/api/v1/directories", PERM, "directory.read", NULL, NULL, FALSE },
	{ "POST", "/api/v1/directories", PERM, "directory.admin", NULL,
	  "field rule grant (group roles)", FALSE },
	{ "GET", "/api/v1/directories/{directory}", PERM, "directory.read", NULL, NULL, FALSE },
	{ "PATCH", "/api/v1/directories/{directory}", PERM, "directory.admin", NULL,
	  "field rule grant (group roles)", FALSE },
	{ "DELETE", "/api/v1/directories/{directory}", PERM, "directory.admin", NULL, NULL, FALSE },
	{ "POST", "/api/v1/directories/{directory}/sync", PERM, "directory.admin", NULL, NULL,
	  FALSE },
	{ "POST", "/api/v1/directories/{directory}/test", PERM, "directory.admin", NULL, NULL,
	  FALSE },

	{ "GET", "/api/v1/apikeys", ANY, NULL, NULL, "own keys; everyone's with apikey.admin",
	  FALSE },
	{ "POST", "/api/v1/apikeys", ANY, NULL, NULL, "a key of the caller's own", FALSE },
	{ "DELETE", "/api/v1/apikeys/{key_id}", ANY, NULL, NULL,
	  "own keys; everyone's with apikey.admin", FALSE },

	{ "GET", "/api/v1/audit", PERM, "audit.read", NULL, NULL, FALSE },
	{ "GET", "/api/v1/audit/export", PERM, "audit.read", NULL, NULL, FALSE },

	{ "GET", "/api/v1/tasks", PERM, "task.read", NULL, "owned-only callers see their tasks",
	  FALSE },
	{ "GET", "/api/v1/tasks/{task_id}", PERM, "task.read", "task.read", NULL, FALSE },
	{ "POST", "/api/v1/tasks/{task_id}/cancel", PERM, "task.cancel", "task.cancel", NULL,
	  FALSE },
	{ "GET", "/api/v1/events", PERM, "event.read", NULL,
	  "each event filtered by its own permission and owner", FALSE },

	{ "GET", "/api/v1/vms", PERM, "vm.read", NULL, "owned-only callers see their VMs", FALSE },
	{ "POST", "/api/v1/vms", PERM, "vm.write", NULL,
	  "field rules host-path, never-path, "
	  "foreign-disk, give-vm",
	  FALSE },
	{ "GET", "/api/v1/vms/{uuid}", PERM, "vm.read", "vm.read", NULL, FALSE },
	{ "PUT", "/api/v1/vms/{uuid}", PERM, "vm.write", "vm.write",
	  "field rules host-path, never-path, foreign-disk, give-vm", FALSE },
	{ "DELETE", "/api/v1/vms/{uuid}", PERM, "vm.write", "vm.write", NULL, FALSE },
	{ "POST", "/api/v1/vms/{uuid}/start", PERM, "vm.power", "vm.power", NULL, FALSE },
	{ "POST", "/api/v1/vms/{uuid}/stop", PERM, "vm.power", "vm.power", NULL, FALSE },
	{ "POST", "/api/v1/vms/{uuid}/migrate", PERM, "vm.power", "vm.power", NULL, FALSE },
	{ "POST", "/api/v1/vms/{uuid}/reboot", PERM, "vm.power", "vm.power", NULL, FALSE },
	{ "GET", "/api/v1/vms/{uuid}/console", PERM, "vm.power", "vm.power",
	  "a console controls the VM", FALSE },
	{ "POST", "/api/v1/vms/{uuid}/console/ticket", PERM, "vm.console", "vm.console",
	  "a one-time ticket for the console WebSocket", FALSE },
	{ "GET", "/api/v1/vms/{uuid}/console/vnc", PUB, NULL, NULL,
	  "the ticket is the credential; vm.console checked again for its user", FALSE },
	{ "GET", "/api/v1/vms/{uuid}/console/serial", PUB, NULL, NULL,
	  "the ticket is the credential; vm.console checked again for its user", FALSE },
	{ "GET", "/api/v1/vms/{uuid}/events", PERM, "event.read", "vm.read", NULL, FALSE },
	{ "GET", "/api/v1/vms/{uuid}/backups", PERM, "backup.read", "backup.read",
	  "a deleted VM's: callers holding it on every VM", FALSE },
	{ "POST", "/api/v1/vms/{uuid}/backups", PERM, "backup.run", "backup.run", NULL, FALSE },
	{ "POST", "/api/v1/vms/{uuid}/backups/{backup}/restore", PERM, "backup.run", "backup.run",
	  "also vm.read on the VM; a deleted VM's: callers holding both on every VM; to a new VM "
	  "also vm.write, in place vm.write on the VM, to a volume volume.write",
	  FALSE },

	{ "GET", "/api/v1/cluster", PERM, "host.read", NULL, NULL, FALSE },
	{ "GET", "/api/v1/hosts", PERM, "host.read", NULL, NULL, FALSE },
	{ "GET", "/api/v1/hosts/{name}", PERM, "host.read", NULL, NULL, FALSE },
	{ "POST", "/api/v1/hosts/{name}/maintenance", PERM, "host.maintenance", NULL, NULL, FALSE },
	{ "GET", "/api/v1/pools", PERM, "host.read", NULL, NULL, FALSE },
	{ "GET", "/api/v1/pools/{name}", PERM, "host.read", NULL, NULL, FALSE },
	{ "GET", "/api/v1/pools/{pool}/volumes", PERM, "volume.read", NULL, NULL, FALSE },
	{ "POST", "/api/v1/pools/{pool}/volumes", PERM, "volume.write", NULL, NULL, FALSE },
	{ "GET", "/api/v1/pools/{pool}/volumes/{volume}", PERM, "volume.read", NULL, NULL, FALSE },
	{ "DELETE", "/api/v1/pools/{pool}/volumes/{volume}", PERM, "volume.write", NULL, NULL,
	  FALSE },
	{ "POST", "/api/v1/pools/{pool}/volumes/{volume}/resize", PERM, "volume.write", NULL, NULL,
	  FALSE },

	{ "GET", "/api/v1/backup-repositories", PERM, "backup.read", NULL, NULL, FALSE },
	{ "POST", "/api/v1/backup-repositories", PERM, "backup.admin", NULL,
	  "a host path: administrators", FALSE },
	{ "DELETE", "/api/v1/backup-repositories/{repository}", PERM, "backup.admin", NULL,
	  "unregisters; the backups stay on disk", FALSE },

	{ "GET", "/api/v1/backup-policies", PERM, "backup.read", NULL,
	  "owned-only callers see none", FALSE },
	{ "POST", "/api/v1/backup-policies", PERM, "backup.admin", NULL,
	  "may back up any VM: administrators", FALSE },
	{ "GET", "/api/v1/backup-policies/{policy}", PERM, "backup.read", NULL,
	  "owned-only callers: 404", FALSE },
	{ "PATCH", "/api/v1/backup-policies/{policy}", PERM, "backup.admin", NULL, NULL, FALSE },
	{ "DELETE", "/api/v1/backup-policies/{policy}", PERM, "backup.admin", NULL, NULL, FALSE },
	{ "POST", "/api/v1/backup-policies/{policy}/run", PERM, "backup.admin", NULL,
	  "its VMs due now", FALSE },

	{ "GET", "/api/v1/system/backups", PERM, "system.backup", NULL,
	  "holds every secret: administrators", FALSE },
	{ "POST", "/api/v1/system/backups", PERM, "system.backup", NULL, "one at a time (409)",
	  FALSE },
	{ "GET", "/api/v1/drs/config", PERM, "drs.read", NULL, NULL, FALSE },
	{ "PUT", "/api/v1/drs/config", PERM, "drs.admin", NULL, NULL, FALSE },
	{ "GET", "/api/v1/drs/plan", PERM, "drs.read", NULL, NULL, FALSE },
	{ "POST", "/api/v1/drs/plan", PERM, "drs.admin", NULL, NULL, FALSE },
	{ "POST", "/api/v1/drs/apply", PERM, "drs.admin", NULL, NULL, FALSE },
	{ "GET", "/api/v1/drs/history", PERM, "drs.read", NULL, NULL, FALSE },
	{ NULL },
};

const IcsFieldRule ics_field_rules[] = {
	{ "host-path", "vm.host_path",
	  "a VM definition's disk, cdrom, kernel or initrd path outside every pool and outside "
	  "[security] vm_path_roots" },
	{ "never-path", NULL,
	  "a VM definition path under /dev, /proc, /sys, /run, the manager's state directory, "
	  "a pool's .ics directory or a backup repository (also after following symbolic "
	  "links)" },
	{ "foreign-disk", NULL,
	  "a disk path that a VM the caller cannot see already uses (callers that see every "
	  "VM may share disks)" },
	{ "give-vm", "vm.write",
	  "a VM owner other than the caller: vm.write on every VM, not only owned ones" },
	{ "grant", NULL,
	  "a role or permission the caller does not hold itself, at the same scope: granting "
	  "roles to a user, creating or deleting a role" },
	{ "superior", NULL,
	  "changing, resetting or deleting a user who holds a permission the caller lacks" },
	{ NULL },
};

const IcsRouteRule *ics_route_rule_find(const char *method, const char *pattern)
{
	for (const IcsRouteRule *r = ics_route_rules; r->method; r++)
		if (strcmp(r->method, method) == 0 && strcmp(r->pattern, pattern) == 0)
			return r;
	return NULL;
}

const IcsFieldRule *ics_field_rule(const char *id)
{
	for (const IcsFieldRule *f = ics_field_rules; f->id; f++)
		if (strcmp(f->id, id) == 0)
			return f;
	g_error("authz_rules.c has no field rule \"%s\"", id);
	return NULL;
}

gboolean ics_field_rule_check(const IcsPrincipal *p, const char *id, const char *what,
			      GError **error)
{
	const IcsFieldRule *f = ics_field_rule(id);

	if (f->permission && ics_principal_scope(p, f->permission) == ICS_SCOPE_ALL)
		return TRUE;
	if (f->permission)
		g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION,
			    "%s: needs permission %s, which user \"%s\" does not hold (%s)", what,
			    f->permission, p->name ? p->name : "?", f->what);
	else
		g_set_error(error, ICS_ERROR, ICS_ERROR_PERMISSION,
			    "%s: not allowed to anyone (%s)", what, f->what);
	return FALSE;
}

const char *ics_access_name(IcsAccess access)
{
	switch (access) {
	case ICS_ACCESS_PUBLIC:
		return "public";
	case ICS_ACCESS_ANY_USER:
		return "any user";
	case ICS_ACCESS_PERMISSION:
		return "permission";
	}
	return "?";
}

char *ics_authz_table_markdown(void)
{
	GString *out = g_string_new("| method | route | access | permission | on the object "
				    "| also |\n|---|---|---|---|---|---|\n");

	for (const IcsRouteRule *r = ics_route_rules; r->method; r++)
		g_string_append_printf(
			out, "| %s | `%s` | %s | %s | %s | %s |\n", r->method, r->pattern,
			ics_access_name(r->access), r->permission ? r->permission : "",
			r->object_permission ? r->object_permission : "", r->note ? r->note : "");
	g_string_append(out, "\n| field rule | permission | what |\n|---|---|---|\n");
	for (const IcsFieldRule *f = ics_field_rules; f->id; f++)
		g_string_append_printf(out, "| %s | %s | %s |\n", f->id,
				       f->permission ? f->permission : "never", f->what);
	return g_string_free(out, FALSE);
}
