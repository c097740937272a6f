// api.ts: the one client of the REST API (/api/v1, docs/openapi.yaml).
//
// Every call goes through request(): it adds the session's bearer token,
// turns the API's error body {"error": {code, message}} into an ApiError
// that pages show as it is (the server's messages say what to do), and on
// a 401 -- the session expired, was ended or revoked -- forgets the token
// and sends the user to the login page, remembering where they were so
// the login returns there.  The types below mirror the schemas of
// docs/openapi.yaml that the console reads; a field the console does not
// use is left out rather than guessed.
import { session } from "./session";

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export interface Session { token?: string; user: string; expires_at: string; stage: "full" | "second_factor" | "enrol" }
export interface WhoAmI { user: string; roles: string[]; permissions: string[]; owned_only: string[]; auth: string; stage?: string }
export interface Page<T, N = string | number> { items: T[]; next: N | null }
export interface Task {
  id: number; kind: string; object_type: string | null; object_id: string | null;
  state: "queued" | "running" | "succeeded" | "failed" | "cancelled"; progress: number; message: string;
  result: unknown; error: string | null; cancel_requested: boolean;
  created_at: string; started_at: string | null; ended_at: string | null;
}
export interface VmRuntime { state: "starting" | "running" | "stopped" | "migrating" | "failed" | "unknown"; host: string | null; pool: string | null; resource?: string }
export interface VmSummary {
  uuid: string; name: string; owner: string | null; vcpus: number; memory_mib: number;
  created_at: string; updated_at: string; broken?: string; runtime?: VmRuntime;
}
export interface VmLease { holder: string | null; host_id?: number; generation?: number; slot: number; version: number }
export interface Vm extends VmSummary {
  definition: Record<string, unknown> & { name: string; vcpus: number; memory_mib: number };
  lease?: VmLease; lease_error?: string;
}
export interface HostSummary { name: string; id: string; state: string; dc: boolean; standby: boolean; maintenance: boolean; vm_count: number }
export interface ClusterSummary {
  dc?: string; quorum: boolean; cib_epoch: number;
  hosts: { total: number; by_state: Record<string, number> };
  vms: { total: number; by_state: Record<string, number> };
  fencing: { enabled: boolean; action: string; configured: boolean; devices: { id: string; type?: string; active_on: string[]; failed: boolean }[] };
}
export interface NodeStats {
  node: string; cpus: number; memory_total_kib: number; memory_free_kib: number;
  domains: { name: string; uuid?: string; active: boolean; vcpus: number; memory_kib: number }[];
}
export interface HostDetail extends HostSummary {
  vms: { uuid: string | null; resource: string; state: string }[];
  stats: NodeStats | null; stats_error?: string;
}
export interface PoolSummary { name: string; path: string | null; resource: string | null; active_on: string[] }
export interface Heartbeat { host_id: number; name: string | null; state: string; age_s: number }
export interface PoolDetail extends PoolSummary {
  capacity: { total_bytes: number; free_bytes: number; used_bytes: number } | null; capacity_error?: string;
  heartbeat: Heartbeat[] | null; heartbeat_error?: string;
}
export interface Volume { name: string; pool: string; path: string; format: string; capacity_bytes: number; allocation_bytes: number }
export interface BackupRepository { name: string; path: string; id: string; created: string; created_by: string }
export interface Backup {
  id: string; repository: string; vm: { uuid: string; name: string }; created: string; completed: string | null;
  kind: "full" | "incremental"; parent: string | null; full_reason: string | null; consistency: string;
  bytes_written: number; duration_ms: number; disks: { target: string; virtual_size: number; file_size: number }[];
}
export interface RestoreRequest { repository: string; to: "new-vm" | "in-place" | "volume"; name?: string; pool?: string; disks?: string[] }
export interface BackupPolicy {
  name: string; schedule: string; repository: string; vms: string[]; all_vms: boolean; pools: string[]; hosts: string[]; tags: string[]; retention: string | null;
  max_concurrent: number; window: string | null; enabled: boolean; last_run: string | null; next_run: string | null; due: number; created: string; created_by: string;
}
export interface SystemBackup { name: string; created: string; ics_version: string; schema_version: number; bytes: number }
export interface User { name: string; enabled: boolean; roles: string[]; locked: boolean; created_at: string; directory?: string | null; second_factor_enrolled?: boolean }
export interface Role { name: string; builtin: boolean; description: string; permissions: string[] }
export interface ApiKey { access_key_id: string; user: string; description: string; created_at: string; last_used_at: string | null }
export interface AuditRecord {
  id: number; user: string; action: string; object_type: string | null; object_id: string | null;
  result: string; http_status: number; reason: string | null; client: string | null; started_at: string;
}
export interface DrsConfig { mode: "off" | "manual" | "automatic"; level: number; period_s: number; ha_reserve_pct: number; cooldown_s: number; updated_at: string | null }
export interface DrsMove { seq: number; vm: string; name: string | null; from: string; to: string; wave: number; gain: number; state: string; error: string | null }
export interface DrsScore { hbal: number; objective: number; penalty: number; violations: number }
export interface DrsRun {
  id: number; trigger: string; state: string; error: string | null; task_id: number | null;
  created_at: string; ended_at: string | null; explanation?: string | null;
  score?: { before: DrsScore; after: DrsScore }; moves: DrsMove[];
}

export const loginPath = "/api/v1/sessions";

async function request<T>(method: string, path: string, body?: unknown, raw = false): Promise<T> {
  const headers: Record<string, string> = {};
  const token = session.token();
  if (token) headers["Authorization"] = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let resp: Response;
  try {
    resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, "unreachable", "the manager does not answer (" + String(e) + ")");
  }
  if (resp.status === 401 && path !== loginPath && token) {
    session.expired();
    throw new ApiError(401, "unauthenticated", "your session has ended; log in again");
  }
  if (!resp.ok) {
    let code = "http-" + resp.status, message = resp.statusText || "request failed";
    try {
      const e = (await resp.json()).error;
      if (e) ({ code, message } = e);
    } catch { /* not JSON: keep the status line */ }
    throw new ApiError(resp.status, code, message);
  }
  if (raw) return (await resp.blob()) as T;
  if (resp.status === 204) return undefined as T;
  return (await resp.json()) as T;
}

const enc = encodeURIComponent;
const query = (q: Record<string, string | number | undefined | null>) => {
  const s = Object.entries(q).filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([k, v]) => enc(k) + "=" + enc(String(v))).join("&");
  return s ? "?" + s : "";
};

// Every page of a keyset-paginated list, in order.
async function all<T>(path: string, key: "after" | "before" = "after", limit = 1000): Promise<T[]> {
  const out: T[] = [];
  let next: string | number | null = null;
  do {
    const page: Page<T> = await request<Page<T>>("GET", path + query({ limit, [key]: next }));
    out.push(...page.items);
    next = page.next;
  } while (next !== null && next !== undefined);
  return out;
}

export const api = {
  login: (username: string, password: string, code?: string) =>
    request<Session>("POST", loginPath, code ? { username, password, code } : { username, password }),
  secondFactor: (code: string) => request<Session>("POST", "/api/v1/sessions/current/second-factor", { code }),
  whoami: () => request<WhoAmI>("GET", "/api/v1/sessions/current"),
  logout: () => request<void>("DELETE", "/api/v1/sessions/current"),
  totpEnrol: (user: string) => request<{ secret: string; otpauth_uri: string; qr_svg: string }>("POST", `/api/v1/users/${enc(user)}/totp`),
  totpConfirm: (user: string, code: string) => request<{ recovery_codes: string[]; stage: string }>("POST", `/api/v1/users/${enc(user)}/totp/confirm`, { code }),

  vms: () => all<VmSummary>("/api/v1/vms"),
  vm: (uuid: string) => request<Vm>("GET", `/api/v1/vms/${enc(uuid)}`),
  createVm: (definition: Record<string, unknown>) => request<Vm>("POST", "/api/v1/vms", { definition }),
  updateVm: (uuid: string, definition: Record<string, unknown>) => request<Vm>("PUT", `/api/v1/vms/${enc(uuid)}`, { definition }),
  deleteVm: (uuid: string) => request<void>("DELETE", `/api/v1/vms/${enc(uuid)}`),
  startVm: (uuid: string) => request<Task>("POST", `/api/v1/vms/${enc(uuid)}/start`),
  stopVm: (uuid: string, force: boolean) => request<Task>("POST", `/api/v1/vms/${enc(uuid)}/stop${force ? "?force=true" : ""}`),
  rebootVm: (uuid: string) => request<Task>("POST", `/api/v1/vms/${enc(uuid)}/reboot`),
  migrateVm: (uuid: string, target_host: string) => request<Task>("POST", `/api/v1/vms/${enc(uuid)}/migrate`, { target_host }),
  consoleTicket: (uuid: string, kind: "vnc" | "serial") =>
    request<{ ticket: string; url: string; expires_in: number; kind: string }>("POST", `/api/v1/vms/${enc(uuid)}/console/ticket`, { kind }),

  cluster: () => request<ClusterSummary>("GET", "/api/v1/cluster"),
  hosts: () => request<{ items: HostSummary[] }>("GET", "/api/v1/hosts").then((r) => r.items),
  host: (name: string) => request<HostDetail>("GET", `/api/v1/hosts/${enc(name)}`),
  maintenance: (name: string, enter: boolean) => request<Task>("POST", `/api/v1/hosts/${enc(name)}/maintenance`, { enter }),

  pools: () => request<{ items: PoolSummary[] }>("GET", "/api/v1/pools").then((r) => r.items),
  pool: (name: string) => request<PoolDetail>("GET", `/api/v1/pools/${enc(name)}`),
  volumes: (pool: string) => request<{ items: Volume[] }>("GET", `/api/v1/pools/${enc(pool)}/volumes`).then((r) => r.items),
  createVolume: (pool: string, v: { name: string; capacity: string; format: string; provisioning: string }) =>
    request<Volume | Task>("POST", `/api/v1/pools/${enc(pool)}/volumes`, v),
  deleteVolume: (pool: string, name: string) => request<void>("DELETE", `/api/v1/pools/${enc(pool)}/volumes/${enc(name)}`),
  resizeVolume: (pool: string, name: string, capacity: string) =>
    request<Task>("POST", `/api/v1/pools/${enc(pool)}/volumes/${enc(name)}/resize`, { capacity }),

  backupRepos: () => request<BackupRepository[]>("GET", "/api/v1/backup-repositories"),
  addBackupRepo: (name: string, path: string) => request<BackupRepository>("POST", "/api/v1/backup-repositories", { name, path }),
  removeBackupRepo: (name: string) => request<void>("DELETE", `/api/v1/backup-repositories/${enc(name)}`),
  vmBackups: (uuid: string) => request<{ backups: Backup[]; problems: string[] }>("GET", `/api/v1/vms/${enc(uuid)}/backups`),
  backupVm: (uuid: string, repository: string, full: boolean) => request<Task>("POST", `/api/v1/vms/${enc(uuid)}/backups`, { repository, full }),
  restoreBackup: (uuid: string, id: string, body: RestoreRequest) => request<Task>("POST", `/api/v1/vms/${enc(uuid)}/backups/${enc(id)}/restore`, body),
  backupPolicies: () => request<BackupPolicy[]>("GET", "/api/v1/backup-policies"),
  createBackupPolicy: (p: { name: string; schedule: string; repository: string; vms?: string[]; all_vms?: boolean; pools?: string[]; hosts?: string[]; tags?: string[]; retention?: string; max_concurrent?: number; window?: string }) =>
    request<BackupPolicy>("POST", "/api/v1/backup-policies", p),
  updateBackupPolicy: (name: string, p: { enabled?: boolean }) => request<BackupPolicy>("PATCH", `/api/v1/backup-policies/${enc(name)}`, p),
  deleteBackupPolicy: (name: string) => request<void>("DELETE", `/api/v1/backup-policies/${enc(name)}`),
  runBackupPolicy: (name: string) => request<BackupPolicy>("POST", `/api/v1/backup-policies/${enc(name)}/run`),
  systemBackups: () => request<{ backups: SystemBackup[]; problems: string[]; keep: number; period_seconds: number }>("GET", "/api/v1/system/backups"),
  backupSystem: () => request<Task>("POST", "/api/v1/system/backups"),
  tasks: (before?: number | null) => request<Page<Task, number>>("GET", "/api/v1/tasks" + query({ limit: 50, before })),
  cancelTask: (id: number) => request<Task>("POST", `/api/v1/tasks/${id}/cancel`),

  drsConfig: () => request<DrsConfig>("GET", "/api/v1/drs/config"),
  putDrsConfig: (c: Partial<DrsConfig>) => request<DrsConfig>("PUT", "/api/v1/drs/config", c),
  drsPlan: () => request<{ plan: DrsRun | null }>("GET", "/api/v1/drs/plan"),
  drsRun: () => request<{ plan: DrsRun | null }>("POST", "/api/v1/drs/plan"),
  drsApply: (run_id: number) => request<Task>("POST", "/api/v1/drs/apply", { run_id }),
  drsHistory: () => request<Page<DrsRun, number>>("GET", "/api/v1/drs/history?limit=20"),

  users: () => all<User>("/api/v1/users", "after", 100),
  createUser: (name: string, password: string, roles: string[]) => request<User>("POST", "/api/v1/users", { name, password, roles }),
  roles: () => request<{ items: Role[] }>("GET", "/api/v1/roles").then((r) => r.items),
  apikeys: () => request<{ items: ApiKey[] }>("GET", "/api/v1/apikeys").then((r) => r.items),
  createApikey: (description: string) =>
    request<{ access_key_id: string; secret: string }>("POST", "/api/v1/apikeys", { description }),
  deleteApikey: (id: string) => request<void>("DELETE", `/api/v1/apikeys/${enc(id)}`),

  audit: (q: Record<string, string>, before?: number | null) =>
    request<Page<AuditRecord, number>>("GET", "/api/v1/audit" + query({ ...q, limit: 100, before })),
  auditExport: (q: Record<string, string>, format: "csv" | "jsonl") =>
    request<Blob>("GET", "/api/v1/audit/export" + query({ ...q, format }), undefined, true),
};
