// What the orchestrator and the agents say to each other over the bus. Commands go to the queue
// of the host they are for; replies and reports come back to the orchestrator's queues. Every
// command carries a commandId that its reply repeats, so a redelivered command or reply is
// recognised and applied once.
import type { BusMessage } from '../bus/port.js';

export const ORCHESTRATOR_REPLIES = 'orchestrator.replies';
export const ORCHESTRATOR_REPORTS = 'orchestrator.reports';

export function agentQueue(hostId: string): string {
  return `agent.${hostId}`;
}

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

export type AgentCommand =
  | (CommandBase & { readonly type: 'StartDomain'; readonly domain: DomainSpec })
  /** Graceful (ACPI) unless forced; a graceful stop that times out is reported as failed. */
  | (CommandBase & { readonly type: 'StopDomain'; readonly instanceName: string; readonly forced: boolean; readonly timeoutMs: number })
  | (CommandBase & { readonly type: 'RebootDomain'; readonly instanceName: string; readonly forced: boolean })
  | (CommandBase & { readonly type: 'MigrateDomain'; readonly instanceName: string; readonly targetHostId: string })
  /** Removes the domain and its disks from the host; a missing domain is success. */
  | (CommandBase & { readonly type: 'DestroyDomain'; readonly instanceName: string; readonly volumes: readonly VolumeSpec[] })
  | (CommandBase & {
      readonly type: 'ScaleDomain';
      readonly instanceName: string;
      readonly cpuNumber: number;
      readonly cpuSpeed: number;
      readonly memory: number;
    });

export interface AgentReply {
  readonly type: 'AgentReply';
  readonly commandId: string;
  readonly hostId: string;
  readonly command: AgentCommand['type'];
  readonly outcome: 'succeeded' | 'failed';
  /** The domain's power state after the command, as the host sees it. */
  readonly powerState: PowerState;
  /** For failures: what went wrong, with the remote command's stderr where there was one. */
  readonly error?: { readonly message: string; readonly detail?: string };
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

export function toBusMessage(id: string, payload: AgentCommand | AgentReply | AgentReport): BusMessage {
  return { id, type: payload.type, body: payload as unknown as BusMessage['body'] };
}
