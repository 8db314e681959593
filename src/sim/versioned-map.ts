/**
 * A Map that counts its changes, so a reader can tell "unchanged since I last looked" in O(1)
 * (snapshot history reuses a domain's extra p2m runs this way). Reads are Map's own.
 */
export class VersionedMap<K, V> extends Map<K, V> {
  /** Incremented by every set, delete and clear. */
  version = 0;

  override set(key: K, value: V): this {
    this.version++;
    return super.set(key, value);
  }

  override delete(key: K): boolean {
    this.version++;
    return super.delete(key);
  }

  override clear(): void {
    this.version++;
    super.clear();
  }
}
