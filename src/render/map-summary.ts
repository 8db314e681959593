/** The memory map's accessible name: the picture in a few sentences (what a screen reader says). */
import type { MachineSnapshot } from "../sim/index.js";
import type { Activity } from "./map-activity.js";
import { grouped, plural, size } from "./format.js";

/** One paragraph summarising the machine, its domains, live DMA and every problem shown. */
export function summarise(s: MachineSnapshot, a: Activity): string {
  const parts: string[] = [];
  parts.push(`Memory map of a ${s.arch} machine with ${size(s.memory)} (${grouped(s.frameCount)} frames of ${size(s.pageSize)}).`);
  if (s.domains.length) {
    parts.push(
      `Domains: ${s.domains.map((d) => `${d.name} (${d.mode}, ${plural(d.nrPages, "page")}${d.p2m.length > 1 ? `, ${plural(d.p2m.length, "machine-contiguous run")}` : ", machine-contiguous"})`).join("; ")}.`,
    );
  }
  if (s.swiotlb.length)
    parts.push(
      `swiotlb pools: ${s.swiotlb.map((p) => `${p.kind} of ${p.domain}, ${size(p.bytes)}, ${p.usedSlots} of ${p.totalSlots} slots in use`).join("; ")}.`,
    );
  if (s.mappings.length)
    parts.push(
      `${plural(s.mappings.length, "live DMA mapping")}: ${[...new Set(s.mappings.map((m) => `${m.device} via ${m.backend}`))].join(", ")}.`,
    );
  if (s.foreignPages.length)
    parts.push(
      `${plural(s.foreignPages.length, "foreign page")} mapped (${[...new Set(s.foreignPages.map((f) => `${f.domain} from ${f.granter}, ${f.strategy}`))].join("; ")}).`,
    );
  if (s.iommu.length)
    parts.push(
      `IOMMU: ${s.iommu.map((io) => `${io.devices.join(", ")} (${io.invalidation}, ${plural(io.entries.length, "PTE")})`).join("; ")}.`,
    );
  const count = (kind: string) => a.incidents.filter((i) => i.kind === kind);
  const stray = count("stray-dma");
  if (stray.length)
    parts.push(`Stray DMA: ${[...new Set(stray.map((i) => `${i.device ?? "a device"} hit ${i.victim ?? "another domain"}`))].join(", ")}.`);
  const faults = count("iommu-fault");
  if (faults.length) parts.push(`${plural(faults.length, "IOMMU fault")} (access blocked).`);
  const stale = new Set([
    ...count("iotlb-stale").map((i) => i.index),
    ...s.iommu.flatMap((io) => io.iotlb.filter((e) => e.stale).map((e) => e.iovaPage)),
  ]);
  if (stale.size) parts.push(`${plural(stale.size, "stale IOTLB entry", "stale IOTLB entries")} used or present.`);
  const unmapped = count("unmapped-dma");
  if (unmapped.length) parts.push(`${plural(unmapped.length, "DMA")} outside any live mapping.`);
  const errors = count("mapping-error");
  if (errors.length) parts.push(`Mapping errors: ${plural(new Set(errors.map((e) => e.seq)).size, "call")} failed.`);
  if (a.current) parts.push(`At step ${a.current.seq}: ${a.current.message}`);
  if (s.halted) parts.push(`Halted: ${s.halted}`);
  return parts.join(" ");
}
