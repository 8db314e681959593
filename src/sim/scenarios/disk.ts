import { SimError, describeValue } from "../errors.js";
import type { Device } from "../device.js";
import type { SgSegment } from "../dma/backend.js";
import { SECTOR_SIZE } from "../block.js";
import type { BlockOp } from "../block.js";
import { formatSize } from "../units.js";

/** Most sectors a simulated disk may have (1 TiB); storage is sparse, so only written sectors cost memory. */
export const MAX_DISK_SECTORS = 2 ** 31;

/**
 * The medium behind a block device: 512-byte sectors, stored sparsely (never-written sectors read
 * as zeros). `transfer` is the device doing a request's DMA: for a write it reads memory at each
 * segment's bus address and stores the bytes; for a read it writes the sectors to memory. All
 * memory traffic goes through `device.read/write`, so stray, unmapped and IOMMU-faulting DMA show
 * in the trace like any other device access.
 */
export class Disk {
  private readonly sectors = new Map<number, Uint8Array>();
  /** Capacity in 512-byte sectors. */
  readonly sectorCount: number;

  /**
   * A disk behind `device` (whose DMA it performs), of `sectorCount` sectors (default 1 GiB).
   * @param device The block device whose DMA the disk performs (`device.read`/`device.write`).
   * @param sectorCount Capacity in 512-byte sectors, 1 to 2^31. Default 2^21 (1 GiB).
   */
  constructor(
    readonly device: Device,
    sectorCount = 2 ** 21,
  ) {
    if (!Number.isSafeInteger(sectorCount) || sectorCount <= 0 || sectorCount > MAX_DISK_SECTORS) {
      throw new SimError(
        "INVALID_CONFIG",
        `disk sectors must be a whole number from 1 to ${MAX_DISK_SECTORS}, got ${describeValue(sectorCount)}`,
        "sectors",
      );
    }
    this.sectorCount = sectorCount;
  }

  /** Reads sectors straight off the medium (no DMA): for checking what a write stored. */
  readSectors(sector: number, count: number): Uint8Array {
    this.checkRange(sector, count);
    const out = new Uint8Array(count * SECTOR_SIZE);
    for (let i = 0; i < count; i++) {
      const data = this.sectors.get(sector + i);
      if (data) out.set(data, i * SECTOR_SIZE);
    }
    return out;
  }

  /** Writes sectors straight onto the medium (no DMA): for preparing what a read will fetch. */
  writeSectors(sector: number, data: Uint8Array): void {
    if (data.length % SECTOR_SIZE !== 0)
      throw new SimError("INVALID_ARGUMENT", `disk data must be whole ${SECTOR_SIZE}-byte sectors, got ${data.length} bytes`, "data");
    const count = data.length / SECTOR_SIZE;
    this.checkRange(sector, count);
    this.device.machine.checkTransfer(data.length, "data.length");
    for (let i = 0; i < count; i++) this.sectors.set(sector + i, data.slice(i * SECTOR_SIZE, (i + 1) * SECTOR_SIZE));
  }

  /**
   * The device executes a request: segments in order, `sector` onwards. A write DMAs from memory
   * to the medium (device reads), a read DMAs from the medium to memory (device writes).
   */
  transfer(op: BlockOp, sector: number, segments: readonly SgSegment[]): void {
    const bytes = segments.reduce((n, s) => n + s.length, 0);
    if (bytes % SECTOR_SIZE !== 0)
      throw new SimError(
        "INVALID_ARGUMENT",
        `a disk transfer moves whole sectors; the segments add up to ${formatSize(bytes)}`,
        "segments",
      );
    this.checkRange(sector, bytes / SECTOR_SIZE);
    let at = sector * SECTOR_SIZE;
    for (const s of segments) {
      if (op === "write") {
        const data = this.device.read(s.busAddress, s.length);
        this.store(at, data);
      } else {
        this.device.write(s.busAddress, this.load(at, s.length));
      }
      at += s.length;
    }
  }

  private store(byteOffset: number, data: Uint8Array): void {
    for (let i = 0; i < data.length; i += SECTOR_SIZE) this.sectors.set((byteOffset + i) / SECTOR_SIZE, data.slice(i, i + SECTOR_SIZE));
  }

  private load(byteOffset: number, length: number): Uint8Array {
    return this.readSectors(byteOffset / SECTOR_SIZE, length / SECTOR_SIZE);
  }

  private checkRange(sector: number, count: number): void {
    if (!Number.isSafeInteger(sector) || sector < 0 || !Number.isSafeInteger(count) || count < 0 || sector + count > this.sectorCount) {
      throw new SimError(
        "INVALID_ARGUMENT",
        `sectors ${describeValue(sector)}..+${describeValue(count)} are outside the disk (${this.sectorCount} sectors)`,
        "sector",
      );
    }
  }
}
