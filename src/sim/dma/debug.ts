import { hex16 } from "../units.js";
import type { EventFields, EventKind, EventMessage } from "../trace.js";
import type { Direction } from "./types.js";

/**
 * CONFIG_DMA_API_DEBUG, after Linux's kernel/dma/debug.c (Joerg Roedel, 2008; versions in
 * docs/reference/sources.mdx): every
 * mapping gets an entry keyed by device and bus address; unmaps, syncs and driver unbind are
 * checked against it. Each finding is a `dma-debug` trace event in the kernel's wording (codes
 * D1-D21, one per dma-debug message the simulator reproduces), never an exception.
 * Unlike the kernel (num_errors=1) every finding is recorded, not just the first.
 */

/** dma_debug_entry types, with the kernel's names ("scather-gather" [sic]). */
export type DebugType = "single" | "scather-gather" | "coherent";

type MapErr = "not-checked" | "checked" | "none";

export interface DebugEntry {
  type: DebugType;
  busAddress: number;
  size: number;
  direction: Direction;
  /** Guest-physical address (paddr) of the CPU side. */
  paddr: number;
  mapErr: MapErr;
  sgCallEnts: number;
  sgMappedEnts: number;
}

/** What a driver passes at unmap or sync time. */
export interface DebugRef {
  type: DebugType;
  busAddress: number;
  size: number;
  direction: Direction;
  paddr?: number;
  sgCallEnts?: number;
}

const DIR_NAME: Record<Direction, string> = {
  BIDIRECTIONAL: "DMA_BIDIRECTIONAL",
  TO_DEVICE: "DMA_TO_DEVICE",
  FROM_DEVICE: "DMA_FROM_DEVICE",
};

/**
 * What dma-debug needs of the machine: whether it is on, the cache line (D19) and the trace.
 * A narrow view, so this file stays below the machine in the import graph.
 */
export interface DebugHost {
  readonly debugEnabled: boolean;
  /** "2006" shows the first dma-debug (exact-address sync lookup), "modern" kernel/dma/debug.c. */
  readonly era: "2006" | "modern";
  readonly cacheLine: number;
  emit(kind: EventKind, message: EventMessage, fields?: EventFields): unknown;
}

/** What dma-debug needs of a device: its names (for messages) and its dma_parms (D20, D21). */
export interface DebugDevice {
  readonly name: string;
  readonly driver: string;
  readonly domain: { readonly name: string };
  readonly maxSegmentSize: number;
  readonly segmentBoundary: number;
}

type Device = DebugDevice;

/** dma-debug state for every device of a machine. */
export class DmaDebug {
  private readonly entries = new Map<Device, Map<number, DebugEntry[]>>();
  /** Active cachelines of non-TO_DEVICE mappings (paddr cacheline → count), for D19. */
  private readonly cachelines = new Map<number, number>();

  constructor(private readonly machine: DebugHost) {}

  private get enabled(): boolean {
    return this.machine.debugEnabled;
  }

  private report(device: Device, code: string, text: string, busAddress?: number): void {
    this.machine.emit("dma-debug", () => `DMA-API: ${device.driver} ${device.name}: ${text}`, {
      device: device.name,
      domain: device.domain.name,
      code,
      busAddress,
    });
  }

  private bucket(device: Device): Map<number, DebugEntry[]> {
    let table = this.entries.get(device);
    if (!table) {
      table = new Map();
      this.entries.set(device, table);
    }
    return table;
  }

  /** debug_dma_map_*: records a successful mapping. */
  add(device: Device, entry: DebugEntry): void {
    if (!this.enabled) return;
    const table = this.bucket(device);
    const list = table.get(entry.busAddress);
    if (list) list.push(entry);
    else table.set(entry.busAddress, [entry]);
    if (entry.direction !== "TO_DEVICE") {
      const line = Math.floor(entry.paddr / this.machine.cacheLine);
      const overlap = this.cachelines.get(line) ?? 0;
      this.cachelines.set(line, overlap + 1);
      // Coherent memory is exempt: the kernel tracks streaming mappings only.
      if (overlap > 0 && entry.type !== "coherent") {
        this.report(device, "D19", "cacheline tracking EEXIST, overlapping mappings aren't supported", entry.busAddress);
      }
    }
  }

  /** debug_dma_mapping_error: the driver checked this address. */
  markChecked(device: Device, busAddress: number): void {
    if (!this.enabled) return;
    for (const entry of this.bucket(device).get(busAddress) ?? []) {
      if (entry.mapErr === "not-checked") {
        entry.mapErr = "checked";
        return;
      }
    }
  }

  /** Best fit among entries at the same address, as bucket_find_exact does. */
  private findExact(device: Device, ref: DebugRef): DebugEntry | undefined {
    const list = this.bucket(device).get(ref.busAddress);
    if (!list || list.length === 0) return undefined;
    let best: DebugEntry | undefined;
    let bestScore = -1;
    for (const e of list) {
      const score =
        Number(e.size === ref.size) +
        Number(e.type === ref.type) +
        Number(e.direction === ref.direction) +
        Number(ref.sgCallEnts === undefined || e.sgCallEnts === ref.sgCallEnts);
      if (score > bestScore) {
        best = e;
        bestScore = score;
      }
    }
    return best;
  }

  private remove(device: Device, entry: DebugEntry): void {
    const table = this.bucket(device);
    const list = table.get(entry.busAddress)!;
    list.splice(list.indexOf(entry), 1);
    if (list.length === 0) table.delete(entry.busAddress);
    if (entry.direction !== "TO_DEVICE") {
      const line = Math.floor(entry.paddr / this.machine.cacheLine);
      const count = (this.cachelines.get(line) ?? 1) - 1;
      if (count <= 0) this.cachelines.delete(line);
      else this.cachelines.set(line, count);
    }
  }

  /** check_unmap: D1-D8. `isErrorCookie` marks the DMA_MAPPING_ERROR value (D2). */
  checkUnmap(device: Device, ref: DebugRef, isErrorCookie: boolean): void {
    if (!this.enabled) return;
    const entry = this.findExact(device, ref);
    if (!entry) {
      if (isErrorCookie) this.report(device, "D2", "device driver tries to free an invalid DMA memory address");
      else
        this.report(
          device,
          "D1",
          `device driver tries to free DMA memory it has not allocated [device address=${hex16(ref.busAddress)}] [size=${ref.size} bytes]`,
          ref.busAddress,
        );
      return;
    }
    if (ref.size !== entry.size) {
      this.report(
        device,
        "D3",
        `device driver frees DMA memory with different size [device address=${hex16(ref.busAddress)}] [map size=${entry.size} bytes] [unmap size=${ref.size} bytes]`,
        ref.busAddress,
      );
    }
    if (ref.type !== entry.type) {
      this.report(
        device,
        "D4",
        `device driver frees DMA memory with wrong function [device address=${hex16(ref.busAddress)}] [size=${ref.size} bytes] [mapped as ${entry.type}] [unmapped as ${ref.type}]`,
        ref.busAddress,
      );
    } else if (ref.type === "coherent" && ref.paddr !== undefined && ref.paddr !== entry.paddr) {
      this.report(
        device,
        "D5",
        `device driver frees DMA memory with different CPU address [device address=${hex16(ref.busAddress)}] [size=${ref.size} bytes] [cpu alloc address=${hex16(entry.paddr)}] [cpu free address=${hex16(ref.paddr)}]`,
        ref.busAddress,
      );
    }
    if (ref.sgCallEnts !== undefined && ref.type === "scather-gather" && ref.sgCallEnts !== entry.sgCallEnts) {
      this.report(
        device,
        "D6",
        `device driver frees DMA sg list with different entry count [map count=${entry.sgCallEnts}] [unmap count=${ref.sgCallEnts}]`,
        ref.busAddress,
      );
    }
    if (ref.direction !== entry.direction) {
      this.report(
        device,
        "D7",
        `device driver frees DMA memory with different direction [device address=${hex16(ref.busAddress)}] [size=${ref.size} bytes] [mapped with ${DIR_NAME[entry.direction]}] [unmapped with ${DIR_NAME[ref.direction]}]`,
        ref.busAddress,
      );
    }
    if (entry.mapErr === "not-checked") {
      this.report(
        device,
        "D8",
        `device driver failed to check map error[device address=${hex16(ref.busAddress)}] [size=${entry.size} bytes] [mapped as ${entry.type}]`,
        ref.busAddress,
      );
    }
    this.remove(device, entry);
  }

  /**
   * check_sync: D9-D14. `busAddress`/`size` may be a sub-range of the mapping (partial sync).
   * The lookup follows the era. Modern (kernel/dma/debug.c): bucket_find_contain /
   * containing_match accept only an entry holding the whole synced range, so a sync that runs
   * past the mapping's end matches nothing and is D9, "tries to sync DMA memory it has not
   * allocated"; the D10 test (`ref->size > entry->size`) cannot fire after such a match.
   * Era "2006": dma-debug did not exist yet (Linux 2.6.30, 2009); the simulator shows the first
   * lib/dma-debug.c, whose hash_bucket_find matched the exact bus address only (a sync must
   * name the mapping's start; partial syncs went through dma_sync_single_range with an offset,
   * here always 0), so running past the end is D10, "outside allocated range".
   */
  checkSync(device: Device, ref: DebugRef, toCpu: boolean): void {
    if (!this.enabled) return;
    const firstDmaDebug = this.machine.era === "2006";
    const entry = firstDmaDebug ? this.bucket(device).get(ref.busAddress)?.[0] : this.findContaining(device, ref.busAddress, ref.size);
    if (!entry) {
      this.report(
        device,
        "D9",
        `device driver tries to sync DMA memory it has not allocated [device address=${hex16(ref.busAddress)}] [size=${ref.size} bytes]`,
        ref.busAddress,
      );
      return;
    }
    if (firstDmaDebug && ref.size > entry.size) {
      this.report(
        device,
        "D10",
        `device driver syncs DMA memory outside allocated range [device address=${hex16(entry.busAddress)}] [allocation size=${entry.size} bytes] [sync offset=0] [sync size=${ref.size}]`,
        ref.busAddress,
      );
    }
    if (entry.direction === "BIDIRECTIONAL") return;
    if (ref.direction !== entry.direction) {
      this.report(
        device,
        "D11",
        `device driver syncs DMA memory with different direction [device address=${hex16(ref.busAddress)}] [size=${entry.size} bytes] [mapped with ${DIR_NAME[entry.direction]}] [synced with ${DIR_NAME[ref.direction]}]`,
        ref.busAddress,
      );
    }
    if (toCpu && entry.direction !== "FROM_DEVICE" && ref.direction !== "TO_DEVICE") {
      this.report(
        device,
        "D12",
        `device driver syncs device read-only DMA memory for cpu [device address=${hex16(ref.busAddress)}] [size=${entry.size} bytes] [mapped with ${DIR_NAME[entry.direction]}] [synced with ${DIR_NAME[ref.direction]}]`,
        ref.busAddress,
      );
    }
    if (!toCpu && entry.direction !== "TO_DEVICE" && ref.direction !== "FROM_DEVICE") {
      this.report(
        device,
        "D13",
        `device driver syncs device write-only DMA memory to device [device address=${hex16(ref.busAddress)}] [size=${entry.size} bytes] [mapped with ${DIR_NAME[entry.direction]}] [synced with ${DIR_NAME[ref.direction]}]`,
        ref.busAddress,
      );
    }
    if (ref.sgCallEnts !== undefined && ref.type === "scather-gather" && ref.sgCallEnts !== entry.sgCallEnts) {
      this.report(
        device,
        "D14",
        `device driver syncs DMA sg list with different entry count [map count=${entry.sgCallEnts}] [sync count=${ref.sgCallEnts}]`,
        ref.busAddress,
      );
    }
  }

  /** bucket_find_contain / containing_match: an entry whose range holds all of [busAddress, busAddress + size). */
  private findContaining(device: Device, busAddress: number, size: number): DebugEntry | undefined {
    const table = this.bucket(device);
    const holds = (e: DebugEntry) => busAddress >= e.busAddress && busAddress + size <= e.busAddress + e.size;
    const exact = table.get(busAddress)?.find(holds);
    if (exact) return exact;
    for (const list of table.values()) {
      for (const e of list) if (holds(e)) return e;
    }
    return undefined;
  }

  /** CONFIG_DMA_API_DEBUG_SG checks on a mapped segment: D20 and D21. */
  checkSgSegment(device: Device, busAddress: number, length: number): void {
    if (!this.enabled) return;
    if (length > device.maxSegmentSize) {
      this.report(
        device,
        "D20",
        `mapping sg segment longer than device claims to support [len=${length}] [max=${device.maxSegmentSize}]`,
        busAddress,
      );
    }
    const boundary = device.segmentBoundary;
    if (boundary !== Infinity && Math.floor(busAddress / boundary) !== Math.floor((busAddress + length - 1) / boundary)) {
      this.report(
        device,
        "D21",
        `mapping sg segment across boundary [start=${hex16(busAddress)}] [end=${hex16(busAddress + length - 1)}] [boundary=${hex16(boundary - 1)}]`,
        busAddress,
      );
    }
  }

  /** Driver unbind (BUS_NOTIFY_UNBOUND_DRIVER): D15 if anything is still mapped. */
  reportLeaks(device: Device): void {
    if (!this.enabled) return;
    const all = [...this.bucket(device).values()].flat();
    if (all.length === 0) return;
    const e = all[0]!;
    this.report(
      device,
      "D15",
      `device driver has pending DMA allocations while released from device [count=${all.length}]\nOne of leaked entries details: [device address=${hex16(e.busAddress)}] [size=${e.size} bytes] [mapped with ${DIR_NAME[e.direction]}] [mapped as ${e.type}]`,
      e.busAddress,
    );
  }

  /** Live entries of a device (for snapshots and tests). */
  liveEntries(device: Device): DebugEntry[] {
    return [...this.bucket(device).values()].flat().map((e) => ({ ...e }));
  }
}
