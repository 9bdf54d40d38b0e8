// How the orchestrator and the agents reach each other over the bus. Commands go to the queue of the
// host they are for; replies and reports come back to the orchestrator's queues. What the messages
// say is declared once, in `domain/agent-protocol/`, and re-exported here for the adapters.
import type { BusMessage } from '../bus/port.js';
import type { AgentCommand, AgentReply, AgentReport } from '../../domain/agent-protocol/index.js';

export type {
  AgentCommand,
  AgentCommandOf,
  AgentCommandType,
  AgentReply,
  AgentReport,
  DomainSnapshotInfo,
  DomainSpec,
  HostCapability,
  HostHeartbeat,
  NicSpec,
  PowerState,
  PowerStateReport,
  VmSnapshotKind,
  VolumeCopy,
  VolumeSpec,
} from '../../domain/agent-protocol/index.js';

export const ORCHESTRATOR_REPLIES = 'orchestrator.replies';
export const ORCHESTRATOR_REPORTS = 'orchestrator.reports';

export function agentQueue(hostId: string): string {
  return `agent.${hostId}`;
}

// The protocol's interfaces are JSON by construction; TypeScript cannot see an interface as a JSON
// object (it has no index signature), hence the one cast, on the way out. The way in is parsed.
export function toBusMessage(id: string, payload: AgentCommand | AgentReply | AgentReport): BusMessage {
  return { id, type: payload.type, body: payload as unknown as BusMessage['body'] };
}
