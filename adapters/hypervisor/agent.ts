// The agent: carries out the orchestrator's commands for its hosts through their drivers
// (`agent-commands.ts`), and tells the orchestrator what the hosts see on their own: power-state
// sync and heartbeats (`agent-reports.ts`). This module puts the two together for every host and
// takes them down again.
import type { Bus } from '../bus/port.js';
import { CommandConsumers } from './agent-commands.js';
import { QueryConsumers } from './agent-queries.js';
import { ReportChains, watchHost } from './agent-reports.js';
import { CommandVerifier, type CommandKeyRing } from './command-signing.js';
import type { HypervisorDriver } from './driver.js';
import { ORCHESTRATOR_REPLIES, ORCHESTRATOR_REPORTS } from './protocol.js';

export { replyMessageId } from './agent-commands.js';

export interface AgentOptions {
  readonly bus: Bus;
  /** The hosts this agent serves, by host id; each driver's own hostId must be its key. */
  readonly drivers: ReadonlyMap<string, HypervisorDriver>;
  readonly clock: () => Date;
  /** Ids of reports, which are never redelivered as the same logical message. */
  readonly newId: () => string;
  readonly heartbeatIntervalMs: number;
  readonly powerSyncIntervalMs: number;
  /** Commands per host carried out at once; commands for the same domain still run in order. */
  readonly prefetch?: number;
  /** Problems that have no caller to go to: a report that could not be published, a dead-lettered message. */
  readonly onError?: (error: unknown, context: string) => void;
  /**
   * Reads the ring of keys the orchestrator signs commands with (an agent's key file); read at start
   * and again when a command names a key the agent does not know. A command that is not signed by
   * one of them, or is past its validity, is dead-lettered unread.
   */
  readonly commandKeys: () => Promise<CommandKeyRing>;
  /** How far the orchestrator's clock may be from the agent's; default DEFAULT_CLOCK_SKEW_MS. */
  readonly clockSkewMs?: number;
}

export interface Agent {
  /** Stops taking commands, heartbeats and reports; resolves once the commands under way are answered. */
  stop(): Promise<void>;
}

export const DEFAULT_AGENT_PREFETCH = 16;

function requireInterval(value: number, name: string): void {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number of ms, got ${value}`);
}

function checkOptions(options: AgentOptions): void {
  requireInterval(options.heartbeatIntervalMs, 'heartbeatIntervalMs');
  requireInterval(options.powerSyncIntervalMs, 'powerSyncIntervalMs');
  for (const [hostId, driver] of options.drivers) {
    if (driver.hostId !== hostId) throw new Error(`the driver registered for host ${hostId} drives host ${driver.hostId}`);
  }
}

export async function startAgent(options: AgentOptions): Promise<Agent> {
  checkOptions(options);
  const { bus, drivers } = options;
  const onError = options.onError ?? ((error: unknown, context: string) => console.warn(`[agent] ${context}:`, error));
  const verifier = await CommandVerifier.open(options.commandKeys, options.clock(), options.clockSkewMs === undefined ? {} : { skewMs: options.clockSkewMs });
  const commands = new CommandConsumers({ bus, prefetch: options.prefetch ?? DEFAULT_AGENT_PREFETCH, onError, verifier, clock: options.clock });
  const queries = new QueryConsumers({ bus, onError, verifier, clock: options.clock });
  const reports = new ReportChains({ bus, newId: options.newId, onError });
  const watches: Array<() => void> = [];

  await bus.declareQueue(ORCHESTRATOR_REPLIES);
  await bus.declareQueue(ORCHESTRATOR_REPORTS);

  async function shutdown(): Promise<void> {
    for (const stopWatching of watches) stopWatching();
    await commands.stop();
    await queries.stop();
    await reports.drain();
  }

  let stopped: Promise<void> | null = null;
  try {
    for (const [hostId, driver] of drivers) {
      await commands.serve(hostId, driver);
      await queries.serve(hostId, driver);
      watches.push(watchHost(hostId, driver, reports, options));
    }
  } catch (error) {
    // Half a start would leave consumers and timers behind that nobody can stop.
    stopped = shutdown();
    await stopped;
    throw error;
  }

  return {
    stop() {
      stopped ??= shutdown();
      return stopped;
    },
  };
}
