/*
 * store_schema.c: the manager database's schema, as an ordered list of
 * migrations.
 *
 * A migration is appended, never edited: a database in the field at
 * version N has run exactly the first N entries, and store.c applies the
 * rest, each in one transaction together with the version bump.  Times are
 * integer microseconds since the epoch (UTC).  Builtin roles are rows so
 * user_roles can reference them, but their permissions are defined in
 * authz.c, so adding a permission needs no migration.
 */
#include "config.h"

#include "ics/manager/store.h"

const char *const ics_store_migrations[] = {
	/* 1: users, roles, sessions, audit */
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  password_hash TEXT NOT NULL,"
	"  enabled INTEGER NOT NULL DEFAULT 1,"
	"  failed_logins INTEGER NOT NULL DEFAULT 0,"
	"  locked_until_us INTEGER NOT NULL DEFAULT 0,"
	"  created_us INTEGER NOT NULL,"
	"  updated_us INTEGER NOT NULL);"
	"CREATE TABLE roles ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  builtin INTEGER NOT NULL DEFAULT 0,"
	"  description TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE role_permissions ("
	"  role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,"
	"  permission TEXT NOT NULL,"
	"  PRIMARY KEY (role_id, permission));"
	"CREATE TABLE user_roles ("
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE RESTRICT,"
	"  PRIMARY KEY (user_id, role_id));"
	"CREATE TABLE sessions ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  token_hash TEXT NOT NULL UNIQUE,"
	"  client TEXT,"
	"  created_us INTEGER NOT NULL,"
	"  last_seen_us INTEGER NOT NULL,"
	"  expires_us INTEGER NOT NULL);"
	"CREATE INDEX sessions_user ON sessions(user_id, created_us);"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  user TEXT,"
	"  action TEXT NOT NULL,"
	"  object_type TEXT,"
	"  object_id TEXT,"
	"  result TEXT NOT NULL CHECK (result IN ('success', 'failure')),"
	"  http_status INTEGER NOT NULL,"
	"  reason TEXT,"
	"  client TEXT,"
	"  started_us INTEGER NOT NULL,"
	"  ended_us INTEGER NOT NULL);"
	"CREATE INDEX audit_started ON audit(started_us);"
	"INSERT INTO roles (name, builtin, description) VALUES"
	"  ('administrator', 1, 'every permission'),"
	"  ('readonly', 1, 'read everything but the audit log'),"
	"  ('vm_manager', 1, 'manage the VMs the user owns');",

	/* 2: VM inventory and tasks */
	"CREATE TABLE vms ("
	"  uuid TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  owner_id INTEGER REFERENCES users(id) ON DELETE SET NULL,"
	"  vcpus INTEGER NOT NULL,"
	"  memory_mib INTEGER NOT NULL,"
	"  definition TEXT NOT NULL,"
	"  created_us INTEGER NOT NULL,"
	"  updated_us INTEGER NOT NULL);"
	"CREATE INDEX vms_owner ON vms(owner_id, uuid);"
	"CREATE TABLE tasks ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  object_type TEXT,"
	"  object_id TEXT,"
	"  owner_id INTEGER REFERENCES users(id) ON DELETE SET NULL,"
	"  state TEXT NOT NULL CHECK (state IN"
	"    ('queued', 'running', 'succeeded', 'failed', 'cancelled')),"
	"  progress INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),"
	"  message TEXT NOT NULL DEFAULT '',"
	"  params TEXT NOT NULL DEFAULT '{}',"
	"  result TEXT,"
	"  error TEXT,"
	"  cancel_requested INTEGER NOT NULL DEFAULT 0,"
	"  created_us INTEGER NOT NULL,"
	"  started_us INTEGER,"
	"  ended_us INTEGER);"
	"CREATE INDEX tasks_state ON tasks(state);",

	/* 3: API keys (AK/SK) and the nonces of signed requests */
	"CREATE TABLE apikeys ("
	"  id TEXT PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  sealed_secret BLOB NOT NULL,"
	"  description TEXT NOT NULL DEFAULT '',"
	"  created_us INTEGER NOT NULL,"
	"  last_used_us INTEGER);"
	"CREATE INDEX apikeys_user ON apikeys(user_id);"
	"CREATE TABLE apikey_nonces ("
	"  key_id TEXT NOT NULL REFERENCES apikeys(id) ON DELETE CASCADE,"
	"  nonce TEXT NOT NULL,"
	"  expires_us INTEGER NOT NULL,"
	"  PRIMARY KEY (key_id, nonce)) WITHOUT ROWID;"
	"CREATE INDEX apikey_nonces_expiry ON apikey_nonces(expires_us);",

	/* 4: DRS -- its configuration (one row), its runs (a plan each) and the
	 * migrations of each run */
	"CREATE TABLE drs_config ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  mode TEXT NOT NULL CHECK (mode IN ('off', 'manual', 'automatic')),"
	"  level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),"
	"  period_s INTEGER NOT NULL CHECK (period_s BETWEEN 10 AND 86400),"
	"  ha_reserve_pct INTEGER NOT NULL CHECK (ha_reserve_pct BETWEEN 0 AND 90),"
	"  updated_us INTEGER NOT NULL);"
	"INSERT INTO drs_config VALUES (1, 'manual', 3, 300, 0, 0);"
	"CREATE TABLE drs_runs ("
	"  id INTEGER PRIMARY KEY,"
	"  trigger TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('planned', 'superseded', 'failed', 'applying',"
	"    'applied', 'partial', 'cancelled')),"
	"  plan TEXT,"
	"  error TEXT,"
	"  task_id INTEGER,"
	"  created_us INTEGER NOT NULL,"
	"  ended_us INTEGER);"
	"CREATE INDEX drs_runs_state ON drs_runs(state);"
	"CREATE TABLE drs_moves ("
	"  run_id INTEGER NOT NULL REFERENCES drs_runs(id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  wave INTEGER NOT NULL,"
	"  vm TEXT NOT NULL,"
	"  from_host TEXT NOT NULL,"
	"  to_host TEXT NOT NULL,"
	"  gain REAL NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('planned', 'running', 'done', 'failed',"
	"    'skipped')),"
	"  error TEXT,"
	"  started_us INTEGER,"
	"  ended_us INTEGER,"
	"  PRIMARY KEY (run_id, seq));"
	"CREATE INDEX drs_moves_vm ON drs_moves(vm, ended_us);",

	/* 5: a covering index for VM list pages (vm_inventory.c): a page of
	 * 100 is read from the index alone, without visiting the rows and
	 * their definitions -- half the server CPU of GET /api/v1/vms
	 * (bench/manager) */
	"CREATE INDEX vms_list ON vms(uuid, name, owner_id, vcpus, memory_mib, created_us,"
	"  updated_us);",

	/* 6: the TOTP second factor (totp.c) -- the sealed secret, the last
	 * step accepted (replay refusal), hashed recovery codes; who must use
	 * one (a user's flag or a role's); and the stage of a session: full,
	 * or waiting for a second factor, or limited to enrolling one */
	"CREATE TABLE totp ("
	"  user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
	"  sealed_secret BLOB NOT NULL,"
	"  confirmed INTEGER NOT NULL DEFAULT 0,"
	"  last_step INTEGER NOT NULL DEFAULT 0,"
	"  created_us INTEGER NOT NULL,"
	"  confirmed_us INTEGER);"
	"CREATE TABLE totp_recovery ("
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  code_hash TEXT NOT NULL,"
	"  PRIMARY KEY (user_id, code_hash)) WITHOUT ROWID;"
	"ALTER TABLE users ADD COLUMN second_factor_required INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE roles ADD COLUMN second_factor_required INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE sessions ADD COLUMN stage TEXT NOT NULL DEFAULT 'full'"
	"  CHECK (stage IN ('full', 'second_factor', 'enrol'));",

	/* 7: LDAP directory domains (directory.c) -- settings as a JSON
	 * document, the bind password sealed, the outcome of the last sync;
	 * group -> role grants; and the domain of directory users, whose rows
	 * go with their domain (and their sessions, keys, roles with them) */
	"CREATE TABLE directories ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  settings TEXT NOT NULL,"
	"  sealed_bind_password BLOB NOT NULL,"
	"  sync_period_s INTEGER NOT NULL DEFAULT 0,"
	"  last_sync_us INTEGER,"
	"  last_sync_users INTEGER,"
	"  last_sync_error TEXT,"
	"  created_us INTEGER NOT NULL,"
	"  updated_us INTEGER NOT NULL);"
	"CREATE TABLE directory_grants ("
	"  directory_id INTEGER NOT NULL REFERENCES directories(id) ON DELETE CASCADE,"
	"  group_dn TEXT NOT NULL,"
	"  role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE RESTRICT,"
	"  PRIMARY KEY (directory_id, group_dn, role_id));"
	"ALTER TABLE users ADD COLUMN directory_id INTEGER"
	"  REFERENCES directories(id) ON DELETE CASCADE;"
	"ALTER TABLE users ADD COLUMN directory_dn TEXT;"
	"CREATE INDEX users_directory ON users(directory_id);",

	/* 8: the inventory mirrors the cluster (vm_mirror.c): whether a row
	 * stands for a VM of the cluster (its pool definition and primitive;
	 * 0: a manager without a cluster adapter made it), and why a VM of
	 * the cluster cannot be used ("broken": its definition is missing or
	 * invalid, its name is taken twice, ...; NULL when fine) */
	"ALTER TABLE vms ADD COLUMN in_cluster INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE vms ADD COLUMN broken TEXT;"
	"DROP INDEX vms_list;"
	"CREATE INDEX vms_list ON vms(uuid, name, owner_id, vcpus, memory_mib, created_us,"
	"  updated_us, broken);",

	/* 9: backup repositories the manager backs up into (backup_repos.c):
	 * a name for a path; the repository's own id (its
	 * ics-backup-repository.json), so a path that now holds another
	 * repository is noticed.  The backups themselves are not rows: the
	 * repository describes them (docs/backup-format.md). */
	"CREATE TABLE backup_repositories ("
	"  name TEXT PRIMARY KEY,"
	"  path TEXT NOT NULL UNIQUE,"
	"  repo_id TEXT NOT NULL,"
	"  created_by TEXT NOT NULL,"
	"  created_us INTEGER NOT NULL);",

	/* 10: backup policies (backup_policies.c): a cron schedule, a
	 * repository, the VMs (a list of uuids, or all), a retention applied
	 * after each of its backups, how many of its backups may run at once
	 * and when they may start (backup_window, "HH:MM-HH:MM" UTC);
	 * last_fired_us is the schedule time handled last, and the VMs a
	 * fired time made due wait in backup_policy_due, with the task once
	 * one is queued, until that task has ended other than by a manager
	 * restart -- both in the database, so a manager that fails over
	 * neither loses nor doubles a run. */
	"CREATE TABLE backup_policies ("
	"  name TEXT PRIMARY KEY,"
	"  schedule TEXT NOT NULL,"
	"  repository TEXT NOT NULL REFERENCES backup_repositories(name),"
	"  vms TEXT NOT NULL DEFAULT '[]',"
	"  all_vms INTEGER NOT NULL DEFAULT 0,"
	"  retention TEXT,"
	"  max_concurrent INTEGER NOT NULL DEFAULT 2,"
	"  backup_window TEXT,"
	"  enabled INTEGER NOT NULL DEFAULT 1,"
	"  last_fired_us INTEGER,"
	"  created_by TEXT NOT NULL,"
	"  created_us INTEGER NOT NULL);"
	"CREATE TABLE backup_policy_due ("
	"  policy TEXT NOT NULL REFERENCES backup_policies(name) ON DELETE CASCADE,"
	"  vm_uuid TEXT NOT NULL,"
	"  due_us INTEGER NOT NULL,"
	"  task_id INTEGER,"
	"  PRIMARY KEY (policy, vm_uuid));",

	/* 11: backup policies select VMs by pool and by host too (JSON
	 * arrays of names): the VMs on those pools, and those running on
	 * those hosts, when the policy's time comes. */
	"ALTER TABLE backup_policies ADD COLUMN pools TEXT NOT NULL DEFAULT '[]';"
	"ALTER TABLE backup_policies ADD COLUMN hosts TEXT NOT NULL DEFAULT '[]';",

	/* 12: ... and by tag (a JSON array of names): the VMs whose
	 * definition has one of them when the policy's time comes. */
	"ALTER TABLE backup_policies ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';",
};

const guint ics_store_n_migrations = G_N_ELEMENTS(ics_store_migrations);
