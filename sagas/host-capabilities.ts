// What a host can do (snapshot kinds, conversion), as its agent reports it, kept on the host. Every
// heartbeat repeats the list, so the read model is asked first and the host's stream is only touched
// when the list changed; the decider appends nothing for an unchanged list either, so two reports
// racing still record it once. A host this log does not know (or has removed) records nothing.
import type { Database } from 'better-sqlite3';
import type { Clock } from '../adapters/clock/port.js';
import { unlessRefused, type CommandEnvelope } from '../adapters/eventstore/command-handler.js';
import type { Commander } from '../adapters/eventstore/commander.js';
import type { HostCapability } from '../domain/agent-protocol/index.js';
import { hostDecider, hostStream } from '../domain/host/index.js';
import { hostCapabilities } from '../projections/infrastructure/index.js';

export interface HostCapabilitiesDeps {
  readonly commander: Commander;
  readonly readModel: () => Database;
  readonly clock: Clock;
}

const HOST_AGENT: CommandEnvelope['actor'] = { kind: 'system', component: 'host-agent' };

export async function recordHostCapabilities(deps: HostCapabilitiesDeps, hostId: string, reported: readonly HostCapability[]): Promise<void> {
  const known = hostCapabilities(deps.readModel(), hostId);
  if (known.length === reported.length && reported.every((capability) => known.includes(capability))) return;
  const at = deps.clock.now().toISOString();
  await unlessRefused(
    deps.commander.execute(hostStream(hostId), hostDecider, { type: 'ReportHostCapabilities', capabilities: reported }, { actor: HOST_AGENT, correlationId: hostStream(hostId), occurredAt: at }),
  );
}
