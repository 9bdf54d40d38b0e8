// The agent: carries out the orchestrator's commands for its hosts through their drivers, and tells the
// orchestrator what the hosts see on their own (power-state sync, heartbeats).
//
// A command is answered before it is acked. A crash between the two re-runs the command on redelivery;
// every driver step is idempotent and the reply's id derives from the commandId, so the orchestrator
// receives the same reply id again and applies it once.
import { v5 as uuidv5 } from 'uuid';
import type { Bus, Consumer, Delivery } from '../bus/port.js';
import { EVENT_ID_NAMESPACE } from '../eventstore/command-handler.js';
import { DriverError, type HypervisorDriver } from './driver.js';
import { KeyedQueue } from './keyed-queue.js';
import { commandInstanceName, handleAgentCommand, type AgentCommandHandlers } from '../../domain/agent-protocol/index.js';
import { parseAgentCommand } from './parse-command.js';
import {
  ORCHESTRATOR_REPLIES,
  ORCHESTRATOR_REPORTS,
  agentQueue,
  toBusMessage,
  type AgentCommand,
  type AgentReply,
  type AgentReport,
  type PowerState,
} from './protocol.js';

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
}

export interface Agent {
  /** Stops taking commands, heartbeats and reports; resolves once the commands under way are answered. */
  stop(): Promise<void>;
}

export const DEFAULT_AGENT_PREFETCH = 16;

/** The reply's message id: the same for every run of one command, so redeliveries dedupe downstream. */
export function replyMessageId(commandId: string): string {
  return uuidv5(`agent-reply|${commandId}`, EVENT_ID_NAMESPACE);
}

function requireInterval(value: number, name: string): void {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number of ms, got ${value}`);
}

type ReplyBase = Pick<AgentReply, 'type' | 'commandId' | 'hostId' | 'command'>;
type Failure = NonNullable<AgentReply['error']>;

function describeFailure(error: unknown): Failure {
  if (error instanceof DriverError) {
    return error.detail === undefined ? { message: error.message } : { message: error.message, detail: error.detail };
  }
  return { message: error instanceof Error ? error.message : String(error) };
}

/**
 * What each command type does on the host. A handler table over every command type (see
 * `domain/agent-protocol/handlers.ts`): a command type the agent does not carry out does not compile.
 */
const EXECUTE: AgentCommandHandlers<Promise<PowerState>, [HypervisorDriver]> = {
  StartDomain: (command, driver) => driver.startDomain(command.domain),
  StopDomain: (command, driver) => driver.stopDomain(command.instanceName, { forced: command.forced, timeoutMs: command.timeoutMs }),
  RebootDomain: (command, driver) => driver.rebootDomain(command.instanceName, { forced: command.forced }),
  MigrateDomain: (command, driver) => driver.migrateDomain(command.instanceName, command.targetHostId),
  DestroyDomain: async (command, driver) => {
    await driver.destroyDomain(command.instanceName, command.volumes);
    return 'missing';
  },
  ScaleDomain: (command, driver) => driver.scaleDomain(command.instanceName, command.cpuNumber, command.cpuSpeed, command.memory),
};

export async function startAgent(options: AgentOptions): Promise<Agent> {
  const { bus, drivers, clock, newId } = options;
  requireInterval(options.heartbeatIntervalMs, 'heartbeatIntervalMs');
  requireInterval(options.powerSyncIntervalMs, 'powerSyncIntervalMs');
  for (const [hostId, driver] of drivers) {
    if (driver.hostId !== hostId) throw new Error(`the driver registered for host ${hostId} drives host ${driver.hostId}`);
  }
  const onError = options.onError ?? ((error: unknown, context: string) => console.warn(`[agent] ${context}:`, error));
  const prefetch = options.prefetch ?? DEFAULT_AGENT_PREFETCH;

  let stopping = false;
  const consumers: Consumer[] = [];
  const timers: Array<ReturnType<typeof setInterval>> = [];
  const unsubscribes: Array<() => void> = [];
  const commandsUnderWay = new Set<Promise<void>>();
  const reportsUnderWay = new Set<Promise<void>>();
  const perDomain = new KeyedQueue();

  await bus.declareQueue(ORCHESTRATOR_REPLIES);
  await bus.declareQueue(ORCHESTRATOR_REPORTS);

  /** Reports of one host go out in the order they were taken, so a change is not overtaken by an older sync. */
  const reportChains = new Map<string, Promise<void>>();
  function publishReport(hostId: string, context: string, build: () => Promise<AgentReport>): Promise<void> {
    const previous = reportChains.get(hostId) ?? Promise.resolve();
    const next = previous
      .then(async () => {
        const report = await build();
        await bus.publish(ORCHESTRATOR_REPORTS, toBusMessage(newId(), report));
      })
      .catch((error: unknown) => onError(error, `${context} for host ${hostId}`));
    reportChains.set(hostId, next);
    reportsUnderWay.add(next);
    void next.finally(() => {
      reportsUnderWay.delete(next);
      if (reportChains.get(hostId) === next) reportChains.delete(hostId);
    });
    return next;
  }

  /** Runs `tick` now and every `intervalMs`, skipping a tick while the previous one is still out. */
  function every(intervalMs: number, tick: () => Promise<void>): void {
    let busy = false;
    const run = (): void => {
      if (busy || stopping) return;
      busy = true;
      void tick().finally(() => {
        busy = false;
      });
    };
    timers.push(setInterval(run, intervalMs));
    run();
  }

  /** A failed reply, with the power state the host sees for the domain named (the protocol wants one). */
  async function failedReply(base: ReplyBase, driver: HypervisorDriver, name: string | undefined, failure: Failure): Promise<AgentReply> {
    try {
      if (name === undefined) throw new Error('the command names no domain');
      const seen = (await driver.listDomains()).find((domain) => domain.instanceName === name);
      return { ...base, outcome: 'failed', powerState: seen?.powerState ?? 'missing', error: failure };
    } catch (listError) {
      // A failed reply's power state is advisory, and the detail says it is a guess.
      const note = `power state unknown: ${describeFailure(listError).message}`;
      const detail = failure.detail === undefined ? note : `${failure.detail}\n${note}`;
      return { ...base, outcome: 'failed', powerState: 'missing', error: { message: failure.message, detail } };
    }
  }

  async function reply(hostId: string, command: AgentCommand, driver: HypervisorDriver): Promise<AgentReply> {
    const base: ReplyBase = { type: 'AgentReply', commandId: command.commandId, hostId, command: command.type };
    try {
      const powerState = await handleAgentCommand(EXECUTE, command, driver);
      return { ...base, outcome: 'succeeded', powerState };
    } catch (error) {
      return failedReply(base, driver, commandInstanceName(command), describeFailure(error));
    }
  }

  /** Sends the reply, then acks; a reply that cannot be sent leaves the command to be run again. */
  async function answer(delivery: Delivery, commandId: string, reply: AgentReply): Promise<void> {
    try {
      await bus.publish(ORCHESTRATOR_REPLIES, toBusMessage(replyMessageId(commandId), reply));
    } catch (error) {
      // Unanswered: run it again later (idempotent), up to the queue's delivery limit.
      onError(error, `publishing the reply to command ${commandId}`);
      await delivery.nack({ requeue: true });
      return;
    }
    await delivery.ack();
  }

  async function handle(hostId: string, driver: HypervisorDriver, delivery: Delivery): Promise<void> {
    const parsed = parseAgentCommand(delivery.message);
    if (!parsed.ok) {
      const { envelope, reason } = parsed;
      // A command that still says which it is gets a failure its job can show at once, rather than
      // a dead letter that leaves the job to time out. A malformed message is bad data, not a bug
      // of the agent's: it is logged by its reason, without a stack.
      if (envelope !== undefined && envelope.hostId === hostId) {
        onError(reason, `answering unreadable command ${envelope.commandId} on ${delivery.queue} with a failure`);
        const base: ReplyBase = { type: 'AgentReply', commandId: envelope.commandId, hostId, command: envelope.type };
        const failure = { message: `host ${hostId} could not read ${envelope.type} command ${envelope.commandId}: ${reason}` };
        return answer(delivery, envelope.commandId, await failedReply(base, driver, envelope.instanceName, failure));
      }
      onError(reason, `dead-lettering malformed message ${delivery.message.id} on ${delivery.queue}`);
      await delivery.nack({ requeue: false });
      return;
    }
    const { command } = parsed;
    if (command.hostId !== hostId) {
      onError(`command ${command.commandId} is for host ${command.hostId}`, `dead-lettering a misrouted command on ${delivery.queue}`);
      await delivery.nack({ requeue: false });
      return;
    }
    const result = await perDomain.run([`${hostId}/${commandInstanceName(command)}`], () => reply(hostId, command, driver));
    await answer(delivery, command.commandId, result);
  }

  async function serve(hostId: string, driver: HypervisorDriver): Promise<void> {
    const queue = agentQueue(hostId);
    await bus.declareQueue(queue);
    const consumer = await bus.consume(
      queue,
      async (delivery) => {
        // Left unsettled on purpose: cancelling the consumer in stop() hands it back to the queue.
        if (stopping) return;
        const work = handle(hostId, driver, delivery);
        commandsUnderWay.add(work);
        try {
          await work;
        } finally {
          commandsUnderWay.delete(work);
        }
      },
      { prefetch },
    );
    consumers.push(consumer);

    unsubscribes.push(
      driver.onPowerStateChange((change) => {
        if (stopping) return;
        void publishReport(hostId, 'reporting a power-state change', async () => ({
          type: 'PowerStateReport',
          hostId,
          at: clock().toISOString(),
          domains: [{ instanceName: change.instanceName, powerState: change.powerState }],
        }));
      }),
    );

    every(options.heartbeatIntervalMs, () =>
      publishReport(hostId, 'sending a heartbeat', async () => {
        const info = await driver.hostInfo();
        return {
          type: 'HostHeartbeat',
          hostId,
          at: clock().toISOString(),
          cpuNumber: info.cpuNumber,
          cpuSpeed: info.cpuSpeed,
          memory: info.memory,
        };
      }),
    );
    every(options.powerSyncIntervalMs, () =>
      publishReport(hostId, 'syncing power states', async () => {
        const domains = await driver.listDomains();
        return {
          type: 'PowerStateReport',
          hostId,
          at: clock().toISOString(),
          domains: domains.map((domain) => ({ instanceName: domain.instanceName, powerState: domain.powerState })),
        };
      }),
    );
  }

  async function shutdown(): Promise<void> {
    stopping = true;
    for (const timer of timers) clearInterval(timer);
    for (const unsubscribe of unsubscribes) unsubscribe();
    // Answer what was started before cancelling, so those commands are acked rather than handed back.
    while (commandsUnderWay.size > 0) await Promise.allSettled([...commandsUnderWay]);
    const cancelled = await Promise.allSettled(consumers.map((consumer) => consumer.cancel()));
    for (const result of cancelled) if (result.status === 'rejected') onError(result.reason, 'cancelling a consumer');
    while (reportsUnderWay.size > 0) await Promise.allSettled([...reportsUnderWay]);
  }

  let stopped: Promise<void> | null = null;
  try {
    for (const [hostId, driver] of drivers) await serve(hostId, driver);
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
