/*
 * vm_cmd.h: the `ics-admin vm` command group -- argv to requests, records to
 * tables or JSON (internal to ics-admin).  See vm_backend.h for who carries
 * the requests out and docs/ics-admin.8 for the syntax.
 */
#ifndef ICS_ADMIN_VM_CMD_H
#define ICS_ADMIN_VM_CMD_H

#include <glib.h>
#include <jansson.h>

#include "client_config.h"
#include "vm_backend.h"
#include "vm_ops.h"

#define ICS_ADMIN_VM_DEFAULT_WAIT_S 600

/* Exit statuses (docs/ics-admin.8). */
enum {
	ICS_ADMIN_EXIT_OK = 0,
	ICS_ADMIN_EXIT_ERROR = 1,
	ICS_ADMIN_EXIT_USAGE = 2,
	ICS_ADMIN_EXIT_NOT_FOUND = 3,
	ICS_ADMIN_EXIT_CONFLICT = 4,
	ICS_ADMIN_EXIT_AUTH = 5, /* unauthenticated or forbidden */
};

/* The exit status for an error: INVALID_ARGUMENT/PARSE 2, NOT_FOUND 3,
 * BUSY/CONFLICT 4, PERMISSION 5, else 1. */
int ics_admin_exit_code(const GError *error);

/* One --disk value "PATH[,format=F][,bus=B][,cache=C][,target=T][,serial=S]
 * [,readonly][,shared]" as a vm.json disk object; a relative PATH is taken
 * relative to @pool_path. */
json_t *ics_admin_parse_disk(const char *spec, const char *pool_path, GError **error);

/* The definition members `vm define` takes as
 * options; an option not given is NULL or negative and leaves @def alone. */
typedef struct {
	const char *name, *virt_type, *crash_policy, *uuid;
	gint64 vcpus, memory_mib;
} IcsAdminDefOptions;
void ics_admin_def_apply(json_t *def, const IcsAdminDefOptions *o);

/* The options every `vm` command shares, and the ones define keeps. */
typedef struct {
	IcsAdminFlags flags; /* --url, --ca, --config */
	gboolean json;
	gboolean direct;
	gboolean no_wait;
	gint timeout; /* 0: ICS_ADMIN_VM_DEFAULT_WAIT_S */
	char *pool;   /* --pool NAME|PATH */
	char *owner;  /* define --owner */
} IcsAdminVmArgs;
void ics_admin_vm_args_clear(IcsAdminVmArgs *a);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(IcsAdminVmArgs, ics_admin_vm_args_clear)

/* `vm define|create` options (argv[0] = the command) into a request; the
 * common options land in @args.  A --pool PATH is set and relative disk
 * paths made absolute under it; a --pool NAME is left in req->pool_name
 * for the way that runs it.  No uuid is made up here: through the manager
 * the manager picks it. */
gboolean ics_admin_parse_define(int argc, char **argv, IcsAdminDefine *req, IcsAdminVmArgs *args,
				GError **error);

typedef enum {
	ICS_ADMIN_VM_AUTO,    /* the manager when configured, else directly */
	ICS_ADMIN_VM_MANAGER, /* the manager only (the deprecated `manager vm`) */
} IcsAdminVmMode;

/* Run `vm ...` (argv[0] = "vm"); returns the exit status. */
int ics_admin_vm_run(IcsAdmin *adm, IcsAdminVmMode mode, int argc, char **argv);
int ics_admin_vm_main(IcsAdmin *adm, int argc, char **argv);

#endif /* ICS_ADMIN_VM_CMD_H */
