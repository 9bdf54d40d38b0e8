// The orchestrator's side of the query path (./queries.ts): asks a host's agent, waits for the answer
// matched by query id, and gives up after a deadline with an error that says which host was silent.
// Nothing is written to the log: a query is data for the API caller waiting on it.
import type { Bus, Consumer, Delivery } from '../bus/port.js';
import type { AgentQuery, ListRemoteDomains, RemoteHostLogin, UnmanagedDomain, VmwareHostRef } from '../../domain/agent-protocol/index.js';
import type { SecretStore } from '../secrets/port.js';
import { signCommand, type CommandKeyRing } from './command-signing.js';
import { sealSecret } from './sealed-secret.js';
import { ORCHESTRATOR_QUERY_REPLIES, agentQueryQueue, parseAgentQueryReply, queryMessage } from './queries.js';

/** The host's agent did not answer in time (down, or its host unreachable). */
export class AgentQueryTimeout extends Error {
  constructor(readonly hostId: string, timeoutMs: number) {
    super(`host ${hostId} did not answer within ${Math.round(timeoutMs / 1000)} s: is its agent running?`);
    this.name = 'AgentQueryTimeout';
  }
}

/** The agent answered that it could not do it; the message is the host's. */
export class AgentQueryFailed extends Error {
  constructor(readonly hostId: string, message: string, readonly detail?: string) {
    super(message);
    this.name = 'AgentQueryFailed';
  }
}

export interface AgentQueryClientOptions {
  readonly bus: Bus;
  readonly commandKeys: CommandKeyRing;
  readonly clock: () => Date;
  readonly newId: () => string;
  readonly onError?: (error: unknown) => void;
  /** Where a query's password is held by reference until it is sealed into the query (item 5). */
  readonly secrets?: SecretStore;
}

interface Waiting {
  readonly hostId: string;
  readonly resolve: (domains: UnmanagedDomain[]) => void;
  readonly reject: (error: Error) => void;
}

export const DEFAULT_QUERY_TIMEOUT_MS = 30_000;

export class AgentQueryClient {
  private readonly waiting = new Map<string, Waiting>();
  private consumer: Consumer | null = null;

  private constructor(private readonly options: AgentQueryClientOptions) {}

  static async start(options: AgentQueryClientOptions): Promise<AgentQueryClient> {
    const client = new AgentQueryClient(options);
    await options.bus.declareQueue(ORCHESTRATOR_QUERY_REPLIES);
    client.consumer = await options.bus.consume(ORCHESTRATOR_QUERY_REPLIES, (delivery) => client.onReply(delivery), { prefetch: 64 });
    return client;
  }

  async stop(): Promise<void> {
    await this.consumer?.cancel();
    for (const [queryId, waiting] of this.waiting) waiting.reject(new Error(`query ${queryId} abandoned: the control plane is stopping`));
    this.waiting.clear();
  }

  /** The domains on the host that vmledger does not manage (with `name`: that one, or the host's error). */
  async listUnmanagedDomains(hostId: string, name: string | null, timeoutMs = DEFAULT_QUERY_TIMEOUT_MS): Promise<UnmanagedDomain[]> {
    const queryId = this.options.newId();
    return this.ask({ type: 'ListUnmanagedDomains', queryId, hostId, name }, timeoutMs);
  }

  /**
   * The stopped domains of the external host `remote`, listed by the agent of `hostId`. The password
   * is named by its reference in the secrets port; it is read from there only to be sealed into this
   * one query (sealed-secret.ts), and the caller deletes it.
   */
  async listRemoteDomains(hostId: string, remote: RemoteHostLogin, passwordRef: string | null, timeoutMs = DEFAULT_QUERY_TIMEOUT_MS): Promise<UnmanagedDomain[]> {
    const queryId = this.options.newId();
    let password: ListRemoteDomains['password'] = null;
    if (passwordRef !== null) {
      const secret = await this.options.secrets?.get(passwordRef);
      if (secret === undefined) throw new Error(`the password of the login to ${remote.host} is no longer held (secret reference unknown)`);
      password = sealSecret(secret, this.options.commandKeys, queryId);
    }
    return this.ask({ type: 'ListRemoteDomains', queryId, hostId, remote, password }, timeoutMs);
  }

  /**
   * The guests of the VMware host `source`, listed by the agent of `hostId` (ListVmwareGuests); the
   * password as for listRemoteDomains.
   */
  async listVmwareGuests(hostId: string, source: VmwareHostRef, passwordRef: string | null, timeoutMs = DEFAULT_QUERY_TIMEOUT_MS): Promise<UnmanagedDomain[]> {
    const queryId = this.options.newId();
    const password = passwordRef === null ? null : await this.sealed(passwordRef, source.host, queryId);
    return this.ask({ type: 'ListVmwareGuests', queryId, hostId, source, password }, timeoutMs);
  }

  private async sealed(passwordRef: string, host: string, queryId: string): Promise<ListRemoteDomains['password']> {
    const secret = await this.options.secrets?.get(passwordRef);
    if (secret === undefined) throw new Error(`the password of the login to ${host} is no longer held (secret reference unknown)`);
    return sealSecret(secret, this.options.commandKeys, queryId);
  }

  private async ask(query: AgentQuery, timeoutMs: number): Promise<UnmanagedDomain[]> {
    const { queryId, hostId } = query;
    const issued = this.options.clock();
    const message = signCommand(queryMessage(query), this.options.commandKeys, issued, new Date(issued.getTime() + timeoutMs));
    const answered = new Promise<UnmanagedDomain[]>((resolve, reject) => this.waiting.set(queryId, { hostId, resolve, reject }));
    // Real time, not the injected clock: this is how long an API caller is kept waiting.
    const timer = setTimeout(() => this.settle(queryId, (waiting) => waiting.reject(new AgentQueryTimeout(hostId, timeoutMs))), timeoutMs);
    try {
      await this.options.bus.declareQueue(agentQueryQueue(hostId));
      await this.options.bus.publish(agentQueryQueue(hostId), message);
      return await answered;
    } finally {
      clearTimeout(timer);
      this.waiting.delete(queryId);
    }
  }

  private settle(queryId: string, how: (waiting: Waiting) => void): void {
    const waiting = this.waiting.get(queryId);
    if (!waiting) return;
    this.waiting.delete(queryId);
    how(waiting);
  }

  private async onReply(delivery: Delivery): Promise<void> {
    const parsed = parseAgentQueryReply(delivery.message);
    if (!parsed.ok) {
      this.options.onError?.(new Error(`dead-lettered query reply ${delivery.message.id}: ${parsed.reason}`));
      await delivery.nack({ requeue: false });
      return;
    }
    const reply = parsed.value;
    // Only the host asked may answer; an answer nobody waits for (late, or another process's) is dropped.
    const waiting = this.waiting.get(reply.queryId);
    if (waiting && waiting.hostId === reply.hostId) {
      this.settle(reply.queryId, (w) =>
        reply.outcome === 'succeeded' ? w.resolve([...(reply.domains ?? [])]) : w.reject(new AgentQueryFailed(reply.hostId, reply.error?.message ?? 'the query failed', reply.error?.detail)),
      );
    }
    await delivery.ack();
  }
}
