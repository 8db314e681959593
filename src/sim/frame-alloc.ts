import { CHUNK_FRAMES, FrameStore } from "./frames.js";
import { SeededRandom } from "./rng.js";

/**
 * First free run of `count` frames below `limit` (exclusive), lowest first or highest first.
 * Empty 64 Ki-frame chunks are skipped whole, so scanning a huge, mostly free machine is cheap.
 */
export function findFreeRun(store: FrameStore, count: number, limit: number, topDown = false): number | undefined {
  if (count <= 0 || count > limit) return undefined;
  return topDown ? findFromTop(store, count, limit) : findFromBottom(store, count, limit);
}

function findFromBottom(store: FrameStore, count: number, limit: number): number | undefined {
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
    if (i - runStart >= count) return runStart;
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

/**
 * Picks `count` free frames at seeded-random positions below `limit` (probing upwards, wrapping,
 * from each pick): a pseudo-physically contiguous domain whose machine frames are scattered.
 * `take` must assign each frame before the next pick. The caller checks `countFree` first, so a
 * pick always finds a frame.
 */
export function takeScattered(store: FrameStore, count: number, limit: number, random: SeededRandom, take: (mfn: number, index: number) => void): void {
  for (let n = 0; n < count; n++) {
    let mfn = random.below(limit);
    while (!store.isFree(mfn)) mfn = mfn + 1 === limit ? 0 : mfn + 1;
    take(mfn, n);
  }
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
