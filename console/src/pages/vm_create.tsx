// vm_create.tsx: the VM creation wizard, in steps (basics, disks, network,
// boot and policy, review) that build the definition of POST /api/v1/vms
// (docs/vm-definition.md).  The boot source is a disk, a CD-ROM, the
// network or a kernel on the pool (direct boot, "kernel").  Disks are existing volumes of a pool or new
// ones created on the way (POST .../volumes, thin); the manager validates
// the whole definition, and its message is shown as it is when it refuses.
import { useState } from "preact/hooks";
import { api, type Volume } from "../api";
import { navigate } from "../router";
import { bytes, ErrorBox, useResource } from "../ui";

interface Disk { pool: string; volume: string; newSize: string; bus: string }
interface Nic { type: string; name: string; model: string }
const STEPS = ["Basics", "Disks", "Network", "Boot and policy", "Review"];

export function VmCreatePage() {
  const [step, setStep] = useState(0);
  const [name, setName] = useState("");
  const [vcpus, setVcpus] = useState(1);
  const [mem, setMem] = useState(1024);
  const [virt, setVirt] = useState("kvm");
  const [tags, setTags] = useState("");
  const [disks, setDisks] = useState<Disk[]>([]);
  const [nics, setNics] = useState<Nic[]>([]);
  const [boot, setBoot] = useState("hd");
  const [cdrom, setCdrom] = useState("");
  const [kernel, setKernel] = useState({ path: "", initrd: "", cmdline: "" });
  const [crash, setCrash] = useState("ha");
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const pools = useResource(() => api.pools().catch(() => []));
  const [volumes, setVolumes] = useState<Record<string, Volume[]>>({});

  const loadVolumes = (pool: string) => {
    if (pool && !volumes[pool]) api.volumes(pool).then((v) => setVolumes((m) => ({ ...m, [pool]: v })), setError);
  };
  const poolPath = (pool: string) => pools.data?.find((p) => p.name === pool)?.path ?? "";

  const definition = () => {
    const d: Record<string, unknown> = { name, vcpus, memory_mib: mem, virt_type: virt, crash_policy: crash };
    d.disks = disks.map((k) => ({ path: `${poolPath(k.pool)}/${k.volume}`, bus: k.bus,
      format: volumes[k.pool]?.find((v) => v.name === k.volume)?.format ?? (k.volume.endsWith(".qcow2") ? "qcow2" : "raw") }));
    const tagList = tags.split(/[\s,]+/).filter(Boolean);
    if (tagList.length) d.tags = tagList;
    d.nics = nics.map((n) => ({ model: n.model, source: { type: n.type, name: n.name } }));
    if (boot === "kernel") {
      // direct kernel boot excludes "boot" (docs/vm-definition.md)
      const k: Record<string, string> = { path: kernel.path };
      if (kernel.initrd) k.initrd = kernel.initrd;
      if (kernel.cmdline) k.cmdline = kernel.cmdline;
      d.kernel = k;
    } else d.boot = [boot];
    if (cdrom) d.cdrom = cdrom;
    return d;
  };

  const create = async () => {
    setBusy(true); setError(null);
    try {
      for (const k of disks) if (k.newSize) await api.createVolume(k.pool, { name: k.volume, capacity: k.newSize, format: "qcow2", provisioning: "thin" });
      const vm = await api.createVm(definition());
      navigate("/vms/" + vm.uuid);
    } catch (e) { setError(e as Error); } finally { setBusy(false); }
  };
  const val = (f: (s: string) => void) => (e: Event) => f((e.target as HTMLInputElement).value);
  const setDisk = (i: number, p: Partial<Disk>) => setDisks(disks.map((d, j) => (i === j ? { ...d, ...p } : d)));
  const setNic = (i: number, p: Partial<Nic>) => setNics(nics.map((d, j) => (i === j ? { ...d, ...p } : d)));

  return (
    <>
      <h1>Create a VM</h1>
      <nav aria-label="Wizard steps"><ol>{STEPS.map((s, i) => <li key={s} aria-current={i === step ? "step" : undefined}>{i === step ? <strong>{s}</strong> : s}</li>)}</ol></nav>
      <ErrorBox error={error} />
      <form onSubmit={(e) => { e.preventDefault(); if (step < STEPS.length - 1) setStep(step + 1); else create(); }}>
        {step === 0 && (
          <fieldset><legend>Basics</legend>
            <label>Name<input required pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,62}" value={name} onInput={val(setName)} /></label>
            <label>vCPUs<input type="number" min={1} max={256} value={vcpus} onInput={val((s) => setVcpus(Number(s)))} /></label>
            <label>Memory (MiB)<input type="number" min={16} value={mem} onInput={val((s) => setMem(Number(s)))} /></label>
            <label>Virtualisation<select value={virt} onChange={val(setVirt)}><option value="kvm">KVM</option><option value="qemu">QEMU (TCG, no hardware support)</option></select></label>
            <label>Tags (comma-separated; backup policies select VMs by them)<input value={tags} pattern="[A-Za-z0-9._\-, ]*" onInput={val(setTags)} /></label>
          </fieldset>
        )}
        {step === 1 && (
          <fieldset><legend>Disks</legend>
            {disks.map((d, i) => (
              <div key={i} class="toolbar" role="group" aria-label={`Disk ${i + 1}`}>
                <label>Pool<select value={d.pool} onChange={(e) => { const p = (e.target as HTMLSelectElement).value; setDisk(i, { pool: p, volume: "" }); loadVolumes(p); }}>
                  <option value="">choose</option>{(pools.data ?? []).map((p) => <option key={p.name} value={p.name}>{p.name}</option>)}</select></label>
                <label>Existing volume<select value={d.newSize ? "" : d.volume} onChange={(e) => setDisk(i, { volume: (e.target as HTMLSelectElement).value, newSize: "" })}>
                  <option value="">— or a new one —</option>{(volumes[d.pool] ?? []).map((v) => <option key={v.name} value={v.name}>{v.name} ({bytes(v.capacity_bytes)})</option>)}</select></label>
                <label>New volume name<input value={d.newSize ? d.volume : ""} onInput={(e) => setDisk(i, { volume: (e.target as HTMLInputElement).value, newSize: d.newSize || "10G" })} /></label>
                <label>New size<input value={d.newSize} placeholder="10G" onInput={(e) => setDisk(i, { newSize: (e.target as HTMLInputElement).value })} /></label>
                <label>Bus<select value={d.bus} onChange={(e) => setDisk(i, { bus: (e.target as HTMLSelectElement).value })}><option>virtio</option><option>sata</option><option>scsi</option></select></label>
                <button type="button" class="secondary" onClick={() => setDisks(disks.filter((_, j) => j !== i))}>Remove disk {i + 1}</button>
              </div>
            ))}
            <button type="button" class="secondary" onClick={() => setDisks([...disks, { pool: "", volume: "", newSize: "", bus: "virtio" }])}>Add a disk</button>
          </fieldset>
        )}
        {step === 2 && (
          <fieldset><legend>Network interfaces</legend>
            {nics.map((n, i) => (
              <div key={i} class="toolbar" role="group" aria-label={`Interface ${i + 1}`}>
                <label>Type<select value={n.type} onChange={(e) => setNic(i, { type: (e.target as HTMLSelectElement).value })}><option value="bridge">Linux bridge</option><option value="ovs">Open vSwitch bridge</option><option value="network">libvirt network</option></select></label>
                <label>Bridge or network<input required value={n.name} onInput={(e) => setNic(i, { name: (e.target as HTMLInputElement).value })} /></label>
                <label>Model<select value={n.model} onChange={(e) => setNic(i, { model: (e.target as HTMLSelectElement).value })}><option>virtio</option><option>e1000</option><option>rtl8139</option></select></label>
                <button type="button" class="secondary" onClick={() => setNics(nics.filter((_, j) => j !== i))}>Remove interface {i + 1}</button>
              </div>
            ))}
            <button type="button" class="secondary" onClick={() => setNics([...nics, { type: "bridge", name: "", model: "virtio" }])}>Add an interface</button>
          </fieldset>
        )}
        {step === 3 && (
          <fieldset><legend>Boot and crash policy</legend>
            <label>Boot from<select value={boot} onChange={val(setBoot)}><option value="hd">disk</option><option value="cdrom">CD-ROM</option><option value="network">network</option><option value="kernel">a kernel (direct boot)</option></select></label>
            {boot === "kernel" && (
              <div role="group" aria-label="Direct kernel boot">
                <label>Kernel (absolute path every host sees: on the pool)<input required value={kernel.path} onInput={val((v) => setKernel({ ...kernel, path: v }))} placeholder="/srv/ics/pools/shared/boot/vmlinux" /></label>
                <label>Initial ramdisk (optional)<input value={kernel.initrd} onInput={val((v) => setKernel({ ...kernel, initrd: v }))} /></label>
                <label>Kernel command line (optional)<input value={kernel.cmdline} maxLength={2048} onInput={val((v) => setKernel({ ...kernel, cmdline: v }))} placeholder="console=ttyS0" /></label>
              </div>
            )}
            <label>CD-ROM image (absolute path of an ISO every host sees)<input value={cdrom} onInput={val(setCdrom)} placeholder="/srv/iso/debian.iso" /></label>
            <label>On a guest crash<select value={crash} onChange={val(setCrash)}>
              <option value="ha">recover it, on another host if needed (ha)</option><option value="restart">restart it on the same host</option>
              <option value="poweroff">leave it off</option><option value="none">keep it paused for inspection</option></select></label>
          </fieldset>
        )}
        {step === 4 && (
          <section aria-label="Review"><h2>Review</h2><pre class="json" tabIndex={0}>{JSON.stringify(definition(), null, 2)}</pre></section>
        )}
        <div class="actions">
          {step > 0 && <button type="button" class="secondary" onClick={() => setStep(step - 1)}>Back</button>}
          <button type="submit" aria-busy={busy} disabled={busy}>{step < STEPS.length - 1 ? "Next" : "Create"}</button>
        </div>
      </form>
    </>
  );
}
