// The VMware side of a conversion as a port: where a guest is listed and exported from. One
// implementation today, an ESXi-style host over SSH (esxi-ssh-source.ts); a vCenter or ovftool source
// is another implementation, chosen by the kind of the command's source (`sourceFor`), and the
// conversion and the workflow do not change.
import type { Readable } from 'node:stream';
import type { UnmanagedDomain, VmwareGuestRef, VmwareHostRef } from '../../../domain/agent-protocol/index.js';

/** Where an export writes: a directory on the conversion host, one file at a time. */
export interface ExportDestination {
  /** Writes `data` as the file `name` (a plain file name) in the export directory. */
  receive(name: string, data: Readable): Promise<void>;
}

/** Bytes of the export written so far, of all it will write. */
export type ExportProgress = (done: number, total: number) => void;

export interface ExportedGuest {
  /** The guest as listed when it was exported. */
  readonly guest: UnmanagedDomain;
  /** The .vmx's file name in the export directory: what `virt-v2v -i vmx` is given. */
  readonly vmxFile: string;
}

export interface VmwareGuestSource {
  /** The guests on the host's datastores, running or not, by name. */
  listGuests(): Promise<UnmanagedDomain[]>;
  /**
   * Copies the stopped guest's .vmx (its disks' names made local) and its disks (descriptors and
   * extents) into `destination`. @throws VmwareSourceError when the guest runs, has snapshots, or
   * cannot be read.
   */
  exportGuest(vmxPath: string, destination: ExportDestination, progress: ExportProgress, timeoutMs: number): Promise<ExportedGuest>;
  close(): Promise<void>;
}

export class VmwareSourceError extends Error {
  constructor(
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'VmwareSourceError';
  }
}

/** How the agent logs in to the VMware host: the operator's password, else its own key. */
export type VmwareCredential = { readonly password: string } | { readonly privateKeyPath: string };

/** A guest's host, from the reference a command carries. */
export function hostOf(guest: VmwareGuestRef): VmwareHostRef {
  return { kind: guest.kind, host: guest.host, port: guest.port, username: guest.username };
}
