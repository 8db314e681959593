import { SimError } from "./errors.js";
import { formatSize, hex } from "./units.js";

/** Owner code of a free frame. */
export const FREE = 0;
/** Owner code of a frame that belongs to Xen itself. */
export const XEN = 1;
/** Owner code for domain `domid`. */
export const ownerOf = (domid: number): number => domid + 2;
/** The domid for an owner code (only meaningful for codes >= 2). */
export const domidOf = (owner: number): number => owner - 2;

const CHUNK_SHIFT = 12;
const CHUNK_SIZE = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_SIZE - 1;

/**
 * A per-frame table of small integers, stored in 4 Ki-frame chunks that exist only once a frame
 * in them is set: a 64 GiB machine with two small domains costs a few chunks, not a frame array.
 */
class ChunkedTable<T extends Uint16Array | Uint32Array> {
  private readonly chunks = new Map<number, T>();

  constructor(private readonly make: (length: number) => T) {}

  get(index: number): number {
    const chunk = this.chunks.get(Math.floor(index / CHUNK_SIZE));
    return chunk ? chunk[index & CHUNK_MASK]! : 0;
  }

  set(index: number, value: number): void {
    const key = Math.floor(index / CHUNK_SIZE);
    let chunk = this.chunks.get(key);
    if (!chunk) {
      if (value === 0) return;
      chunk = this.make(CHUNK_SIZE);
      this.chunks.set(key, chunk);
    }
    chunk[index & CHUNK_MASK] = value;
  }

  /** True if no entry in [chunk start, chunk end) can be non-zero: lets scans skip empty chunks. */
  chunkEmpty(index: number): boolean {
    return !this.chunks.has(Math.floor(index / CHUNK_SIZE));
  }

  get chunkCount(): number {
    return this.chunks.size;
  }

  /** The chunk holding `index` (read only), or undefined while every entry in it is 0. */
  chunkAt(index: number): T | undefined {
    return this.chunks.get(Math.floor(index / CHUNK_SIZE));
  }
}

export const CHUNK_FRAMES = CHUNK_SIZE;

/** The M2P chunk of frames no domain's PFN maps to (owned by Xen, say). */
const EMPTY_M2P = new Uint32Array(CHUNK_SIZE);

/**
 * Machine memory: who owns each frame (FREE, XEN or a domain), the M2P (which PFN of its owner a
 * frame backs) and the bytes of frames that were ever written (sparse).
 */
export class FrameStore {
  private readonly owners = new ChunkedTable((n) => new Uint16Array(n));
  /** pfn + 1 of the owning domain, 0 when none: the M2P table. */
  private readonly m2p = new ChunkedTable((n) => new Uint32Array(n));
  private readonly contents = new Map<number, Uint8Array>();
  /** Bumped whenever an owner or M2P entry changes (not on byte writes): lets snapshot history reuse its frame runs. */
  layoutVersion = 0;

  constructor(
    readonly frameCount: number,
    readonly pageSize: number,
    private readonly storageLimit: number,
  ) {}

  owner(mfn: number): number {
    return this.owners.get(mfn);
  }

  /** The PFN this frame backs in its owner's pseudo-physical space, if any. */
  pfnOf(mfn: number): number | undefined {
    const v = this.m2p.get(mfn);
    return v === 0 ? undefined : v - 1;
  }

  assign(mfn: number, owner: number, pfn: number | undefined): void {
    this.layoutVersion++;
    this.owners.set(mfn, owner);
    this.m2p.set(mfn, pfn === undefined ? 0 : pfn + 1);
  }

  release(mfn: number): void {
    this.layoutVersion++;
    this.owners.set(mfn, FREE);
    this.m2p.set(mfn, 0);
    this.contents.delete(mfn);
  }

  isFree(mfn: number): boolean {
    return this.owners.get(mfn) === FREE;
  }

  /** True when every frame of the 4 Ki-frame chunk holding `mfn` is certainly free. */
  chunkFree(mfn: number): boolean {
    return this.owners.chunkEmpty(mfn);
  }

  /**
   * The owner codes and M2P entries (pfn + 1, 0 for none) of the 4 Ki-frame chunk holding `mfn`,
   * for scans that visit every frame (snapshots); undefined when the chunk is all free. Read only.
   */
  chunkTables(mfn: number): { owners: Uint16Array; m2p: Uint32Array } | undefined {
    const owners = this.owners.chunkAt(mfn);
    return owners && { owners, m2p: this.m2p.chunkAt(mfn) ?? EMPTY_M2P };
  }

  /** Bytes of frame `mfn` (zeros if never written). Do not mutate the result. */
  peek(mfn: number): Uint8Array | undefined {
    return this.contents.get(mfn);
  }

  /** The frame's bytes for writing, created on first write; bounded by the storage limit. */
  frameForWrite(mfn: number): Uint8Array {
    let frame = this.contents.get(mfn);
    if (!frame) {
      if ((this.contents.size + 1) * this.pageSize > this.storageLimit) {
        throw new SimError(
          "RESOURCE_LIMIT",
          `the simulation may hold at most ${formatSize(this.storageLimit)} of written memory (limits.storage); writing frame ${hex(mfn)} would exceed it`,
          "limits.storage",
        );
      }
      frame = new Uint8Array(this.pageSize);
      this.contents.set(mfn, frame);
    }
    return frame;
  }

  get writtenFrames(): number {
    return this.contents.size;
  }

  get tableChunks(): number {
    return this.owners.chunkCount + this.m2p.chunkCount;
  }
}
