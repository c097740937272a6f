// vm_list.tsx: every VM in one virtualised list (10,000 rows draw only the
// ~30 visible, @tanstack/virtual-core), with search (name, uuid, host,
// owner), a state filter and sorting by any column.  The list is read once
// (keyset pages of 1,000) and kept current by events: vm.state changes a
// row in place, vm.created/updated read that VM, vm.deleted drops it.
// Markup is an ARIA table (role=table/row/cell, aria-rowcount and
// aria-rowindex) so screen readers know the size of what they are in.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { elementScroll, observeElementOffset, observeElementRect, Virtualizer } from "@tanstack/virtual-core";
import { api, type VmSummary } from "../api";
import { Badge, ErrorBox, Loading, useEvent, useResource } from "../ui";

type Key = "name" | "state" | "host" | "vcpus" | "memory_mib" | "uuid";
const COLUMNS: [Key, string][] = [["name", "Name"], ["state", "State"], ["host", "Host"], ["vcpus", "vCPUs"], ["memory_mib", "Memory"], ["uuid", "UUID"]];
const ROW = 36;

const valueOf = (v: VmSummary, k: Key): string | number =>
  k === "state" ? (v.broken ? "broken" : v.runtime?.state ?? "undefined") : k === "host" ? v.runtime?.host ?? "" : (v[k] as string | number);

function useVirtual(count: number, scroller: { current: HTMLElement | null }) {
  const [, rerender] = useState(0);
  const v = useMemo(() => new Virtualizer<HTMLElement, Element>({
    count, estimateSize: () => ROW, overscan: 10,
    getScrollElement: () => scroller.current,
    observeElementRect, observeElementOffset, scrollToFn: elementScroll,
    onChange: () => rerender((n) => n + 1),
  }), []);
  v.setOptions({ ...v.options, count });
  useEffect(() => v._didMount(), []);
  useEffect(() => { v._willUpdate(); });
  return v;
}

export function VmListPage() {
  const vms = useResource(() => api.vms());
  const [q, setQ] = useState("");
  const [state, setState] = useState("");
  const [sort, setSort] = useState<{ key: Key; dir: 1 | -1 }>({ key: "name", dir: 1 });
  const scroller = useRef<HTMLDivElement>(null);

  useEvent(["vm.state", "vm.created", "vm.updated", "vm.deleted"], async (e) => {
    if (e.type === "reset") return vms.reload();
    const uuid: string = e.data?.uuid;
    const list = vms.data;
    if (!list || !uuid) return;
    if (e.type === "vm.deleted") return vms.setData(list.filter((v) => v.uuid !== uuid));
    if (e.type === "vm.state") {
      return vms.setData(list.map((v) => v.uuid === uuid ? { ...v, runtime: { pool: v.runtime?.pool ?? null, ...v.runtime, state: e.data.state, host: e.data.host } } : v));
    }
    try {
      const vm = await api.vm(uuid);
      const cur = vms.data ?? list;
      vms.setData(cur.some((v) => v.uuid === uuid) ? cur.map((v) => v.uuid === uuid ? vm : v) : [...cur, vm]);
    } catch { /* gone again, or not ours */ }
  });

  const rows = useMemo(() => {
    const needle = q.trim().toLowerCase();
    const out = (vms.data ?? []).filter((v) =>
      (!state || valueOf(v, "state") === state) &&
      (!needle || v.name.toLowerCase().includes(needle) || v.uuid.includes(needle) ||
        (v.runtime?.host ?? "").toLowerCase().includes(needle) || (v.owner ?? "").toLowerCase().includes(needle)));
    const { key, dir } = sort;
    return out.sort((a, b) => {
      const x = valueOf(a, key), y = valueOf(b, key);
      return (x < y ? -1 : x > y ? 1 : 0) * dir || a.name.localeCompare(b.name);
    });
  }, [vms.data, q, state, sort]);

  const virt = useVirtual(rows.length, scroller);
  const items = virt.getVirtualItems();

  return (
    <>
      <h1>Virtual machines</h1>
      <div class="toolbar" role="search">
        <label>Search<input type="search" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} placeholder="name, uuid, host, owner" /></label>
        <label>State
          <select value={state} onChange={(e) => setState((e.target as HTMLSelectElement).value)}>
            <option value="">any</option>
            {["starting", "running", "stopped", "migrating", "failed", "unknown", "undefined", "broken"].map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <a href="#/vms/new" role="button">Create a VM</a>
      </div>
      <ErrorBox error={vms.error} />
      {vms.loading && !vms.data && <Loading what="VMs" />}
      <p role="status" aria-live="polite"><small>{rows.length} of {vms.data?.length ?? 0} VMs shown</small></p>
      <div class="vlist" ref={scroller} role="table" aria-label="Virtual machines" aria-rowcount={rows.length + 1} tabIndex={0}>
        <div class="row head" role="row" aria-rowindex={1}>
          {COLUMNS.map(([k, label]) => (
            <span key={k} role="columnheader" aria-sort={sort.key === k ? (sort.dir === 1 ? "ascending" : "descending") : "none"}>
              <button onClick={() => setSort((s) => ({ key: k, dir: s.key === k ? (-s.dir as 1 | -1) : 1 }))}>{label}{sort.key === k ? (sort.dir === 1 ? " ▲" : " ▼") : ""}</button>
            </span>
          ))}
        </div>
        <div role="rowgroup" style={{ height: virt.getTotalSize() + "px", position: "relative" }}>
          {items.map((it) => {
            const v = rows[it.index];
            return (
              <div key={v.uuid} class="row" role="row" aria-rowindex={it.index + 2} style={{ position: "absolute", top: 0, left: 0, right: 0, transform: `translateY(${it.start}px)` }}>
                <span role="cell"><a href={"#/vms/" + v.uuid}>{v.name}</a></span>
                <span role="cell"><Badge value={String(valueOf(v, "state"))} /></span>
                <span role="cell">{v.runtime?.host ?? ""}</span>
                <span role="cell">{v.vcpus}</span>
                <span role="cell">{v.memory_mib} MiB</span>
                <span role="cell"><code>{v.uuid}</code></span>
              </div>
            );
          })}
        </div>
      </div>
    </>
  );
}
