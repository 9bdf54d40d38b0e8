// The agent's command side: takes the commands off each host's queue, carries them out through the
// host's driver and answers each with a reply.
//
// A command is answered before it is acked. A crash between the two re-runs the command on redelivery;
// every driver step is idempotent and the reply's id derives from the commandId, so the orchestrator
// receives the same reply id again and applies it once.
import { v5 as uuidv5 } from 'uuid';
import type { Bus, Consumer, Delivery } from '../bus/port.js';
import { EVENT_ID_NAMESPACE } from '../eventstore/command-handler.js';
import { commandInstanceName, handleAgentCommand, type AgentCommandHandlers, type AgentReplyError } from '../../domain/agent-protocol/index.js';
import { DriverError, type HypervisorDriver } from './driver.js';
import type { CommandKeyRing, CommandVerifier } from './command-signing.js';
import { openSecret } from './sealed-secret.js';
import { KeyedQueue } from './keyed-queue.js';
import { ProgressSender } from './progress.js';
import type { ProgressListener } from './driver.js';
import { parseAgentCommand } from './parse-command.js';
import { ORCHESTRATOR_REPLIES, agentQueue, toBusMessage, type AgentCommand, type AgentReply } from './protocol.js';

/** The reply's message id: the same for every run of one command, so redeliveries dedupe downstream. */
export function replyMessageId(commandId: string): string {
  return uuidv5(`agent-reply|${commandId}`, EVENT_ID_NAMESPACE);
}

/** What a command that succeeded tells its reply: the power state, and what it made (a snapshot, converted disks, volumes). */
type Executed = Pick<AgentReply, 'powerState' | 'snapshot' | 'converted' | 'volumes'>;

/**
 * What each command type does on the host. A handler table over every command type (see
 * `domain/agent-protocol/handlers.ts`): a command type the agent does not carry out does not compile.
 */
const EXECUTE: AgentCommandHandlers<Promise<Executed>, [HypervisorDriver, CommandKeyRing, ProgressListener]> = {
  StartDomain: async (command, driver) => ({ powerState: await driver.startDomain(command.domain) }),
  StopDomain: async (command, driver) => ({ powerState: await driver.stopDomain(command, { forced: command.forced, timeoutMs: command.timeoutMs }) }),
  RebootDomain: async (command, driver) => ({ powerState: await driver.rebootDomain(command, { forced: command.forced }) }),
  MigrateDomain: async (command, driver) => ({ powerState: await driver.migrateDomain(command, command.targetHostId) }),
  DestroyDomain: async (command, driver) => {
    await driver.destroyDomain(command, command.volumes);
    return { powerState: 'missing' };
  },
  ScaleDomain: async (command, driver) => ({ powerState: await driver.scaleDomain(command, command.cpuNumber, command.cpuSpeed, command.memory) }),
  CreateDomainSnapshot: (command, driver) =>
    driver.createDomainSnapshot(command, command.snapshotName, { kind: command.kind, quiesce: command.quiesce, description: command.description }),
  RevertDomainSnapshot: async (command, driver) => ({ powerState: await driver.revertDomainSnapshot(command, command.snapshotName, command.kind) }),
  DeleteDomainSnapshot: async (command, driver) => ({ powerState: await driver.deleteDomainSnapshot(command, command.snapshotName) }),
  CopyVolumes: async (command, driver) => ({ powerState: await driver.copyVolumes(command, command.volumes) }),
  ManageDomain: async (command, driver) => ({ powerState: await driver.manageDomain(command.domain, command.diskPositions) }),
  UnmanageDomain: async (command, driver) => ({ powerState: await driver.unmanageDomain(command.domain) }),
  CopyRemoteVolumes: async (command, driver, keys, progress) => {
    // Opened for this call only: the password goes no further than the driver's logins.
    const password = command.password ? openSecret(command.password, keys, command.commandId) : null;
    const { remote, tmpPath, copyTimeoutMs: timeoutMs, volumes } = command;
    return { powerState: await driver.copyRemoteVolumes(command, { remote, password, tmpPath, timeoutMs, volumes }, progress) };
  },
  ConvertVmwareGuest: async (command, driver, keys, progress) => {
    // As for CopyRemoteVolumes: opened for this call only.
    const password = command.password ? openSecret(command.password, keys, command.commandId) : null;
    const { source, tempPath, outputName, timeoutMs, extraParams } = command;
    const converted = await driver.convertVmwareGuest(command, { source, password, tempPath, outputName, timeoutMs, extraParams }, progress);
    // No domain is defined by a conversion: the instance's is made at its first start.
    return { powerState: 'missing', converted };
  },
  ImportConvertedDisks: async (command, driver, _keys, progress) => {
    const { tempPath, outputName, disks } = command;
    return { powerState: 'missing', volumes: await driver.importConvertedDisks(command, { tempPath, outputName, disks }, progress) };
  },
};

type ReplyBase = Pick<AgentReply, 'type' | 'commandId' | 'hostId' | 'command'>;

// A failure's words go into the reply, the job's record and the admins' view: a credential that a
// command line or a host's stderr carried (a URI's password, a password= option) never leaves the agent.
const URI_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi;
const PASSWORD_OPTION = /\b(pass(?:word|wd)?=)[^\s&;'"]+/gi;

export function withoutCredentials(text: string): string {
  return text.replace(URI_PASSWORD, '$1***@').replace(PASSWORD_OPTION, '$1***');
}

export function describeFailure(error: unknown): AgentReplyError {
  if (error instanceof DriverError) {
    const message = withoutCredentials(error.message);
    return error.detail === undefined ? { message } : { message, detail: withoutCredentials(error.detail) };
  }
  return { message: withoutCredentials(error instanceof Error ? error.message : String(error)) };
}

/** A failed reply, with the power state the host sees for the domain named (the protocol wants one). */
async function failedReply(base: ReplyBase, driver: HypervisorDriver, name: string | undefined, failure: AgentReplyError): Promise<AgentReply> {
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

async function carryOut(hostId: string, command: AgentCommand, driver: HypervisorDriver, keys: CommandKeyRing, progress: ProgressSender): Promise<AgentReply> {
  const base: ReplyBase = { type: 'AgentReply', commandId: command.commandId, hostId, command: command.type };
  try {
    const { powerState, snapshot, converted, volumes } = await handleAgentCommand(EXECUTE, command, driver, keys, progress.listener);
    return {
      ...base,
      outcome: 'succeeded',
      powerState,
      ...(snapshot === undefined ? {} : { snapshot }),
      ...(converted === undefined ? {} : { converted }),
      ...(volumes === undefined ? {} : { volumes }),
    };
  } catch (error) {
    return failedReply(base, driver, commandInstanceName(command), describeFailure(error));
  } finally {
    // Every progress message goes out before the reply, on the same queue.
    await progress.flush();
  }
}

export interface CommandConsumersOptions {
  readonly bus: Bus;
  /** Commands per host carried out at once; commands for the same domain still run in order. */
  readonly prefetch: number;
  readonly onError: (error: unknown, context: string) => void;
  /** Checks each message's signature before anything else is read from it. */
  readonly verifier: CommandVerifier;
  readonly clock: () => Date;
}

/** The consumers of the hosts' command queues, and the commands they have under way. */
export class CommandConsumers {
  private stopping = false;
  private readonly consumers: Consumer[] = [];
  private readonly underWay = new Set<Promise<void>>();
  private readonly perDomain = new KeyedQueue();

  constructor(private readonly options: CommandConsumersOptions) {}

  /** Takes the commands of the host's queue. */
  async serve(hostId: string, driver: HypervisorDriver): Promise<void> {
    const { bus, prefetch } = this.options;
    const queue = agentQueue(hostId);
    await bus.declareQueue(queue);
    const consumer = await bus.consume(
      queue,
      async (delivery) => {
        // Left unsettled on purpose: cancelling the consumer in stop() hands it back to the queue.
        if (this.stopping) return;
        const work = this.handle(hostId, driver, delivery);
        this.underWay.add(work);
        try {
          await work;
        } finally {
          this.underWay.delete(work);
        }
      },
      { prefetch },
    );
    this.consumers.push(consumer);
  }

  /** Takes no more commands, answers those under way (so they are acked rather than handed back), then cancels the consumers. */
  async stop(): Promise<void> {
    this.stopping = true;
    while (this.underWay.size > 0) await Promise.allSettled([...this.underWay]);
    const cancelled = await Promise.allSettled(this.consumers.map((consumer) => consumer.cancel()));
    for (const result of cancelled) if (result.status === 'rejected') this.options.onError(result.reason, 'cancelling a consumer');
  }

  private async handle(hostId: string, driver: HypervisorDriver, delivery: Delivery): Promise<void> {
    const { onError } = this.options;
    // Not answered: a message the orchestrator did not sign (or no longer stands by) names no job
    // that waits for it, and an answer would let its sender fail a job of its choosing.
    const verified = await this.options.verifier.verify(delivery.message, this.options.clock());
    if (!verified.ok) {
      onError(`message ${delivery.message.id.slice(0, 100)} is refused: ${verified.reason}`, `dead-lettering an unverified message on ${delivery.queue}`);
      await delivery.nack({ requeue: false });
      return;
    }
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
        return this.answer(delivery, envelope.commandId, await failedReply(base, driver, envelope.instanceName, failure));
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
    const progress = new ProgressSender({
      commandId: command.commandId,
      hostId,
      command: command.type,
      send: (message) => this.options.bus.publish(ORCHESTRATOR_REPLIES, message),
      clock: this.options.clock,
      onError,
    });
    const reply = await this.perDomain.run([`${hostId}/${commandInstanceName(command)}`], () => carryOut(hostId, command, driver, this.options.verifier.keys, progress));
    await this.answer(delivery, command.commandId, reply);
  }

  /** Sends the reply, then acks; a reply that cannot be sent leaves the command to be run again. */
  private async answer(delivery: Delivery, commandId: string, reply: AgentReply): Promise<void> {
    try {
      await this.options.bus.publish(ORCHESTRATOR_REPLIES, toBusMessage(replyMessageId(commandId), reply));
    } catch (error) {
      // Unanswered: run it again later (idempotent), up to the queue's delivery limit.
      this.options.onError(error, `publishing the reply to command ${commandId}`);
      await delivery.nack({ requeue: true });
      return;
    }
    await delivery.ack();
  }
}
