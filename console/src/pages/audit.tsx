// audit.tsx: audit search (user, action, object, result, time range;
// newest first, older pages on demand) and export of every matching
// record as CSV or JSON lines (downloaded through the API client, so the
// bearer token is sent and never put in a URL).
import { useState } from "preact/hooks";
import { api, type AuditRecord } from "../api";
import { Badge, ErrorBox, when } from "../ui";

const FIELDS: [string, string][] = [["user", "User"], ["action", "Action"], ["object_type", "Object type"], ["object_id", "Object id"]];

export function AuditPage() {
  const [query, setQuery] = useState<Record<string, string>>({});
  const [rows, setRows] = useState<AuditRecord[] | null>(null);
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);

  const read = (ev?: Event) => {
    ev?.preventDefault();
    const q: Record<string, string> = {};
    if (ev) new FormData(ev.target as HTMLFormElement).forEach((v, k) => {
      const s = String(v).trim();
      if (s) q[k] = (k === "since" || k === "until") ? new Date(s).toISOString() : s;
    });
    setQuery(q); setBusy(true); setError(null);
    api.audit(q).then((p) => { setRows(p.items); setNext(p.next); }, setError).finally(() => setBusy(false));
  };
  const more = () => api.audit(query, next).then((p) => { setRows([...(rows ?? []), ...p.items]); setNext(p.next); }, setError);
  const exportAs = async (format: "csv" | "jsonl") => {
    try {
      const blob = await api.auditExport(query, format);
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = "ics-audit." + format;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    } catch (e) { setError(e as Error); }
  };
  return (
    <>
      <h1>Audit</h1>
      <form onSubmit={read} class="toolbar" role="search" aria-label="Audit search">
        {FIELDS.map(([k, label]) => <label key={k}>{label}<input name={k} /></label>)}
        <label>Result<select name="result"><option value="">any</option><option>success</option><option>failure</option></select></label>
        <label>Since<input name="since" type="datetime-local" /></label>
        <label>Until<input name="until" type="datetime-local" /></label>
        <button type="submit" aria-busy={busy}>Search</button>
      </form>
      <div class="actions">
        <button class="secondary" onClick={() => exportAs("csv")}>Export CSV</button>
        <button class="secondary" onClick={() => exportAs("jsonl")}>Export JSON lines</button>
      </div>
      <ErrorBox error={error} />
      {rows && (
        <table>
          <thead><tr><th scope="col">#</th><th scope="col">Time</th><th scope="col">User</th><th scope="col">Action</th><th scope="col">Object</th><th scope="col">Result</th><th scope="col">Client</th><th scope="col">Reason</th></tr></thead>
          <tbody>{rows.map((r) => (
            <tr key={r.id}><td>{r.id}</td><td>{when(r.started_at)}</td><td>{r.user}</td><td>{r.action}</td><td>{r.object_type} {r.object_id}</td>
              <td><Badge value={r.result} /> {r.http_status}</td><td>{r.client}</td><td>{r.reason}</td></tr>
          ))}</tbody>
        </table>
      )}
      {rows && !rows.length && <p>No record matches.</p>}
      {rows && next !== null && <button class="secondary" onClick={more}>Older records</button>}
    </>
  );
}
