// An agent on the in-memory bus with two simulated hosts, and what the orchestrator's queues receive.
import { randomUUID } from 'node:crypto';
import { MemoryBus } from '../../../adapters/bus/memory-bus.js';
import { deadLetterQueue, type Bus, type BusMessage, type ConsumeOptions, type Consumer, type Delivery, type QueueOptions } from '../../../adapters/bus/port.js';
import { startAgent, type Agent, type AgentOptions } from '../../../adapters/hypervisor/agent.js';
import { newCommandKey, signCommand, type CommandKeyRing } from '../../../adapters/hypervisor/command-signing.js';
import { tinyDomainSpec } from '../../../adapters/hypervisor/conformance.js';
import { parseAgentProgress, parseAgentReply, parseAgentReport } from '../../../adapters/hypervisor/parse-reports.js';
import type { AgentProgress } from '../../../domain/agent-protocol/index.js';
import {
  ORCHESTRATOR_REPLIES,
  ORCHESTRATOR_REPORTS,
  agentQueue,
  toBusMessage,
  type AgentCommand,
  type AgentReply,
  type AgentReport,
  type DomainSpec,
} from '../../../adapters/hypervisor/protocol.js';
import { SimulatedCloud, type SimulatorDriver, type SimulatorHostConfig } from '../../../adapters/hypervisor/simulator/index.js';

export const NOW = new Date('2026-11-21T08:00:00.000Z');
export const HOST = { cpuNumber: 16, cpuSpeed: 2000, memory: 65536 } as const;
/** Host ids are UUIDs, as vmledger's are: the agent refuses anything else. */
export const H1 = '11111111-1111-4111-8111-111111111111';
export const H2 = '22222222-2222-4222-8222-222222222222';
/** A host no agent here serves. */
export const H9 = '99999999-9999-4999-8999-999999999999';

/** The orchestrator's keys, which the harness's agent is given. */
export const KEYS: CommandKeyRing = { current: newCommandKey(NOW) };
export const commandKeys = async (): Promise<CommandKeyRing> => KEYS;

/** Signed as the orchestrator signs it: valid for a minute from NOW. */
export function signed(message: BusMessage, ring: CommandKeyRing = KEYS): BusMessage {
  return signCommand(message, ring, NOW, new Date(NOW.getTime() + 60_000));
}

/** A command id as a job numbers its commands. */
export function newCommandId(): string {
  return `${randomUUID()}.0`;
}

/** What a command about an existing domain says of it. */
export function target(spec: DomainSpec): { instanceId: string; instanceName: string } {
  return { instanceId: spec.instanceId, instanceName: spec.instanceName };
}

/** Delegates to a MemoryBus and logs, in order, reply publishes and how agent deliveries were settled. */
export class RecordingBus implements Bus {
  readonly log: string[] = [];
  /** The next n reply publishes fail, as a broker that does not confirm. */
  failReplyPublishes = 0;
  /** The next n acks of commands fail, as a connection lost between reply and ack. */
  failAcks = 0;

  constructor(readonly inner: MemoryBus) {}

  declareQueue(queue: string, options?: QueueOptions): Promise<void> {
    return this.inner.declareQueue(queue, options);
  }

  async publish(queue: string, message: BusMessage): Promise<void> {
    if (queue === ORCHESTRATOR_REPLIES && this.failReplyPublishes > 0) {
      this.failReplyPublishes--;
      this.log.push(`reply-failed:${message.id}`);
      throw new Error('no broker confirm');
    }
    await this.inner.publish(queue, message);
    if (queue === ORCHESTRATOR_REPLIES) this.log.push(`reply:${message.id}`);
  }

  consume(queue: string, handler: (delivery: Delivery) => Promise<void>, options?: ConsumeOptions): Promise<Consumer> {
    if (!queue.startsWith('agent.') || queue.endsWith('.dead')) return this.inner.consume(queue, handler, options);
    return this.inner.consume(queue, (delivery) => handler(this.recorded(delivery)), options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private recorded(delivery: Delivery): Delivery {
    const id = delivery.message.id;
    return {
      message: delivery.message,
      queue: delivery.queue,
      deliveryCount: delivery.deliveryCount,
      ack: async () => {
        if (this.failAcks > 0) {
          this.failAcks--;
          this.log.push(`ack-failed:${id}`);
          throw new Error('connection lost');
        }
        this.log.push(`ack:${id}`);
        await delivery.ack();
      },
      nack: async (options) => {
        this.log.push(`nack:${id}:${options?.requeue === false ? 'dead' : 'requeue'}`);
        await delivery.nack(options);
      },
    };
  }
}

export interface Received<T> {
  readonly id: string;
  readonly body: T;
}

export interface Harness {
  readonly bus: RecordingBus;
  readonly cloud: SimulatedCloud;
  readonly h1: SimulatorDriver;
  readonly h2: SimulatorDriver;
  readonly agent: Agent;
  readonly replies: Array<Received<AgentReply>>;
  /** Progress messages, in the order they arrived on the replies queue. */
  readonly progress: Array<Received<AgentProgress>>;
  readonly reports: Array<Received<AgentReport>>;
  readonly deadLetters: BusMessage[];
  readonly errors: string[];
  send(command: AgentCommand, options?: { queueHost?: string; messageId?: string }): Promise<void>;
  /** Signed unless told otherwise. */
  sendRaw(queueHost: string, message: BusMessage, options?: { signed?: boolean }): Promise<void>;
  replyTo(commandId: string, withinMs?: number): Promise<Received<AgentReply>>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly h1?: Partial<SimulatorHostConfig>;
  readonly agent?: Partial<Omit<AgentOptions, 'bus' | 'drivers'>>;
  readonly bus?: RecordingBus;
}

/** Polls until `check` holds, for at most `withinMs`. */
export async function waitFor(check: () => boolean, withinMs: number, what: string): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${withinMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const bus = options.bus ?? new RecordingBus(new MemoryBus());
  const cloud = new SimulatedCloud();
  const h1 = cloud.addHost(H1, { ...HOST, ...options.h1 });
  const h2 = cloud.addHost(H2, HOST);
  const errors: string[] = [];
  const agent = await startAgent({
    bus,
    drivers: new Map([
      [H1, h1],
      [H2, h2],
    ]),
    clock: () => NOW,
    newId: randomUUID,
    heartbeatIntervalMs: 60_000,
    powerSyncIntervalMs: 60_000,
    onError: (error, context) => errors.push(`${context}: ${error instanceof Error ? error.message : String(error)}`),
    commandKeys,
    ...options.agent,
  });
  const replies: Array<Received<AgentReply>> = [];
  const progress: Array<Received<AgentProgress>> = [];
  const reports: Array<Received<AgentReport>> = [];
  const deadLetters: BusMessage[] = [];
  const consumers = [
    // Read as the orchestrator reads them, so every reply and report the agent sends is checked
    // against the protocol; one that does not fit is an error, and never arrives.
    await bus.consume(ORCHESTRATOR_REPLIES, async (d) => {
      if (d.message.type === 'AgentProgress') {
        const read = parseAgentProgress(d.message);
        if (read.ok) progress.push({ id: d.message.id, body: read.value });
        else errors.push(`malformed progress ${d.message.id}: ${read.reason}`);
        await d.ack();
        return;
      }
      const parsed = parseAgentReply(d.message);
      if (parsed.ok) replies.push({ id: d.message.id, body: parsed.value });
      else errors.push(`malformed reply ${d.message.id}: ${parsed.reason}`);
      await d.ack();
    }),
    await bus.consume(ORCHESTRATOR_REPORTS, async (d) => {
      const parsed = parseAgentReport(d.message);
      if (parsed.ok) reports.push({ id: d.message.id, body: parsed.value });
      else errors.push(`malformed report ${d.message.id}: ${parsed.reason}`);
      await d.ack();
    }),
    ...(await Promise.all(
      [H1, H2].map((host) =>
        bus.consume(deadLetterQueue(agentQueue(host)), async (d) => {
          deadLetters.push(d.message);
          await d.ack();
        }),
      ),
    )),
  ];
  return {
    bus,
    cloud,
    h1,
    h2,
    agent,
    replies,
    progress,
    reports,
    deadLetters,
    errors,
    send: (command, sendOptions = {}) =>
      bus.publish(agentQueue(sendOptions.queueHost ?? command.hostId), signed(toBusMessage(sendOptions.messageId ?? command.commandId, command))),
    sendRaw: (queueHost, message, rawOptions = {}) => bus.publish(agentQueue(queueHost), rawOptions.signed === false ? message : signed(message)),
    async replyTo(commandId, withinMs = 2_000) {
      await waitFor(() => replies.some((r) => r.body.commandId === commandId), withinMs, `the reply to ${commandId}`);
      return replies.find((r) => r.body.commandId === commandId)!;
    },
    async close() {
      await agent.stop();
      for (const consumer of consumers) await consumer.cancel();
      await bus.close();
    },
  };
}

/** A spec as vmledger makes them: its name is i-<account>-<instance>-VM. */
export function domain(overrides: Partial<DomainSpec> = {}): DomainSpec {
  return { ...tinyDomainSpec(), ...overrides };
}

export function startCommand(spec: DomainSpec, hostId = H1): Extract<AgentCommand, { type: 'StartDomain' }> {
  return { type: 'StartDomain', commandId: newCommandId(), hostId, domain: spec };
}
