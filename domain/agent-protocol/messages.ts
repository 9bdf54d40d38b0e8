// What the orchestrator and the agents say to each other, declared once: the orchestrator's sagas
// build commands of these types, job events store them as they are (the log is the outbox), the
// agent parses and carries them out, and its replies and reports come back in these shapes. Every
// command carries a commandId that its reply repeats, so a redelivered command or reply is
// recognised and applied once. The queues and the bus envelope are the adapters' business
// (`adapters/hypervisor/protocol.ts`); this is only what the messages say.

export type PowerState = 'running' | 'stopped' | 'missing';

export interface NicSpec {
  readonly nicId: string;
  readonly networkId: string;
  readonly mac: string;
  readonly ip: string | null;
  readonly vlan: number | null;
  readonly deviceId: number;
}

export interface VolumeSpec {
  readonly volumeId: string;
  readonly type: 'ROOT' | 'DATADISK';
  /** Bytes. */
  readonly size: number;
  /** The template a ROOT volume is created from. */
  readonly templateId: string | null;
}

/** Everything a host needs to define and run an instance's domain. */
export interface DomainSpec {
  readonly instanceId: string;
  /** The hypervisor-side name (CloudStack's instanceName, e.g. i-2-14-VM). */
  readonly instanceName: string;
  readonly cpuNumber: number;
  /** MHz. */
  readonly cpuSpeed: number;
  /** MiB. */
  readonly memory: number;
  readonly nics: readonly NicSpec[];
  readonly volumes: readonly VolumeSpec[];
}

interface CommandBase {
  readonly commandId: string;
  /** The host whose agent must carry it out. */
  readonly hostId: string;
}

/**
 * The instance a command about an existing domain acts on: the agent acts only on a domain whose
 * vmledger record names this instance, so a command can never reach a domain vmledger did not
 * define for it, whatever name it gives.
 */
interface DomainCommandBase extends CommandBase {
  readonly instanceId: string;
  readonly instanceName: string;
}

export interface StartDomain extends CommandBase {
  readonly type: 'StartDomain';
  readonly domain: DomainSpec;
}

/** Graceful (ACPI) unless forced; a graceful stop that times out is reported as failed. */
export interface StopDomain extends DomainCommandBase {
  readonly type: 'StopDomain';
  readonly forced: boolean;
  readonly timeoutMs: number;
}

export interface RebootDomain extends DomainCommandBase {
  readonly type: 'RebootDomain';
  readonly forced: boolean;
}

export interface MigrateDomain extends DomainCommandBase {
  readonly type: 'MigrateDomain';
  readonly targetHostId: string;
}

/** Removes the domain and its disks from the host; a missing domain is success. */
export interface DestroyDomain extends DomainCommandBase {
  readonly type: 'DestroyDomain';
  readonly volumes: readonly VolumeSpec[];
}

export interface ScaleDomain extends DomainCommandBase {
  readonly type: 'ScaleDomain';
  readonly cpuNumber: number;
  readonly cpuSpeed: number;
  readonly memory: number;
}

// ---- Import and unmanage (issue 16) ----

/**
 * Takes over a domain vmledger did not define (an import): its definition gets vmledger's record for
 * the instance, naming which of its disks (by position among its disks) is which volume, so later
 * commands' ownership checks pass. Nothing else about the domain changes; a running one keeps running.
 * Resolves the domain's power state. Fails NOT_OWNED when the domain already has a record of another
 * instance, NOT_FOUND when the host does not know it; repeating a finished adoption succeeds.
 */
export interface ManageDomain extends DomainCommandBase {
  readonly type: 'ManageDomain';
  readonly domain: DomainSpec;
  /** For each of `domain.volumes`, in its order: the position of its disk among the domain's disks. */
  readonly diskPositions: readonly number[];
}

/**
 * Gives the instance's domain up (unmanage): the domain stays defined and persistent on the host,
 * running or not, with vmledger's record removed. A stopped instance's domain that the host does not
 * have is defined from `domain` first (CloudStack reconstructs it from its database). A domain with no
 * record is success (a repeat).
 */
export interface UnmanageDomain extends DomainCommandBase {
  readonly type: 'UnmanageDomain';
  readonly domain: DomainSpec;
}

export type AgentCommand = StartDomain | StopDomain | RebootDomain | MigrateDomain | DestroyDomain | ScaleDomain | ManageDomain | UnmanageDomain;

export type AgentCommandType = AgentCommand['type'];

export type AgentCommandOf<K extends AgentCommandType> = Extract<AgentCommand, { readonly type: K }>;

/**
 * A command as a saga asks for it, before its job numbers it. Distributive, so each command type
 * keeps its own fields (a plain Omit of the union would keep only the fields they share).
 */
export type UnnumberedAgentCommand = WithoutCommandId<AgentCommand>;

type WithoutCommandId<C> = C extends AgentCommand ? Omit<C, 'commandId'> : never;

export type AgentReplyError = { readonly message: string; readonly detail?: string };

export interface AgentReply {
  readonly type: 'AgentReply';
  readonly commandId: string;
  readonly hostId: string;
  readonly command: AgentCommandType;
  readonly outcome: 'succeeded' | 'failed';
  /** The domain's power state after the command, as the host sees it. */
  readonly powerState: PowerState;
  /** For failures: what went wrong, with the remote command's stderr where there was one. */
  readonly error?: AgentReplyError;
}

/** Out-of-band power states, sent on every change and periodically (CloudStack's power-state sync). */
export interface PowerStateReport {
  readonly type: 'PowerStateReport';
  readonly hostId: string;
  readonly at: string;
  readonly domains: ReadonlyArray<{ readonly instanceName: string; readonly powerState: PowerState }>;
}

export interface HostHeartbeat {
  readonly type: 'HostHeartbeat';
  readonly hostId: string;
  readonly at: string;
  readonly cpuNumber: number;
  readonly cpuSpeed: number;
  readonly memory: number;
}

export type AgentReport = PowerStateReport | HostHeartbeat;

/** The domain a command is about. */
export function commandInstanceName(command: AgentCommand): string {
  return command.type === 'StartDomain' ? command.domain.instanceName : command.instanceName;
}
