import { CHUNK_FRAMES, type FrameStore } from "./frames.js";
import type { SeededRandom } from "./rng.js";

/**
 * First free run of `count` frames below `limit` (exclusive), lowest first or highest first.
 * Empty 64 Ki-frame chunks are skipped whole, so scanning a huge, mostly free machine is cheap.
 */
export function findFreeRun(store: FrameStore, count: number, limit: number, topDown = false): number | undefined {
  if (count <= 0 || count > limit) return undefined;
  return topDown ? findFromTop(store, count, limit) : findFromBottom(store, count, limit);
}

/**
 * Lowest free run of `count` frames below `limit` that starts at a multiple of `align` frames:
 * what Xen's buddy allocator hands out for one extent of order log2(`align`), naturally aligned
 * to its size (XENMEM_exchange, alloc_domheap_pages).
 */
export function findAlignedFreeRun(store: FrameStore, count: number, limit: number, align: number): number | undefined {
  if (count <= 0 || count > limit) return undefined;
  return findFromBottom(store, count, limit, align);
}

function findFromBottom(store: FrameStore, count: number, limit: number, align = 1): number | undefined {
  let runStart = 0;
  let i = 0;
  while (i < limit) {
    if (store.chunkFree(i)) {
      i = Math.min(limit, (Math.floor(i / CHUNK_FRAMES) + 1) * CHUNK_FRAMES);
    } else if (store.isFree(i)) {
      i++;
    } else {
      i++;
      runStart = i;
      continue;
    }
    const start = align === 1 ? runStart : Math.ceil(runStart / align) * align;
    if (i - start >= count) return start;
  }
  return undefined;
}

function findFromTop(store: FrameStore, count: number, limit: number): number | undefined {
  let runTop = limit - 1;
  let i = limit - 1;
  while (i >= 0) {
    if (store.chunkFree(i)) {
      i = Math.floor(i / CHUNK_FRAMES) * CHUNK_FRAMES - 1;
    } else if (store.isFree(i)) {
      i--;
    } else {
      i--;
      runTop = i;
      continue;
    }
    if (runTop - i >= count) return runTop - count + 1;
  }
  return undefined;
}

/** The lowest `count` free frames below `limit` (ascending), or undefined if there are fewer. */
export function lowestFreeFrames(store: FrameStore, count: number, limit: number): number[] | undefined {
  const frames: number[] = [];
  let i = 0;
  while (i < limit && frames.length < count) {
    if (store.chunkFree(i)) {
      const end = Math.min(limit, (Math.floor(i / CHUNK_FRAMES) + 1) * CHUNK_FRAMES, i + count - frames.length);
      for (; i < end; i++) frames.push(i);
    } else {
      if (store.isFree(i)) frames.push(i);
      i++;
    }
  }
  return frames.length === count ? frames : undefined;
}

/** Fisher-Yates shuffle in place, with the machine's seeded generator. */
export function shuffle(values: number[], random: SeededRandom): number[] {
  for (let i = values.length - 1; i > 0; i--) {
    const j = random.below(i + 1);
    const t = values[i]!;
    values[i] = values[j]!;
    values[j] = t;
  }
  return values;
}

/** Number of free frames below `limit`, counting empty chunks whole. */
export function countFree(store: FrameStore, limit: number): number {
  let free = 0;
  let i = 0;
  while (i < limit) {
    if (store.chunkFree(i)) {
      const next = Math.min(limit, (Math.floor(i / CHUNK_FRAMES) + 1) * CHUNK_FRAMES);
      free += next - i;
      i = next;
    } else {
      if (store.isFree(i)) free++;
      i++;
    }
  }
  return free;
}
