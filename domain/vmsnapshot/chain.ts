// The snapshots of one instance as a chain (behaviour §5.1, DefaultVMSnapshotStrategy): each one's
// parent is the snapshot that was current when it was taken, `current` moves to a snapshot when it is
// created or reverted to, and a deleted snapshot's children move up to its parent (which becomes
// current if the deleted one was). The rules span snapshots, so they live in one place: the instance
// stream holds the chain (domain/instance/decide-snapshot.ts), and optimistic concurrency on that one
// stream makes two conflicting snapshot requests on an instance impossible.
import type { VMSnapshotStatus, VMSnapshotType } from './state-machine.js';

export interface VMSnapshotLink {
  readonly id: string;
  /** Its name on the hypervisor, unique among the instance's snapshots. */
  readonly name: string;
  readonly displayName: string;
  readonly type: VMSnapshotType;
  readonly parentId: string | null;
  readonly status: VMSnapshotStatus;
  /** Its VMSNAPSHOT.CREATE usage was written: a delete owes the matching VMSNAPSHOT.DELETE. */
  readonly billed: boolean;
  /** Bytes on primary storage, once created. */
  readonly sizeBytes: number;
}

export interface VMSnapshotChain {
  /** Every snapshot not removed, oldest first. */
  readonly links: readonly VMSnapshotLink[];
  readonly currentId: string | null;
}

export const emptyChain: VMSnapshotChain = { links: [], currentId: null };

export function linkOf(chain: VMSnapshotChain, id: string): VMSnapshotLink | undefined {
  return chain.links.find((link) => link.id === id);
}

function update(chain: VMSnapshotChain, id: string, change: (link: VMSnapshotLink) => VMSnapshotLink): VMSnapshotChain {
  return { ...chain, links: chain.links.map((link) => (link.id === id ? change(link) : link)) };
}

/** A new snapshot, taken on top of the current one. */
export function withRequested(chain: VMSnapshotChain, link: Omit<VMSnapshotLink, 'parentId' | 'status' | 'billed' | 'sizeBytes'>): VMSnapshotChain {
  return { ...chain, links: [...chain.links, { ...link, parentId: chain.currentId, status: 'Creating', billed: false, sizeBytes: 0 }] };
}

export function withStatus(chain: VMSnapshotChain, id: string, status: VMSnapshotStatus): VMSnapshotChain {
  return update(chain, id, (link) => ({ ...link, status }));
}

/** Created: it is Ready, billed, and the new current (its parent stops being current). */
export function withCreated(chain: VMSnapshotChain, id: string, sizeBytes: number): VMSnapshotChain {
  return { ...update(chain, id, (link) => ({ ...link, status: 'Ready', billed: true, sizeBytes })), currentId: id };
}

/** Reverted to: it becomes current; snapshots taken from here on are its children. */
export function withReverted(chain: VMSnapshotChain, id: string): VMSnapshotChain {
  return { ...withStatus(chain, id, 'Ready'), currentId: id };
}

/** Removed: its children move up to its parent, which becomes current if it was. */
export function withRemoved(chain: VMSnapshotChain, id: string): VMSnapshotChain {
  const gone = linkOf(chain, id);
  if (!gone) return chain;
  const links = chain.links
    .filter((link) => link.id !== id)
    .map((link) => (link.parentId === id ? { ...link, parentId: gone.parentId } : link));
  return { links, currentId: chain.currentId === id ? gone.parentId : chain.currentId };
}
