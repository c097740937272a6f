// drs.tsx: DRS -- its configuration (mode, level, period, HA reserve),
// the current plan with each move's gain and the score before and after,
// run it now, apply it (a task followed live), and the history of runs.
import { api, type DrsRun, type WhoAmI } from "../api";
import { Badge, ErrorBox, Loading, TaskProgress, useAction, useEvent, useResource, when } from "../ui";

function Moves({ run }: { run: DrsRun }) {
  if (!run.moves.length) return <p>No move{run.explanation ? ": " + run.explanation : "."}</p>;
  return (
    <table>
      <thead><tr><th scope="col">Wave</th><th scope="col">VM</th><th scope="col">From</th><th scope="col">To</th><th scope="col">Gain</th><th scope="col">State</th></tr></thead>
      <tbody>{run.moves.map((m) => (
        <tr key={m.seq}><td>{m.wave}</td><td><a href={"#/vms/" + m.vm}>{m.name ?? m.vm}</a></td><td>{m.from}</td><td>{m.to}</td><td>{m.gain.toFixed(4)}</td><td><Badge value={m.state} />{m.error ? " " + m.error : ""}</td></tr>
      ))}</tbody>
    </table>
  );
}

export function DrsPage({ me }: { me: WhoAmI }) {
  const config = useResource(() => api.drsConfig());
  const plan = useResource(() => api.drsPlan());
  const history = useResource(() => api.drsHistory());
  const act = useAction();
  const admin = me.permissions.includes("drs.admin");
  useEvent(["task.updated"], (e) => {
    if (e.type === "reset" || (e.data?.kind === "drs.apply" && e.data.state !== "running")) { plan.reload(); history.reload(); }
  });
  const save = (ev: Event) => {
    ev.preventDefault();
    const f = new FormData(ev.target as HTMLFormElement);
    act.run(async () => {
      config.setData(await api.putDrsConfig({ mode: f.get("mode") as "manual", level: Number(f.get("level")), period_s: Number(f.get("period_s")), ha_reserve_pct: Number(f.get("ha_reserve_pct")) }));
    });
  };
  const c = config.data, run = plan.data?.plan;
  return (
    <>
      <h1>DRS</h1>
      <h2>Configuration</h2>
      <ErrorBox error={config.error} />
      {c ? (
        <form onSubmit={save} class="toolbar" aria-label="DRS configuration">
          <label>Mode<select name="mode" defaultValue={c.mode} disabled={!admin}><option value="off">off</option><option value="manual">manual (plan only)</option><option value="automatic">automatic (plan and apply)</option></select></label>
          <label>Level<input name="level" type="number" min={1} max={5} defaultValue={String(c.level)} disabled={!admin} /></label>
          <label>Period (s)<input name="period_s" type="number" min={10} max={86400} defaultValue={String(c.period_s)} disabled={!admin} /></label>
          <label>HA reserve (%)<input name="ha_reserve_pct" type="number" min={0} max={90} defaultValue={String(c.ha_reserve_pct)} disabled={!admin} /></label>
          {admin && <button type="submit" disabled={act.busy}>Save</button>}
        </form>
      ) : !config.error && <Loading what="the configuration" />}
      <h2>Current plan</h2>
      <ErrorBox error={plan.error} />
      {admin && (
        <div class="actions">
          <button class="secondary" disabled={act.busy} onClick={() => act.run(async () => { plan.setData(await api.drsRun()); history.reload(); })}>Plan now</button>
          <button disabled={act.busy || !run || run.state !== "planned" || !run.moves.length} onClick={() => run && act.run(() => api.drsApply(run.id))}>Apply this plan</button>
        </div>
      )}
      <ErrorBox error={act.error} />
      <TaskProgress id={act.taskId} label="Applying the DRS plan" />
      {plan.data && !run && <p>No plan yet.</p>}
      {run && (
        <>
          <p>Run {run.id} ({run.trigger}, {when(run.created_at)}) <Badge value={run.state} />
            {run.score && <> — score {run.score.before.objective.toFixed(4)} → {run.score.after.objective.toFixed(4)}</>}</p>
          {run.error && <p class="error-box">{run.error}</p>}
          <Moves run={run} />
        </>
      )}
      <h2>History</h2>
      <ErrorBox error={history.error} />
      {history.data && (
        <table>
          <thead><tr><th scope="col">Run</th><th scope="col">Trigger</th><th scope="col">State</th><th scope="col">Moves</th><th scope="col">Created</th><th scope="col">Ended</th></tr></thead>
          <tbody>{history.data.items.map((r) => <tr key={r.id}><td>{r.id}</td><td>{r.trigger}</td><td><Badge value={r.state} /></td><td>{r.moves.length}</td><td>{when(r.created_at)}</td><td>{when(r.ended_at)}</td></tr>)}</tbody>
        </table>
      )}
    </>
  );
}
