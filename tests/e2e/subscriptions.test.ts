// Subscriptions over WebSocket (graphql-transport-ws) with graphql-ws's own client: a deploy job
// pushed from PENDING to SUCCEEDED, the key checked at connection_init, jobs of other accounts
// invisible, and the HTTP transport's depth and cost limits applied to WebSocket operations too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { addSmallZone, deploy, DEPLOY, JOB_FIELDS, startHarness, WAIT_MS, type GqlError, type Harness, type Job, type SmallZone } from './harness.js';

interface Outcome<T> {
  results: FormattedExecutionResult<T, unknown>[];
  /** What the sink's error received: GraphQL errors, or a CloseEvent-like object. */
  error: unknown;
  completed: boolean;
}

/** Runs one operation over the client and collects everything until it completes or errors (bounded). */
function collect<T>(client: Client, query: string, variables: Record<string, unknown> = {}, timeoutMs = WAIT_MS): Promise<Outcome<T>> {
  return new Promise((resolve, reject) => {
    const outcome: Outcome<T> = { results: [], error: undefined, completed: false };
    const timer = setTimeout(() => {
      dispose();
      reject(new Error(`no completion within ${timeoutMs} ms; got ${JSON.stringify(outcome.results)}`));
    }, timeoutMs);
    const dispose = client.subscribe<T>(
      { query, variables },
      {
        next: (result) => outcome.results.push(result),
        error: (error) => {
          clearTimeout(timer);
          outcome.error = error;
          resolve(outcome);
        },
        complete: () => {
          clearTimeout(timer);
          outcome.completed = true;
          resolve(outcome);
        },
      },
    );
  });
}

describe('subscriptions over WebSocket', () => {
  let h: Harness;
  let slow: SmallZone;
  let userA: { id: string; key: string };
  let userB: { id: string; key: string };
  const clients: Client[] = [];

  const wsClient = (connectionParams?: Record<string, unknown>, closed?: (event: unknown) => void): Client => {
    const client = createClient({
      url: h.wsUrl,
      webSocketImpl: WebSocket,
      ...(connectionParams ? { connectionParams } : {}),
      retryAttempts: 0,
      lazy: true,
      on: closed ? { closed } : {},
    });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    h = await startHarness();
    // A zone whose only host takes a while to start a domain, so a deploy job is observably PENDING.
    slow = await addSmallZone(h, 'slow', { startDelayMs: 1500 });
    userA = await h.createUser('ws-user-a');
    userB = await h.createUser('ws-user-b');
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    await h?.stop();
  });

  it('pushes a deploy job from PENDING to SUCCEEDED with its result, then completes', async () => {
    const job = await deploy(h, h.client(userA.key), { name: 'ws-1', zoneId: slow.zoneId, templateId: slow.templateId });
    expect(job.status).toBe('PENDING');
    const client = wsClient({ Authorization: `Bearer ${userA.key}` });
    const outcome = await collect<{ asyncJobUpdated: Job }>(client, `subscription($id: ID!) { asyncJobUpdated(id: $id) { ${JOB_FIELDS} } }`, { id: job.id });
    expect(outcome.error).toBeUndefined();
    expect(outcome.completed).toBe(true);
    for (const result of outcome.results) expect(result.errors).toBeUndefined();
    const updates = outcome.results.map((r) => r.data!.asyncJobUpdated);
    expect(updates.length).toBeGreaterThanOrEqual(2);
    expect(updates.every((u) => u.id === job.id)).toBe(true);
    expect(updates[0]!.status).toBe('PENDING');
    expect(updates.slice(0, -1).every((u) => u.status === 'PENDING')).toBe(true);
    const last = updates[updates.length - 1]!;
    expect(last.status).toBe('SUCCEEDED');
    expect(last.error).toBeNull();
    expect(last.completedAt).not.toBeNull();
    // Placement is the admins' to see: pushed to the user without it, to the root admin with it.
    expect(last.result).toMatchObject({ name: 'ws-1', state: 'Running', hostId: null, lastHostId: null, instanceName: null, accountId: userA.id });
    const asAdmin = await collect<{ asyncJobUpdated: Job }>(wsClient({ Authorization: `Bearer ${h.adminKey}` }), `subscription($id: ID!) { asyncJobUpdated(id: $id) { ${JOB_FIELDS} } }`, { id: job.id });
    expect(asAdmin.results.at(-1)?.data?.asyncJobUpdated.result).toMatchObject({ name: 'ws-1', hostId: slow.hostId });
    expect(asAdmin.results.at(-1)?.data?.asyncJobUpdated.result?.instanceName).toMatch(/^i-/);
  });

  it('pushes the workflow step the job is at and its progress, and names the instance it acts on', async () => {
    const job = await deploy(h, h.client(userA.key), { name: 'ws-steps', zoneId: slow.zoneId, templateId: slow.templateId });
    const client = wsClient({ Authorization: `Bearer ${userA.key}` });
    type Step = { status: string; step: string | null; progress: number; resourceType: string; resourceId: string };
    const outcome = await collect<{ asyncJobUpdated: Step }>(client, `subscription($id: ID!) { asyncJobUpdated(id: $id) { status step progress resourceType resourceId } }`, { id: job.id });
    const updates = outcome.results.map((r) => r.data!.asyncJobUpdated);
    // The slow host holds the job in its start for 1.5 s: that step is pushed while it lasts.
    expect(updates).toContainEqual({ status: 'PENDING', step: 'STARTING', progress: 40, resourceType: 'VirtualMachine', resourceId: job.instanceId });
    expect(updates.at(-1)).toEqual({ status: 'SUCCEEDED', step: 'STARTING', progress: 100, resourceType: 'VirtualMachine', resourceId: job.instanceId });
    const progress = updates.map((u) => u.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it('runs queries and mutations over the same socket, with the caller of the key', async () => {
    const client = wsClient({ Authorization: `Bearer ${userA.key}` });
    const outcome = await collect<{ deployVirtualMachine: Job }>(client, DEPLOY, {
      zoneId: h.demo.zoneId,
      serviceOfferingId: h.demo.serviceOfferingIds.small,
      templateId: h.demo.templateId,
      name: 'ws-2',
    });
    expect(outcome.error).toBeUndefined();
    const job = outcome.results[0]!.data!.deployVirtualMachine;
    const done = await h.waitForJob(h.client(userA.key), job.id);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.result?.accountId).toBe(userA.id);
  });

  it('refuses a connection without a key, or with an unknown one (4403)', async () => {
    for (const params of [undefined, { Authorization: 'Bearer not-a-key-anyone-has' }, { Authorization: '' }]) {
      let closedWith: unknown;
      const client = wsClient(params, (event) => {
        closedWith = event;
      });
      const outcome = await collect<unknown>(client, `{ zones { totalCount } }`);
      expect(outcome.completed).toBe(false);
      expect(outcome.results).toEqual([]);
      expect((outcome.error as { code?: number }).code).toBe(4403);
      expect((closedWith as { code?: number }).code).toBe(4403);
    }
  });

  it("does not let a user subscribe to another account's job (NOT_FOUND)", async () => {
    const job = await deploy(h, h.client(userA.key), { name: 'ws-3' });
    const client = wsClient({ Authorization: `Bearer ${userB.key}` });
    const outcome = await collect<{ asyncJobUpdated: Job }>(client, `subscription($id: ID!) { asyncJobUpdated(id: $id) { id status result { id name } } }`, { id: job.id });
    // Either an error message or a result carrying errors; never the job.
    const errors = (Array.isArray(outcome.error) ? outcome.error : outcome.results.flatMap((r) => r.errors ?? [])) as GqlError[];
    expect(outcome.results.some((r) => r.data?.asyncJobUpdated)).toBe(false);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]!.extensions).toMatchObject({ code: 'NOT_FOUND', errorCode: 431 });
    expect(JSON.stringify(outcome)).not.toContain('ws-3');
    // The owner still can.
    const owner = wsClient({ Authorization: `Bearer ${userA.key}` });
    const mine = await collect<{ asyncJobUpdated: Job }>(owner, `subscription($id: ID!) { asyncJobUpdated(id: $id) { id status } }`, { id: job.id });
    expect(mine.error).toBeUndefined();
    expect(mine.results.at(-1)?.data?.asyncJobUpdated.status).toBe('SUCCEEDED');
  });

  it('applies the depth limit over WebSocket', async () => {
    const client = wsClient({ Authorization: `Bearer ${userA.key}` });
    const nested = (levels: number): string => (levels === 0 ? 'name' : `name ofType { ${nested(levels - 1)} }`);
    // __schema(1) types(2) fields(3) type(4) + ofType levels + the leaf: 20 levels deep.
    const deep = `{ __schema { types { fields { type { ${nested(15)} } } } } }`;
    const outcome = await collect<unknown>(client, deep);
    expect(outcome.results).toEqual([]);
    const errors = outcome.error as GqlError[];
    expect(Array.isArray(errors)).toBe(true);
    expect(errors[0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431 });
    expect(errors[0]!.message).toMatch(/levels deep/);
    // The same over HTTP, for comparison: the transports agree.
    const response = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${userA.key}` },
      body: JSON.stringify({ query: deep }),
    });
    const body = (await response.json()) as { errors?: GqlError[] };
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431 });
  });

  it('names the field-selection limit over WebSocket and HTTP alike, where graphql-js would only say "Validation aborted."', async () => {
    const client = wsClient({ Authorization: `Bearer ${userA.key}` });
    const wide = `{ zones { nodes { ${'id '.repeat(1_000)}} } }`;
    const expected = 'the document selects 1002 fields; at most 1000 are allowed';
    const outcome = await collect<unknown>(client, wide);
    const wsErrors = outcome.error as GqlError[];
    expect(wsErrors[0]).toMatchObject({ message: expected, extensions: { code: 'BAD_USER_INPUT', errorCode: 431 } });
    const response = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${userA.key}` },
      body: JSON.stringify({ query: wide }),
    });
    const body = (await response.json()) as { errors: GqlError[] };
    expect(body.errors[0]).toMatchObject({ message: expected, extensions: { code: 'BAD_USER_INPUT', errorCode: 431 } });
    for (const error of [...wsErrors, ...body.errors]) expect(error.message).not.toBe('Validation aborted.');
  });

  it('closes a socket whose message is over 1 MiB with 1009, naming the limit', async () => {
    const socket = new WebSocket(h.wsUrl, 'graphql-transport-ws');
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${userA.key}`, pad: 'x'.repeat(1024 * 1024) } }));
    expect(await closed).toEqual({ code: 1009, reason: 'a message may be at most 1048576 bytes' });
  });

  it('applies the cost limit over WebSocket', async () => {
    const client = wsClient({ Authorization: `Bearer ${userA.key}` });
    const costly = `query($n: Int) { virtualMachines(first: $n) { nodes { id name state nics { id networkId macAddress ipAddress } volumes { id name size state } } } }`;
    const outcome = await collect<unknown>(client, costly, { n: 1000 });
    expect(outcome.results).toEqual([]);
    const errors = outcome.error as GqlError[];
    expect(Array.isArray(errors)).toBe(true);
    expect(errors[0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431 });
    // A small page of the same selection is fine.
    const cheap = await collect<{ virtualMachines: { nodes: unknown[] } }>(client, costly, { n: 5 });
    expect(cheap.error).toBeUndefined();
    expect(cheap.completed).toBe(true);
    expect(cheap.results[0]?.errors).toBeUndefined();
  });
});
