// The agent's query side: answers the orchestrator's queries about its hosts (which domains there are
// that vmledger does not manage, the stopped domains of an external host one of them reaches, and
// the guests of a VMware host it reaches)
// from their drivers. A query changes nothing, so it is answered and
// acked at once, never retried: an asker that has given up ignores a late answer. A query that is not
// signed by the orchestrator is dead-lettered unanswered, as an unsigned command is: what a host holds
// is told to nobody else.
import type { Bus, Consumer, Delivery } from '../bus/port.js';
import type { AgentQuery, AgentQueryReply } from '../../domain/agent-protocol/index.js';
import { describeFailure } from './agent-commands.js';
import type { CommandKeyRing, CommandVerifier } from './command-signing.js';
import type { HypervisorDriver } from './driver.js';
import { openSecret } from './sealed-secret.js';
import { ORCHESTRATOR_QUERY_REPLIES, agentQueryQueue, parseAgentQuery, queryMessage } from './queries.js';

export interface QueryConsumersOptions {
  readonly bus: Bus;
  readonly onError: (error: unknown, context: string) => void;
  readonly verifier: CommandVerifier;
  readonly clock: () => Date;
}

async function answer(query: AgentQuery, driver: HypervisorDriver, keys: CommandKeyRing): Promise<AgentQueryReply> {
  const base = { type: 'AgentQueryReply', queryId: query.queryId, hostId: query.hostId, query: query.type } as const;
  try {
    if (query.type === 'ListUnmanagedDomains') return { ...base, outcome: 'succeeded', domains: await driver.listUnmanagedDomains(query.name) };
    // The password is opened here, for this one call, and goes no further than the driver's login.
    const password = query.password === null ? null : openSecret(query.password, keys, query.queryId);
    if (query.type === 'ListVmwareGuests') return { ...base, outcome: 'succeeded', domains: await driver.listVmwareGuests(query.source, password) };
    return { ...base, outcome: 'succeeded', domains: await driver.listRemoteDomains(query.remote, password) };
  } catch (error) {
    return { ...base, outcome: 'failed', error: describeFailure(error) };
  }
}

export class QueryConsumers {
  private readonly consumers: Consumer[] = [];

  constructor(private readonly options: QueryConsumersOptions) {}

  async serve(hostId: string, driver: HypervisorDriver): Promise<void> {
    const { bus } = this.options;
    const queue = agentQueryQueue(hostId);
    await bus.declareQueue(queue);
    await bus.declareQueue(ORCHESTRATOR_QUERY_REPLIES);
    this.consumers.push(await bus.consume(queue, (delivery) => this.handle(hostId, driver, delivery), { prefetch: 4 }));
  }

  async stop(): Promise<void> {
    const cancelled = await Promise.allSettled(this.consumers.map((consumer) => consumer.cancel()));
    for (const result of cancelled) if (result.status === 'rejected') this.options.onError(result.reason, 'cancelling a query consumer');
  }

  private async handle(hostId: string, driver: HypervisorDriver, delivery: Delivery): Promise<void> {
    const { onError } = this.options;
    const verified = await this.options.verifier.verify(delivery.message, this.options.clock());
    if (!verified.ok) {
      onError(`query ${delivery.message.id.slice(0, 100)} is refused: ${verified.reason}`, `dead-lettering an unverified query on ${delivery.queue}`);
      await delivery.nack({ requeue: false });
      return;
    }
    const parsed = parseAgentQuery(delivery.message);
    if (!parsed.ok || parsed.value.hostId !== hostId) {
      onError(parsed.ok ? `query ${parsed.value.queryId} is for host ${parsed.value.hostId}` : parsed.reason, `dead-lettering a query on ${delivery.queue}`);
      await delivery.nack({ requeue: false });
      return;
    }
    const reply = await answer(parsed.value, driver, this.options.verifier.keys);
    try {
      await this.options.bus.publish(ORCHESTRATOR_QUERY_REPLIES, queryMessage(reply));
    } catch (error) {
      // Not retried: by the time the bus takes it again the asker has likely given up.
      onError(error, `publishing the answer to query ${reply.queryId}`);
    }
    await delivery.ack();
  }
}
