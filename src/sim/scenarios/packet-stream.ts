import { SimError, describeValue, rejectUnknownKeys, requireObject } from "../errors.js";
import { createMachine } from "../machine.js";
import type { Arch, Hypervisor, Machine } from "../machine.js";
import type { Domain } from "../domain.js";
import type { DmaApi } from "../dma/api.js";
import type { Device } from "../device.js";
import type { Direction } from "../dma/backend.js";
import type { CostModel } from "../costs.js";
import { formatSize, hex } from "../units.js";
import type { Scenario, ScenarioOutcome, StrategySpec } from "./compare.js";

/**
 * How the NIC driver makes each packet buffer reachable by the device — the strategies the
 * published IOMMU studies compare:
 * - "none": no IOMMU; dma_map_single is an identity (the unprotected baseline).
 * - "strict" / "single-use": map before and unmap after every DMA, IOTLB flushed at each unmap
 *   (intel_iommu=strict; Willmann et al.'s "single-use").
 * - "deferred": the same, with Linux's lazy invalidation (a flush once 250 unmaps are queued in era
 *   "2006", 255 in "modern", or after 10 ms).
 * - "optimistic": vIOMMU's optimistic teardown — "Keep the translation alive within the OS mapping
 *   data structure, optimistically expecting it to be reused"; a kept mapping is torn down only
 *   after `keepMicroseconds` unused, and its IOTLB invalidation is batched as in "deferred" (the
 *   vIOMMU talk's column "Optimistic (Patched; IOTLB Batching)").
 * - "persistent": a buffer is mapped on first use and never unmapped (Willmann et al.).
 * - "shared": buffers on one page share one refcounted page mapping (Willmann et al.).
 * - "direct-map": the whole buffer pool is mapped once at setup (Willmann et al.'s direct map).
 * - "copy": Markuze et al.'s shadow buffers — the device only ever sees permanently mapped shadow
 *   buffers, and the CPU copies each packet between shadow and OS buffer. Each copy costs a lookup
 *   of the ring slot's shadow (`costs.mappingLookup`) plus `costs.memcpyPerByte` per byte: no
 *   swiotlb slot search (`bounceBase`), since every slot owns its shadow for good.
 */
export type PacketMapping = "none" | "strict" | "single-use" | "deferred" | "optimistic" | "persistent" | "shared" | "direct-map" | "copy";

/** Every {@link PacketMapping}. */
export const PACKET_MAPPINGS: readonly PacketMapping[] = [
  "none",
  "strict",
  "single-use",
  "deferred",
  "optimistic",
  "persistent",
  "shared",
  "direct-map",
  "copy",
];

/** A strategy for {@link packetStream}. */
export interface PacketStrategy extends StrategySpec {
  /** How buffers are made reachable by the NIC (see {@link PacketMapping}). */
  mapping: PacketMapping;
  /** "optimistic" only: how long an unused mapping is kept. Default 5,000 µs ("a few milliseconds", vIOMMU). */
  keepMicroseconds?: number;
}

/** Options of {@link packetStream}: the workload, identical for every strategy. */
export interface PacketStreamOptions {
  /** Packets measured. Default 1,000; at most 100,000. */
  packets?: number;
  /** Bytes per packet. Default 1,500 (an Ethernet MTU; model assumption for the papers' netperf streams). */
  packetSize?: number;
  /** NIC line rate in Gb/s. Default 10. */
  lineRateGbps?: number;
  /** Receive-ring entries (buffers posted to the NIC). Default 256 (model assumption). */
  ring?: number;
  /** "rx": the NIC writes packets into memory (default); "tx": it reads them. */
  direction?: "rx" | "tx";
  /** Machine architecture (page size). Default "x86_64", as in the papers' testbeds. */
  arch?: Arch;
  /**
   * "xen" (default): the NIC belongs to a P==M driver domain and every IOMMU map/unmap is a
   * hypercall. "none": bare-metal Linux programs its IOMMU itself, as in vIOMMU's and Markuze et
   * al.'s testbeds.
   */
  hypervisor?: Hypervisor;
  /** Cost overrides, for experiments. The literature comparison never passes any. */
  costs?: Partial<CostModel>;
  /** Seed of each strategy's machine (createMachine's `seed`). Default 1. */
  seed?: number;
}

const OPTION_KEYS = ["packets", "packetSize", "lineRateGbps", "ring", "direction", "arch", "hypervisor", "costs", "seed"] as const;
const MAX_PACKETS = 100_000;

interface Workload {
  packets: number;
  packetSize: number;
  lineRateGbps: number;
  ring: number;
  direction: "rx" | "tx";
  arch: Arch;
  hypervisor: Hypervisor;
  costs: Partial<CostModel> | undefined;
  seed: number;
}

/** The driver-side mapping policy: how a posted buffer gets its bus address and gives it back. */
interface Mapper {
  /** Work done once before the measured window (mapping pools). */
  setup(): void;
  acquire(slot: number, buffer: number): number;
  release(slot: number, buffer: number, bus: number): void;
  /** Work after the window: everything still mapped is unmapped. */
  teardown(): void;
}

/**
 * A stream of packets through a NIC, the same workload under each strategy: a ring of `ring`
 * 2 KiB-class buffers is posted to the device; for each packet the device DMAs it into (rx) or
 * out of (tx) the buffer of the next ring slot, the driver gives the buffer back (unmap), the
 * stack processes the packet (`costs.packetProcessing`), and a buffer is posted again (map) — the
 * just-freed one, as a LIFO slab allocator hands it back. Time advances at line rate when the CPU
 * is idle, so the lazy IOTLB's 10 ms timer and optimistic teardown's window see realistic time.
 *
 * Throughput model (an assumption, documented in `metrics`): one 1 GHz CPU
 * (`costs.cyclesPerMicrosecond`) does all per-packet work, the NIC adds none; so throughput =
 * min(line rate, packet bits × CPU cycles per second / cycles per packet in the measured window).
 *
 * Runs in a P==M driver domain, the simulator's nearest thing to bare metal. Under Xen the IOMMU
 * is the hypervisor's, so every IOMMU map and unmap is also a hypercall (see the iommu backend):
 * absolute fractions come out lower than the bare-metal ones published; the ORDER is what the
 * literature check compares.
 */
export function packetStream(options: PacketStreamOptions = {}): Scenario<PacketStrategy> {
  const w = parseOptions(options);
  return {
    name: `packet stream: ${w.packets} × ${w.packetSize} B ${w.direction} at ${w.lineRateGbps} Gb/s`,
    opName: "packet",
    run: (strategy) => runStream(w, checkStrategy(strategy)),
  };
}

function parseOptions(options: PacketStreamOptions): Workload {
  const o = requireObject(options, "packetStream options");
  rejectUnknownKeys(o, OPTION_KEYS, "packetStream");
  const int = (key: string, fallback: number, min: number, max: number): number => {
    const v = o[key] ?? fallback;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) {
      throw new SimError(
        "INVALID_CONFIG",
        `packetStream: ${key} must be a whole number from ${min} to ${max}, got ${describeValue(v)}`,
        key,
      );
    }
    return v;
  };
  const lineRate = o.lineRateGbps ?? 10;
  if (typeof lineRate !== "number" || !Number.isFinite(lineRate) || lineRate <= 0 || lineRate > 1000) {
    throw new SimError(
      "INVALID_CONFIG",
      `packetStream: lineRateGbps must be a number of Gb/s above 0 and at most 1000, got ${describeValue(lineRate)}`,
      "lineRateGbps",
    );
  }
  const direction = o.direction ?? "rx";
  if (direction !== "rx" && direction !== "tx")
    throw new SimError("INVALID_CONFIG", `packetStream: direction must be "rx" or "tx", got ${describeValue(direction)}`, "direction");
  const arch = o.arch ?? "x86_64";
  if (arch !== "x86_64" && arch !== "ia64")
    throw new SimError("INVALID_CONFIG", `packetStream: arch must be "x86_64" or "ia64", got ${describeValue(arch)}`, "arch");
  const hypervisor = o.hypervisor ?? "xen";
  if (hypervisor !== "xen" && hypervisor !== "none")
    throw new SimError(
      "INVALID_CONFIG",
      `packetStream: hypervisor must be "xen" or "none", got ${describeValue(hypervisor)}`,
      "hypervisor",
    );
  return {
    hypervisor,
    packets: int("packets", 1000, 1, MAX_PACKETS),
    packetSize: int("packetSize", 1500, 64, 9000),
    lineRateGbps: lineRate,
    ring: int("ring", 256, 1, 4096),
    direction,
    arch,
    costs: o.costs as Partial<CostModel> | undefined,
    seed: int("seed", 1, 0, Number.MAX_SAFE_INTEGER),
  };
}

function checkStrategy(strategy: PacketStrategy): PacketStrategy {
  const s = requireObject(strategy, "strategy");
  rejectUnknownKeys(s, ["name", "mapping", "keepMicroseconds"], "packet strategy");
  if (!PACKET_MAPPINGS.includes(s.mapping as PacketMapping)) {
    throw new SimError(
      "INVALID_CONFIG",
      `strategy ${describeValue(s.name)}: mapping must be one of ${PACKET_MAPPINGS.map((m) => JSON.stringify(m)).join(", ")}, got ${describeValue(s.mapping)}`,
      "mapping",
    );
  }
  if (
    s.keepMicroseconds !== undefined &&
    (typeof s.keepMicroseconds !== "number" || !Number.isFinite(s.keepMicroseconds) || s.keepMicroseconds < 0 || s.keepMicroseconds > 1e9)
  ) {
    throw new SimError(
      "INVALID_CONFIG",
      `strategy ${describeValue(s.name)}: keepMicroseconds must be a number from 0 to 1e9, got ${describeValue(s.keepMicroseconds)}`,
      "keepMicroseconds",
    );
  }
  return strategy;
}

/** Deferred invalidation, and optimistic teardown on top of it ("Optimistic (Patched; IOTLB Batching)", vIOMMU talk). */
function batchesInvalidation(mapping: PacketMapping): boolean {
  return mapping === "deferred" || mapping === "optimistic";
}

/** The bytes of packet `k`: a fixed pattern, so delivery can be checked without randomness. */
function packetBytes(k: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let j = 0; j < size; j++) out[j] = (k * 31 + j * 7 + (j >> 8)) & 0xff;
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function runStream(w: Workload, strategy: PacketStrategy): ScenarioOutcome {
  const m = createMachine({ arch: w.arch, memory: "64 MiB", seed: w.seed, costs: w.costs, hypervisor: w.hypervisor });
  const dom0 = m.createDomain({ name: "dom0", mode: "P==M", memory: "32 MiB" });
  const protectedByIommu = strategy.mapping !== "none";
  const nic = m.attachDevice({
    name: "eth0",
    domain: dom0,
    dmaMask: 64,
    driver: "nic",
    iommu: protectedByIommu ? { invalidation: batchesInvalidation(strategy.mapping) ? "lazy" : "strict" } : false,
  });
  const dma = dom0.dmaApi(nic, protectedByIommu ? "iommu" : "direct");
  const dir: Direction = w.direction === "rx" ? "FROM_DEVICE" : "TO_DEVICE";
  const bufferSize = 2 ** Math.ceil(Math.log2(w.packetSize));
  const pool = dom0.alloc(w.ring * bufferSize);
  const buffers = Array.from({ length: w.ring }, (_, i) => pool + i * bufferSize);
  const mapper = makeMapper(strategy, {
    machine: m,
    domain: dom0,
    dma,
    device: nic,
    dir,
    bufferSize,
    pool,
    ring: w.ring,
    packetSize: w.packetSize,
    keep: strategy.keepMicroseconds ?? 5000,
  });
  const errors: string[] = [];
  const packetMicroseconds = (w.packetSize * 8) / (w.lineRateGbps * 1000);
  let delivered = 0;
  let window: ScenarioOutcome["window"];
  let ops = 0;
  try {
    mapper.setup();
    if (dir === "TO_DEVICE") buffers.forEach((buffer, slot) => dom0.write(buffer, packetBytes(slot, w.packetSize)));
    const posted = buffers.map((buffer, slot) => ({ buffer, bus: mapper.acquire(slot, buffer) }));
    const start = m.stats();
    const t0 = m.traceLog.now;
    for (let k = 0; k < w.packets; k++) {
      const arrival = t0 + (k + 1) * packetMicroseconds;
      if (m.traceLog.now < arrival) m.advanceTime(arrival - m.traceLog.now);
      const slot = k % w.ring;
      const entry = posted[slot]!;
      const packet = packetBytes(k, w.packetSize);
      let seen: Uint8Array;
      if (dir === "FROM_DEVICE") {
        nic.write(entry.bus, packet);
        mapper.release(slot, entry.buffer, entry.bus);
        seen = dom0.read(entry.buffer, w.packetSize);
      } else {
        // tx: the stack filled the buffer before the driver mapped it (the copy strategy copies at acquire).
        seen = nic.read(entry.bus, w.packetSize);
        mapper.release(slot, entry.buffer, entry.bus);
      }
      if (sameBytes(seen, packet)) delivered++;
      else if (errors.length < 5)
        errors.push(`packet ${k}: the bytes ${dir === "FROM_DEVICE" ? "the CPU read" : "the NIC sent"} differ from the packet`);
      m.emit("packet", () => `packet ${k}: ${w.direction === "rx" ? "received" : "sent"} ${w.packetSize} bytes (stack and driver work)`, {
        domain: dom0.name,
        device: nic.name,
        bytes: w.packetSize,
        cost: m.costs.packetProcessing,
      });
      if (dir === "TO_DEVICE") dom0.write(entry.buffer, packetBytes(k + w.ring, w.packetSize));
      entry.bus = mapper.acquire(slot, entry.buffer);
      ops++;
    }
    window = { start, end: m.stats() };
    for (const [slot, entry] of posted.entries()) mapper.release(slot, entry.buffer, entry.bus);
    mapper.teardown();
    m.finish();
  } catch (error) {
    if (!(error instanceof SimError)) throw error;
    errors.push(`${error.code}: ${error.message}`);
  }
  const end = window?.end ?? m.stats();
  const startTotal = window?.start.cost.total ?? 0;
  const cyclesPerPacket = ops > 0 ? (end.cost.total - startTotal) / ops : 0;
  const cpuPacketsPerSecond = cyclesPerPacket > 0 ? (m.costs.cyclesPerMicrosecond * 1e6) / cyclesPerPacket : Infinity;
  const lineBitsPerSecond = w.lineRateGbps * 1e9;
  const throughput = Math.min(lineBitsPerSecond, cpuPacketsPerSecond * w.packetSize * 8);
  return {
    machine: m,
    ops,
    window,
    metrics: {
      cyclesPerPacket,
      throughputGbps: ops > 0 ? throughput / 1e9 : 0,
      fractionOfLineRate: ops > 0 ? throughput / lineBitsPerSecond : 0,
      lineRateGbps: w.lineRateGbps,
      packetsDelivered: delivered,
    },
    ok: errors.length === 0 && delivered === w.packets,
    errors,
  };
}

interface MapperContext {
  machine: Machine;
  domain: Domain;
  dma: DmaApi;
  device: Device;
  dir: Direction;
  bufferSize: number;
  pool: number;
  ring: number;
  packetSize: number;
  keep: number;
}

function mapOrThrow(c: MapperContext, address: number, size: number, dir: Direction): number {
  const bus = c.dma.mapSingle(address, size, dir);
  if (c.dma.mappingError(bus))
    throw new SimError(
      "RESOURCE_LIMIT",
      `dma_map_single of ${formatSize(size)} at ${hex(address)} failed (see the mapping-error event)`,
      "mapping",
    );
  return bus;
}

function reuse(c: MapperContext, message: string, cost: number, busAddress?: number): void {
  c.machine.emit("mapping-reuse", message, { domain: c.domain.name, device: c.device.name, busAddress, cost });
}

function makeMapper(strategy: PacketStrategy, c: MapperContext): Mapper {
  switch (strategy.mapping) {
    case "none":
    case "strict":
    case "single-use":
    case "deferred":
      return {
        setup() {},
        acquire: (_slot, buffer) => mapOrThrow(c, buffer, c.bufferSize, c.dir),
        release: (_slot, _buffer, bus) => c.dma.unmapSingle(bus, c.bufferSize, c.dir),
        teardown() {},
      };
    case "optimistic":
      return optimisticMapper(c);
    case "persistent":
      return persistentMapper(c);
    case "shared":
      return sharedPageMapper(c);
    case "direct-map":
      return directMapMapper(c);
    case "copy":
      return shadowCopyMapper(c);
  }
}

function optimisticMapper(c: MapperContext): Mapper {
  const costs = c.machine.costs;
  // Released mappings, oldest release first (Map keeps insertion order).
  const kept = new Map<number, { bus: number; at: number }>();
  const expire = () => {
    for (const [buffer, k] of kept) {
      if (c.machine.traceLog.now - k.at < c.keep) break;
      kept.delete(buffer);
      c.dma.unmapSingle(k.bus, c.bufferSize, c.dir);
    }
  };
  return {
    setup() {},
    acquire(_slot, buffer) {
      expire();
      const k = kept.get(buffer);
      if (k) {
        kept.delete(buffer);
        reuse(c, `optimistic teardown: ${hex(buffer)} is still mapped at IOVA ${hex(k.bus)}: reused`, costs.mappingLookup, k.bus);
        return k.bus;
      }
      return mapOrThrow(c, buffer, c.bufferSize, c.dir);
    },
    release(_slot, buffer, bus) {
      kept.set(buffer, { bus, at: c.machine.traceLog.now });
      reuse(c, `optimistic teardown: keep the mapping of ${hex(buffer)} for ${c.keep} µs in case it is reused`, costs.mappingLookup, bus);
      expire();
    },
    teardown() {
      for (const [buffer, k] of kept) {
        kept.delete(buffer);
        c.dma.unmapSingle(k.bus, c.bufferSize, c.dir);
      }
    },
  };
}

function persistentMapper(c: MapperContext): Mapper {
  const costs = c.machine.costs;
  const live = new Map<number, number>();
  return {
    setup() {},
    acquire(_slot, buffer) {
      const bus = live.get(buffer);
      if (bus !== undefined) {
        reuse(c, `persistent mapping of ${hex(buffer)} reused (IOVA ${hex(bus)})`, costs.mappingLookup, bus);
        return bus;
      }
      const fresh = mapOrThrow(c, buffer, c.bufferSize, c.dir);
      live.set(buffer, fresh);
      return fresh;
    },
    release(_slot, buffer, bus) {
      reuse(c, `persistent mapping of ${hex(buffer)} stays (not unmapped)`, costs.mappingLookup, bus);
    },
    teardown() {
      for (const bus of live.values()) c.dma.unmapSingle(bus, c.bufferSize, c.dir);
      live.clear();
    },
  };
}

function sharedPageMapper(c: MapperContext): Mapper {
  const costs = c.machine.costs;
  const pageSize = c.machine.pageSize;
  const pages = new Map<number, { bus: number; refs: number }>();
  return {
    setup() {},
    acquire(_slot, buffer) {
      const page = Math.floor(buffer / pageSize) * pageSize;
      const entry = pages.get(page);
      if (entry) {
        entry.refs++;
        reuse(c, `shared mapping of page ${hex(page)} reused (${entry.refs} buffers on it)`, costs.mappingLookup, entry.bus);
        return entry.bus + (buffer - page);
      }
      const bus = mapOrThrow(c, page, pageSize, c.dir);
      pages.set(page, { bus, refs: 1 });
      return bus + (buffer - page);
    },
    release(_slot, buffer) {
      const page = Math.floor(buffer / pageSize) * pageSize;
      const entry = pages.get(page)!;
      entry.refs--;
      reuse(c, `shared mapping of page ${hex(page)}: ${entry.refs} buffers still on it`, costs.mappingLookup, entry.bus);
      if (entry.refs === 0) {
        pages.delete(page);
        c.dma.unmapSingle(entry.bus, pageSize, c.dir);
      }
    },
    teardown() {},
  };
}

function directMapMapper(c: MapperContext): Mapper {
  const costs = c.machine.costs;
  let base = 0;
  const size = c.ring * c.bufferSize;
  return {
    setup() {
      base = mapOrThrow(c, c.pool, size, "BIDIRECTIONAL");
    },
    acquire(_slot, buffer) {
      const bus = base + (buffer - c.pool);
      reuse(c, `direct map: ${hex(buffer)} is at IOVA ${hex(bus)} (mapped once at setup)`, costs.directMap, bus);
      return bus;
    },
    release(_slot, _buffer, bus) {
      reuse(c, `direct map: nothing to unmap`, costs.directMap, bus);
    },
    teardown() {
      c.dma.unmapSingle(base, size, "BIDIRECTIONAL");
    },
  };
}

function shadowCopyMapper(c: MapperContext): Mapper {
  const costs = c.machine.costs;
  let shadow = 0;
  let shadowBus = 0;
  const size = c.ring * c.bufferSize;
  const copy = (from: number, to: number, what: string) => {
    c.domain.write(to, c.domain.read(from, c.packetSize));
    c.machine.emit("bounce-copy", () => `shadow buffer: ${what} (${c.packetSize} bytes)`, {
      domain: c.domain.name,
      device: c.device.name,
      address: to,
      bytes: c.packetSize,
      cost: costs.mappingLookup + costs.memcpyPerByte * c.packetSize,
    });
  };
  return {
    setup() {
      shadow = c.domain.alloc(size);
      shadowBus = mapOrThrow(c, shadow, size, "BIDIRECTIONAL");
    },
    acquire(slot, buffer) {
      if (c.dir === "TO_DEVICE")
        copy(buffer, shadow + slot * c.bufferSize, `copied ${hex(buffer)} into the permanently mapped shadow of ring slot ${slot}`);
      return shadowBus + slot * c.bufferSize;
    },
    release(slot, buffer) {
      if (c.dir === "FROM_DEVICE") copy(shadow + slot * c.bufferSize, buffer, `copied ring slot ${slot}'s shadow to ${hex(buffer)}`);
    },
    teardown() {
      c.dma.unmapSingle(shadowBus, size, "BIDIRECTIONAL");
    },
  };
}
