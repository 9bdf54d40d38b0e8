// A simulated domain's snapshots, kept as libvirt keeps a domain's: a tree by parent, with one current
// snapshot (the one the domain's state descends from). A new snapshot is a child of the current one
// and becomes current; reverting makes the target current; deleting one hands its children to its
// parent and, when it was current, makes its parent current.
import type { VmSnapshotKind } from '../protocol.js';
import type { DomainSnapshotDetails } from '../driver.js';

/** What a snapshot holds of its domain besides the (unsimulated) disk contents: what revert restores. */
export interface SnapshotImage {
  readonly cpuNumber: number;
  readonly cpuSpeed: number;
  readonly memory: number;
}

export interface SimSnapshot {
  readonly name: string;
  readonly kind: VmSnapshotKind;
  readonly sizeBytes: number;
  readonly description: string | null;
  readonly image: SnapshotImage;
  parent: string | null;
}

export class SnapshotTree {
  private readonly snapshots = new Map<string, SimSnapshot>();
  private current: string | null = null;

  get(name: string): SimSnapshot | undefined {
    return this.snapshots.get(name);
  }

  get size(): number {
    return this.snapshots.size;
  }

  add(snapshot: Omit<SimSnapshot, 'parent'>): SimSnapshot {
    const added: SimSnapshot = { ...snapshot, parent: this.current };
    this.snapshots.set(added.name, added);
    this.current = added.name;
    return added;
  }

  /** Makes the snapshot current; the caller has checked it exists. */
  revertTo(name: string): void {
    this.current = name;
  }

  /** Removes the snapshot, its children moving up to its parent; false when there was none of that name. */
  delete(name: string): boolean {
    const gone = this.snapshots.get(name);
    if (!gone) return false;
    this.snapshots.delete(name);
    for (const snapshot of this.snapshots.values()) if (snapshot.parent === name) snapshot.parent = gone.parent;
    if (this.current === name) this.current = gone.parent;
    return true;
  }

  /** By name, as the port lists them. */
  list(): DomainSnapshotDetails[] {
    return [...this.snapshots.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((snapshot) => ({
      name: snapshot.name,
      kind: snapshot.kind,
      parent: snapshot.parent,
      current: snapshot.name === this.current,
    }));
  }
}
