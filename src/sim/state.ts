/**
 * State that a module keeps for a domain or a machine: the grant table, the foreign-page
 * registry, block-layer bounces, the DMA-API instances. A module declares a {@link StateKey}
 * and finds its state in `owner.state`, so everything a domain holds lives on the domain (one
 * place to inspect, or to copy for a snapshot), and the core classes need not import the
 * modules that add to them.
 */

/** Names one kind of state and how to create it for an owner on first use. */
export class StateKey<T, Owner> {
  constructor(
    readonly name: string,
    readonly create: (owner: Owner) => T,
  ) {}
}

/** The state modules keep for one owner (a domain or a machine), created on first use. */
export class StateSlots<Owner> {
  private readonly values = new Map<StateKey<unknown, Owner>, unknown>();

  constructor(private readonly owner: Owner) {}

  /** The owner's state for `key`, created with `key.create` on first use. */
  get<T>(key: StateKey<T, Owner>): T {
    if (!this.values.has(key)) this.values.set(key, key.create(this.owner));
    return this.values.get(key) as T;
  }

  /** The owner's state for `key`, or undefined if none was created yet. */
  peek<T>(key: StateKey<T, Owner>): T | undefined {
    return this.values.get(key) as T | undefined;
  }

  /** The names of the state kinds this owner holds. */
  names(): string[] {
    return [...this.values.keys()].map((k) => k.name);
  }
}
