// The end-to-end harness: the whole application built the way api/main.ts builds it (SQLite log on a
// temp file, in-memory bus and secrets, simulated hosts with their agents, root admin, demo zone,
// GraphQL server), listening on an ephemeral port on 127.0.0.1. Tests talk to it over HTTP and
// WebSocket only, with real clients (graphql-request, graphql-ws).
import { newCommandKey } from '../../adapters/hypervisor/command-signing.js';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientError, GraphQLClient } from 'graphql-request';
import { MemoryBus } from '../../adapters/bus/memory-bus.js';
import type { Clock } from '../../adapters/clock/port.js';
import { systemClock } from '../../adapters/clock/system-clock.js';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';
import type { EventStore } from '../../adapters/eventstore/port.js';
import { SimulatedCloud } from '../../adapters/hypervisor/simulator/index.js';
import { MemorySecretStore } from '../../adapters/secrets/memory-secret-store.js';
import { domainDecider, domainStream } from '../../domain/account/index.js';
import type { HostCapability } from '../../domain/agent-protocol/index.js';
import { hostDecider, hostStream } from '../../domain/host/index.js';
import { ROOT_DOMAIN_ID, bootstrapRootAdmin } from '../../api/control-plane/accounts.js';
import { seedDemo, type DemoZone } from '../../api/control-plane/demo.js';
import type { ControlPlane } from '../../api/control-plane/port.js';
import { createGraphqlServer } from '../../api/graphql/server.js';
import { startStack } from '../../api/stack.js';

export const ADMIN_KEY = 'e2e-root-admin-key-0123456789abcdefghijklmnopqrstuv';

/** Every wait in these tests is bounded by this (or less). */
export const WAIT_MS = 10_000;

export interface GqlError {
  readonly message: string;
  readonly path?: readonly (string | number)[];
  readonly extensions?: Record<string, unknown>;
}

export interface Job {
  id: string;
  cmd: string;
  status: 'PENDING' | 'SUCCEEDED' | 'FAILED';
  error: { code: string; errorCode: number; message: string } | null;
  result: Vm | null;
  instanceId: string | null;
  createdAt: string;
  completedAt: string | null;
}

export interface Vm {
  id: string;
  name: string;
  displayName: string;
  /** Null to a USER caller, as hostId and lastHostId are. */
  instanceName: string | null;
  state: string;
  zoneId: string;
  hostId: string | null;
  lastHostId: string | null;
  serviceOfferingId: string;
  templateId: string;
  accountId: string;
  domainId: string;
  deleteProtection: boolean;
  cpuNumber: number;
  cpuSpeed: number;
  memory: number;
  nics: Array<{ id: string; networkId: string; isDefault: boolean; deviceId: number }>;
  volumes: Array<{ id: string; name: string; type: string; size: number; state: string }>;
}

export const VM_FIELDS = `id name displayName instanceName state zoneId hostId lastHostId serviceOfferingId templateId
  accountId domainId deleteProtection cpuNumber cpuSpeed memory
  nics { id networkId isDefault deviceId } volumes { id name type size state }`;

export const JOB_FIELDS = `id cmd status instanceId createdAt completedAt error { code errorCode message } result { ${VM_FIELDS} }`;

export interface Harness {
  /** http://127.0.0.1:<port>: where the web console is served. */
  readonly origin: string;
  readonly url: string;
  readonly wsUrl: string;
  readonly healthUrl: string;
  readonly adminKey: string;
  readonly demo: DemoZone;
  /** The simulated hosts' cloud, for what only the hosts know (where a disk is). */
  readonly simulator: SimulatedCloud;
  /** The secrets port (what the control plane holds by reference, e.g. a login's password while it is used). */
  readonly secrets: MemorySecretStore;
  /** The event log itself, for tests that search every event for what must never be in one. */
  readonly store: EventStore;
  /** The stack's data directory (the log, the read model, the state snapshots). */
  readonly dataDirectory: string;
  /** What the server logged as internal errors (the logger is quiet otherwise). */
  readonly loggedErrors: Array<{ message: string; error: unknown }>;
  /** A graphql-request client sending `Authorization: Bearer <key>`. */
  client(key: string): GraphQLClient;
  readonly admin: GraphQLClient;
  /** Makes the next calls of a control-plane operation throw `error` (until cleared with undefined). */
  injectFault(operation: keyof ControlPlane, error: unknown): void;
  /** Polls asyncJob until it is no longer PENDING. */
  waitForJob(client: GraphQLClient, id: string, timeoutMs?: number): Promise<Job>;
  /** createAccount as the root admin (in ROOT unless a domain is given); returns the new account's id and key. */
  createUser(name: string, role?: 'USER' | 'DOMAIN_ADMIN' | 'ROOT_ADMIN', domainId?: string): Promise<{ id: string; key: string; client: GraphQLClient }>;
  /**
   * A child domain of ROOT, appended through the commander as an operator's tool would: API.md has no
   * createDomain, yet a domain admin's subtree only shows with a domain below ROOT. Returns its id.
   */
  createSubDomain(name: string): Promise<string>;
  /**
   * Records what a host can do, as its agent's heartbeat would (it records only a change, so this
   * holds until the host's capabilities change on the host itself). Waits for the read model.
   */
  reportHostCapabilities(hostId: string, capabilities: readonly HostCapability[]): Promise<void>;
  /** The event store's head position, as GET /healthz reports it. */
  logHead(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * The GraphQL errors of a request that failed (throws if it succeeded or failed otherwise). When it
 * unexpectedly succeeded with jobs and `h` is given, those jobs are waited for first, so a failing
 * test leaves no saga running into the next one.
 */
export async function gqlErrors(run: Promise<unknown>, h?: Harness): Promise<GqlError[]> {
  let data: unknown;
  try {
    data = await run;
  } catch (error) {
    if (error instanceof ClientError) {
      const errors = error.response.errors;
      if (!errors || errors.length === 0) throw new Error(`request failed with HTTP ${error.response.status} and no GraphQL errors`);
      return errors as unknown as GqlError[];
    }
    throw error;
  }
  if (h && typeof data === 'object' && data !== null) {
    for (const value of Object.values(data)) {
      const job = value as { id?: unknown; status?: unknown } | null;
      if (job && typeof job.id === 'string' && job.status === 'PENDING') await h.waitForJob(h.admin, job.id).catch(() => undefined);
    }
  }
  throw new Error(`expected GraphQL errors, got data ${JSON.stringify(data)}`);
}

/** The single GraphQL error of a failed request. */
export async function gqlError(run: Promise<unknown>, h?: Harness): Promise<GqlError> {
  const errors = await gqlErrors(run, h);
  if (errors.length !== 1) throw new Error(`expected one error, got ${JSON.stringify(errors)}`);
  return errors[0]!;
}

export async function startHarness(options: { clock?: Clock; consoleDirectory?: string; agentTimeoutMs?: number } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'vmledger-e2e-'));
  const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
  const bus = new MemoryBus();
  const secrets = new MemorySecretStore();
  const loggedErrors: Array<{ message: string; error: unknown }> = [];
  const simulator = new SimulatedCloud();
  const stack = await startStack({
    store,
    readModelDirectory: dir,
    bus,
    clock: options.clock ?? systemClock,
    secrets,
    commandKeys: { current: newCommandKey() },
    simulator,
    timeouts: { agentMs: options.agentTimeoutMs ?? 2000, gracefulStopMs: 500 },
    // Heartbeats and power syncs append host events on a timer; the tests compare log heads before
    // and after refused mutations, so the timers are set beyond any test file's run.
    agentIntervals: { heartbeatMs: 600_000, powerSyncMs: 600_000 },
    onError: (error, where) => loggedErrors.push({ message: where, error }),
  });
  const { caller: rootAdmin } = await bootstrapRootAdmin(stack.context, ADMIN_KEY);
  const demo = await seedDemo(stack.context, rootAdmin, { secrets, onHostAdded: stack.hostAdded });

  // Fault injection, for the one error a healthy system never produces: an unexpected exception.
  const faults = new Map<PropertyKey, unknown>();
  const controlPlane = new Proxy(stack.controlPlane, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (faults.has(property)) throw faults.get(property);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const server = await createGraphqlServer({
    controlPlane,
    logger: { error: (message, error) => loggedErrors.push({ message, error }) },
    production: false,
    ...(options.consoleDirectory === undefined ? {} : { consoleDirectory: options.consoleDirectory }),
  });
  await new Promise<void>((resolve, reject) => {
    server.httpServer.once('error', reject);
    server.httpServer.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.httpServer.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const url = `${origin}/graphql`;
  const wsUrl = `ws://127.0.0.1:${port}/graphql`;
  const healthUrl = `http://127.0.0.1:${port}/healthz`;

  const client = (key: string) => new GraphQLClient(url, { headers: { authorization: `Bearer ${key}` } });
  const admin = client(ADMIN_KEY);

  async function waitForJob(c: GraphQLClient, id: string, timeoutMs = WAIT_MS): Promise<Job> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { asyncJob } = await c.request<{ asyncJob: Job | null }>(`query($id: ID!) { asyncJob(id: $id) { ${JOB_FIELDS} } }`, { id });
      if (!asyncJob) throw new Error(`job ${id} is not visible`);
      if (asyncJob.status !== 'PENDING') return asyncJob;
      if (Date.now() > deadline) throw new Error(`job ${id} (${asyncJob.cmd}) still PENDING after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async function createUser(name: string, role: 'USER' | 'DOMAIN_ADMIN' | 'ROOT_ADMIN' = 'USER', domainId?: string) {
    const { createAccount } = await admin.request<{ createAccount: { id: string; apiKey: string; role: string } }>(
      `mutation($name: String!, $role: Role!, $domainId: ID) { createAccount(name: $name, role: $role, domainId: $domainId) { id name role apiKey } }`,
      { name, role, domainId: domainId ?? null },
    );
    return { id: createAccount.id, key: createAccount.apiKey, client: client(createAccount.apiKey) };
  }

  async function createSubDomain(name: string): Promise<string> {
    const domainId = randomUUID();
    const envelope = { actor: { kind: 'system' as const, component: 'e2e-harness' }, correlationId: domainId, occurredAt: new Date().toISOString() };
    await stack.context.commander.execute(domainStream(ROOT_DOMAIN_ID), domainDecider, { type: 'RegisterChildDomain', childDomainId: domainId, name }, envelope);
    const created = await stack.context.commander.execute(
      domainStream(domainId),
      domainDecider,
      { type: 'CreateDomain', domainId, name, parent: { domainId: ROOT_DOMAIN_ID, path: '/' }, at: envelope.occurredAt },
      envelope,
    );
    if (!(await stack.readModel.waitForPosition(Math.max(...created.positions), WAIT_MS))) throw new Error(`domain ${name} did not reach the read model`);
    return domainId;
  }

  async function reportHostCapabilities(hostId: string, capabilities: readonly HostCapability[]): Promise<void> {
    const envelope = { actor: { kind: 'system' as const, component: 'e2e-harness' }, correlationId: hostId, occurredAt: new Date().toISOString() };
    const reported = await stack.context.commander.execute(hostStream(hostId), hostDecider, { type: 'ReportHostCapabilities', capabilities }, envelope);
    if (reported.positions.length > 0 && !(await stack.readModel.waitForPosition(Math.max(...reported.positions), WAIT_MS))) {
      throw new Error(`host ${hostId}'s capabilities did not reach the read model`);
    }
  }

  async function logHead(): Promise<number> {
    const response = await fetch(healthUrl);
    if (response.status !== 200) throw new Error(`GET /healthz answered ${response.status}`);
    const body = (await response.json()) as { eventStore?: { head?: unknown } };
    const head = body.eventStore?.head;
    if (typeof head !== 'number') throw new Error(`GET /healthz has no eventStore.head: ${JSON.stringify(body)}`);
    return head;
  }

  let stopped = false;
  return {
    origin,
    url,
    wsUrl,
    healthUrl,
    adminKey: ADMIN_KEY,
    demo,
    simulator,
    secrets,
    store,
    dataDirectory: dir,
    loggedErrors,
    client,
    admin,
    injectFault(operation, error) {
      if (error === undefined) faults.delete(operation);
      else faults.set(operation, error);
    },
    waitForJob,
    createUser,
    createSubDomain,
    reportHostCapabilities,
    logHead,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await server.stop();
        await stack.stop();
        await bus.close();
        await store.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Operations the test files share.

export interface DeployOptions {
  name?: string;
  startVm?: boolean;
  serviceOfferingId?: string;
  zoneId?: string;
  templateId?: string;
  hostId?: string;
  clientToken?: string;
  /** The account to deploy for (an admin's privilege), by name or id. */
  account?: string;
}

export const DEPLOY = `mutation($zoneId: ID!, $serviceOfferingId: ID!, $templateId: ID!, $name: String, $startVm: Boolean, $hostId: ID, $clientToken: String, $account: String) {
  deployVirtualMachine(zoneId: $zoneId, serviceOfferingId: $serviceOfferingId, templateId: $templateId, name: $name,
    startVm: $startVm, hostId: $hostId, clientToken: $clientToken, account: $account) { ${JOB_FIELDS} } }`;

export async function deploy(h: Harness, c: GraphQLClient, options: DeployOptions = {}): Promise<Job> {
  const { deployVirtualMachine } = await c.request<{ deployVirtualMachine: Job }>(DEPLOY, {
    zoneId: options.zoneId ?? h.demo.zoneId,
    serviceOfferingId: options.serviceOfferingId ?? h.demo.serviceOfferingIds.small,
    templateId: options.templateId ?? h.demo.templateId,
    name: options.name ?? null,
    startVm: options.startVm ?? true,
    hostId: options.hostId ?? null,
    clientToken: options.clientToken ?? null,
    account: options.account ?? null,
  });
  return deployVirtualMachine;
}

/** Deploys and waits for the job; throws unless it SUCCEEDED. Returns the instance as of completion. */
export async function deployed(h: Harness, c: GraphQLClient, options: DeployOptions = {}): Promise<Vm> {
  const job = await h.waitForJob(c, (await deploy(h, c, options)).id);
  if (job.status !== 'SUCCEEDED' || !job.result) throw new Error(`deploy failed: ${JSON.stringify(job.error)}`);
  return job.result;
}

/** Runs an asynchronous instance mutation (`mutation(id) → AsyncJob`) and waits for its job. */
export async function runJob(h: Harness, c: GraphQLClient, mutation: string, variables: Record<string, unknown>): Promise<Job> {
  const data = await c.request<Record<string, { id: string }>>(mutation, variables);
  const started = Object.values(data)[0];
  if (!started) throw new Error('the mutation returned no job');
  return h.waitForJob(c, started.id);
}

export async function getVm(c: GraphQLClient, id: string): Promise<Vm | null> {
  const { virtualMachine } = await c.request<{ virtualMachine: Vm | null }>(`query($id: ID!) { virtualMachine(id: $id) { ${VM_FIELDS} } }`, { id });
  return virtualMachine;
}

export interface UsageEvent {
  type: string;
  accountId: string;
  zoneId: string;
  resourceId: string;
  resourceName: string;
  offeringId: string | null;
  templateId: string | null;
  size: number | null;
  resourceType: string | null;
  details: unknown;
  occurredAt: string;
  position: number;
  eventId: string;
}

export async function usageEvents(c: GraphQLClient, accountId?: string): Promise<{ nodes: UsageEvent[]; totalCount: number }> {
  const { usageEvents: page } = await c.request<{ usageEvents: { nodes: UsageEvent[]; totalCount: number; pageInfo: { hasNextPage: boolean } } }>(
    `query($accountId: ID) { usageEvents(accountId: $accountId, first: 500) {
      nodes { type accountId zoneId resourceId resourceName offeringId templateId size resourceType details occurredAt position eventId }
      totalCount pageInfo { hasNextPage } } }`,
    { accountId: accountId ?? null },
  );
  if (page.pageInfo.hasNextPage) throw new Error('more than 500 usage events: page through them');
  return page;
}

export interface ActionEvent {
  id: string;
  type: string;
  resourceId: string;
  resourceType: string;
  accountId: string;
  description: string;
  actor: unknown;
  occurredAt: string;
}

export async function actionEvents(c: GraphQLClient, resourceId?: string, type?: string): Promise<{ nodes: ActionEvent[]; totalCount: number }> {
  const { events } = await c.request<{ events: { nodes: ActionEvent[]; totalCount: number; pageInfo: { hasNextPage: boolean } } }>(
    `query($resourceId: ID, $type: String) { events(resourceId: $resourceId, type: $type, first: 500) {
      nodes { id type resourceId resourceType accountId description actor occurredAt } totalCount pageInfo { hasNextPage } } }`,
    { resourceId: resourceId ?? null, type: type ?? null },
  );
  if (events.pageInfo.hasNextPage) throw new Error('more than 500 events: page through them');
  return events;
}

export async function setConfiguration(h: Harness, name: string, value: string): Promise<void> {
  await h.admin.request(`mutation($name: String!, $value: String!) { updateConfiguration(name: $name, value: $value) { name value } }`, { name, value });
}

export interface SmallZone {
  zoneId: string;
  clusterId: string;
  hostId: string;
  networkId: string;
  templateId: string;
}

/**
 * A zone of its own (through the root admin's API): one KVM cluster with one simulator host, NFS
 * storage, an L2 network and a template. Whatever a user deploys there lands on that host.
 */
export async function addSmallZone(
  h: Harness,
  name: string,
  simulator: { startDelayMs?: number; stopDelayMs?: number; failOn?: string[] },
): Promise<SmallZone> {
  const a = h.admin;
  const { createZone } = await a.request<{ createZone: { id: string } }>(`mutation($name: String!) { createZone(name: $name, networkType: "Advanced") { id } }`, { name });
  const zoneId = createZone.id;
  const { addCluster } = await a.request<{ addCluster: { id: string } }>(
    `mutation($zoneId: ID!, $name: String!) { addCluster(zoneId: $zoneId, name: $name, hypervisor: "KVM") { id } }`,
    { zoneId, name: `${name}-cluster` },
  );
  const { addHost } = await a.request<{ addHost: { id: string } }>(
    `mutation($clusterId: ID!, $name: String!, $simulator: SimulatorInput) {
      addHost(clusterId: $clusterId, name: $name, driver: "simulator", cpuNumber: 8, cpuSpeed: 2000, memory: 16384, simulator: $simulator) { id } }`,
    { clusterId: addCluster.id, name: `${name}-host`, simulator },
  );
  await a.request(
    `mutation($zoneId: ID!, $name: String!) { createStoragePool(zoneId: $zoneId, name: $name, type: "NFS", url: "nfs://nfs.e2e.internal/export/primary") { id } }`,
    { zoneId, name: `${name}-nfs` },
  );
  const { createNetwork } = await a.request<{ createNetwork: { id: string } }>(
    `mutation($zoneId: ID!, $name: String!) { createNetwork(zoneId: $zoneId, name: $name, type: L2, vlan: 300) { id } }`,
    { zoneId, name: `${name}-l2` },
  );
  const { registerTemplate } = await a.request<{ registerTemplate: { id: string } }>(
    `mutation($zoneId: ID!, $name: String!) { registerTemplate(zoneId: $zoneId, name: $name, osType: "Debian GNU/Linux 12 (64-bit)",
      url: "https://example.invalid/debian-12.qcow2", size: 2147483648, format: "QCOW2", hypervisor: "KVM", isPublic: true) { id } }`,
    { zoneId, name: `${name}-linux` },
  );
  return { zoneId, clusterId: addCluster.id, hostId: addHost.id, networkId: createNetwork.id, templateId: registerTemplate.id };
}
