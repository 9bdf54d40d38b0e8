// Queries: what the orchestrator asks an agent to look up and tell, rather than do. Unlike a command
// a query changes nothing, belongs to no job and is not kept in the log: the answer is data for the
// caller waiting on it (an API query), which gives up after its deadline. Queries are signed as
// commands are (an agent must not tell its host's domains to whoever can publish to its queue), and
// travel on queues of their own with replies of their own (`adapters/hypervisor/queries.ts`), so
// the command path and its job bookkeeping are untouched by them.

/**
 * A domain on a managed host that vmledger does not manage: one whose definition carries no vmledger
 * record (`adapters/hypervisor/libvirt/domain-metadata.ts`), whatever its name. Running or stopped.
 * The shape follows CloudStack's UnmanagedInstanceTO as its KVM agent fills it (kvm-agent-notes §4).
 */
export interface UnmanagedDomain {
  /** The hypervisor's name of the domain. */
  readonly name: string;
  readonly powerState: 'PowerOn' | 'PowerOff';
  /** vCPUs defined (`<vcpu>`): CloudStack counts running vCPUs, which is 0 for a stopped domain. */
  readonly cpuNumber: number;
  /** MHz per core when the definition says (`<cputune><shares>` / cores), else 0. */
  readonly cpuSpeed: number;
  readonly cpuCoresPerSocket: number | null;
  /** MiB. */
  readonly memory: number;
  readonly osDisplayName: string | null;
  /** In device order, `device='disk'` only (CD-ROMs and floppies are not disks). */
  readonly disks: readonly UnmanagedDiskInfo[];
  /** In device order. */
  readonly nics: readonly UnmanagedNicInfo[];
  /**
   * A VMware guest's .vmx on its host (ListVmwareGuests), what ConvertVmwareGuest's source names;
   * absent for libvirt domains.
   */
  readonly vmxPath?: string;
}

export interface UnmanagedDiskInfo {
  /** Its position among the disks, as text ("0", "1", …): what dataDiskOfferingList names. */
  readonly diskId: string;
  /** Bytes the guest sees; null when the host could not tell. */
  readonly capacity: number | null;
  /** The bus: virtio, scsi, ide, sata. */
  readonly controller: string;
  readonly controllerUnit: number | null;
  /** The device, e.g. vda. */
  readonly label: string;
  /** The file (or device) behind the disk; null for a disk with no source. */
  readonly imagePath: string | null;
  readonly position: number;
  /** The directory the image is in. */
  readonly datastoreName: string | null;
  /** The image format the definition gives (`<driver type=…>`: qcow2, raw, vmdk), if it does. */
  readonly format?: string | null;
}

export interface UnmanagedNicInfo {
  /** Its position among the NICs, as text: what nicNetworkList names. */
  readonly nicId: string;
  readonly macAddress: string;
  /** The bridge (or network) it is attached to. */
  readonly networkName: string | null;
  readonly vlanId: number | null;
  readonly pciSlot: number | null;
  /** The model: virtio, e1000, … */
  readonly adapterType: string | null;
  readonly ipAddress: string | null;
}

export interface ListUnmanagedDomains {
  readonly type: 'ListUnmanagedDomains';
  readonly queryId: string;
  readonly hostId: string;
  /** Only this domain (an exact name); an error when it is unknown or managed. Null: all of them. */
  readonly name: string | null;
}

/**
 * An external KVM host (behaviour §4.6 `external`): one vmledger does not manage, reached by the
 * agent of a managed host over SSH with an operator's login, never by the orchestrator itself.
 */
export interface RemoteHostLogin {
  /** Name or address. */
  readonly host: string;
  readonly port: number;
  readonly username: string;
}

/**
 * The stopped domains of an external host (`GetRemoteVmsCommand`). The password travels sealed for
 * this query's id (adapters/hypervisor/sealed-secret.ts); the query is never logged or stored.
 */
export interface ListRemoteDomains {
  readonly type: 'ListRemoteDomains';
  readonly queryId: string;
  /** The managed host whose agent logs in to the remote one. */
  readonly hostId: string;
  readonly remote: RemoteHostLogin;
  /** Null: the agent logs in without a password (its own key). */
  readonly password: { readonly keyId: string; readonly box: string } | null;
}

/**
 * A VMware host as the agent of a managed host reaches it, by kind (see EsxiSshGuest in messages.ts:
 * a vCenter source would be another kind).
 */
export interface EsxiSshHost {
  readonly kind: 'esxi-ssh';
  readonly host: string;
  readonly port: number;
  readonly username: string;
}

export type VmwareHostRef = EsxiSshHost;

/**
 * The guests on a VMware host's datastores (vmsForImport with importSource VMWARE), read from each
 * `/vmfs/volumes/<datastore>/<vm>/*.vmx` and the VMDK descriptors it names, running or not, in the
 * UnmanagedDomain shape with `vmxPath` set: name from displayName, CPUs, memory, guestOS as the OS
 * name, disks (capacity from the descriptor, controller scsi/sata/ide/nvme, unit, path, datastore)
 * and NICs (MAC, adapter type, port group). The password travels sealed for this query's id; null:
 * the agent logs in with its own key.
 */
export interface ListVmwareGuests {
  readonly type: 'ListVmwareGuests';
  readonly queryId: string;
  readonly hostId: string;
  readonly source: VmwareHostRef;
  readonly password: { readonly keyId: string; readonly box: string } | null;
}

export type AgentQuery = ListUnmanagedDomains | ListRemoteDomains | ListVmwareGuests;

export interface AgentQueryReply {
  readonly type: 'AgentQueryReply';
  readonly queryId: string;
  readonly hostId: string;
  readonly query: AgentQuery['type'];
  readonly outcome: 'succeeded' | 'failed';
  /** For a succeeded ListUnmanagedDomains, ListRemoteDomains or ListVmwareGuests. */
  readonly domains?: readonly UnmanagedDomain[];
  readonly error?: { readonly message: string; readonly detail?: string };
}
