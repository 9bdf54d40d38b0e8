// API.md's error contract, code by code, over HTTP: extensions.code and extensions.errorCode, messages
// naming the offending value, no stack traces, nothing appended by a refused mutation; and the two
// ways a deploy may be repeated: a retried clientToken, and twenty racing deploys of one name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphQLClient } from 'graphql-request';
import {
  addSmallZone,
  deploy,
  deployed,
  DEPLOY,
  gqlError,
  gqlErrors,
  getVm,
  startHarness,
  usageEvents,
  type GqlError,
  type Harness,
  type Job,
} from './harness.js';

const CODES = {
  BAD_USER_INPUT: 431,
  INVALID_STATE: 431,
  NOT_FOUND: 431,
  FORBIDDEN: 531,
  UNAUTHENTICATED: 401,
  CONFLICT: 530,
  INSUFFICIENT_CAPACITY: 533,
  INTERNAL_ERROR: 530,
} as const;
type Code = keyof typeof CODES;

/** The error speaks the contract: code, CloudStack number, and nothing of the server's insides. */
function expectContract(error: GqlError, code: Code): void {
  expect(error.extensions, error.message).toMatchObject({ code, errorCode: CODES[code] });
  expect(error.extensions).not.toHaveProperty('stacktrace');
  expect(error.extensions).not.toHaveProperty('exception');
  expect(JSON.stringify(error)).not.toMatch(/\bat .+\.(ts|js):\d+|node_modules|\/work\//);
}

const UNKNOWN_ID = '00000000-0000-4000-8000-00000000dead';

describe('error contract', () => {
  let h: Harness;
  let user: { id: string; key: string; client: GraphQLClient };

  /** Runs an operation that must fail with `code`, checks the contract, and that the log did not move. */
  async function refused(client: GraphQLClient, operation: string, variables: Record<string, unknown>, code: Code): Promise<GqlError> {
    const head = await h.logHead();
    const errors = await gqlErrors(client.request(operation, variables), h);
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) expectContract(error, code);
    expect(await h.logHead()).toBe(head);
    return errors[0]!;
  }

  const deployVars = (extra: Record<string, unknown> = {}) => ({
    zoneId: h.demo.zoneId,
    serviceOfferingId: h.demo.serviceOfferingIds.small,
    templateId: h.demo.templateId,
    ...extra,
  });

  beforeAll(async () => {
    h = await startHarness();
    user = await h.createUser('errors-user');
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('UNAUTHENTICATED 401: no key, an unknown key, a malformed header (HTTP 401, WWW-Authenticate)', async () => {
    const head = await h.logHead();
    const clients = [
      new GraphQLClient(h.url),
      h.client('not-a-key-anyone-has'),
      new GraphQLClient(h.url, { headers: { authorization: h.adminKey } }), // not a Bearer credential
      new GraphQLClient(h.url, { headers: { authorization: 'Bearer' } }),
    ];
    for (const client of clients) {
      for (const operation of [`{ zones { totalCount } }`, `mutation { createZone(name: "x") { id } }`, `{ __schema { queryType { name } } }`]) {
        const error = await gqlError(client.request(operation));
        expectContract(error, 'UNAUTHENTICATED');
      }
    }
    const response = await fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ zones { totalCount } }' }) });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const body = (await response.json()) as { errors: GqlError[]; data?: unknown };
    expectContract(body.errors[0]!, 'UNAUTHENTICATED');
    expect(await h.logHead()).toBe(head);
  });

  it('BAD_USER_INPUT 431: unknown referenced ids, naming the value', async () => {
    const zone = await refused(user.client, DEPLOY, deployVars({ zoneId: UNKNOWN_ID }), 'BAD_USER_INPUT');
    expect(zone.message).toContain(UNKNOWN_ID);
    expect(zone.extensions?.field).toBe('zoneId');
    const offering = await refused(user.client, DEPLOY, deployVars({ serviceOfferingId: UNKNOWN_ID }), 'BAD_USER_INPUT');
    expect(offering.message).toContain(UNKNOWN_ID);
    const template = await refused(user.client, DEPLOY, deployVars({ templateId: UNKNOWN_ID }), 'BAD_USER_INPUT');
    expect(template.message).toContain(UNKNOWN_ID);
  });

  it('BAD_USER_INPUT 431: a template registered in another zone is not usable in this one', async () => {
    // projections/infrastructure/template/queries.ts: "Templates usable in this zone: its own and the
    // cross-zone ones". A deploy must refuse a template of another zone as it refuses an unknown one.
    const other = await addSmallZone(h, 'elsewhere', {});
    const error = await refused(user.client, DEPLOY, deployVars({ zoneId: other.zoneId, templateId: h.demo.templateId, name: 'wrong-zone-template' }), 'BAD_USER_INPUT');
    expect(error.message).toContain(h.demo.templateId);
  });

  it('BAD_USER_INPUT 431: an SSH key pair, which vmledger does not keep, or an affinity group that does not exist, is unknown', async () => {
    const withReferences = `mutation($zoneId: ID!, $serviceOfferingId: ID!, $templateId: ID!, $keyPairs: [String!], $groups: [ID!]) {
      deployVirtualMachine(zoneId: $zoneId, serviceOfferingId: $serviceOfferingId, templateId: $templateId, keyPairs: $keyPairs, affinityGroupIds: $groups) { id } }`;
    const keyPair = await refused(user.client, withReferences, deployVars({ keyPairs: ['my-laptop'], groups: null }), 'BAD_USER_INPUT');
    expect(keyPair.extensions?.field).toBe('keyPairs');
    expect(keyPair.message).toContain('my-laptop');
    const group = await refused(user.client, withReferences, deployVars({ keyPairs: null, groups: [UNKNOWN_ID] }), 'BAD_USER_INPUT');
    expect(group.extensions?.field).toBe('affinityGroupIds[0]');
    expect(group.message).toContain(UNKNOWN_ID);
  });

  it("clusterId: the root admin's alone, and a cluster of the zone holding the host named beside it", async () => {
    const withCluster = `mutation($zoneId: ID!, $serviceOfferingId: ID!, $templateId: ID!, $clusterId: ID, $hostId: ID) {
      deployVirtualMachine(zoneId: $zoneId, serviceOfferingId: $serviceOfferingId, templateId: $templateId, clusterId: $clusterId, hostId: $hostId) { id } }`;
    const forbidden = await refused(user.client, withCluster, deployVars({ clusterId: h.demo.clusterId, hostId: null }), 'FORBIDDEN');
    expect(forbidden.extensions?.field).toBe('clusterId');
    // A user learns nothing about clusters: an unknown one is refused the same way.
    expect((await refused(user.client, withCluster, deployVars({ clusterId: UNKNOWN_ID, hostId: null }), 'FORBIDDEN')).message).toBe(forbidden.message);
    const unknown = await refused(h.admin, withCluster, deployVars({ clusterId: UNKNOWN_ID, hostId: null }), 'BAD_USER_INPUT');
    expect(unknown.extensions?.field).toBe('clusterId');
    const other = await addSmallZone(h, 'cluster-elsewhere', {});
    const elsewhere = await refused(h.admin, withCluster, deployVars({ clusterId: other.clusterId, hostId: null }), 'BAD_USER_INPUT');
    expect(elsewhere.message).toContain(other.clusterId);
    const { addCluster } = await h.admin.request<{ addCluster: { id: string } }>(
      `mutation($z: ID!) { addCluster(zoneId: $z, name: "empty-cluster", hypervisor: "KVM") { id } }`,
      { z: h.demo.zoneId },
    );
    const mismatch = await refused(h.admin, withCluster, deployVars({ clusterId: addCluster.id, hostId: h.demo.hostIds[0] }), 'BAD_USER_INPUT');
    expect(mismatch.extensions?.field).toBe('hostId');
  });

  it('BAD_USER_INPUT 431: a placement on an unknown host, on a host of another zone, or for no start', async () => {
    const unknownHost = await refused(h.admin, DEPLOY, deployVars({ hostId: UNKNOWN_ID }), 'BAD_USER_INPUT');
    expect(unknownHost.extensions?.field).toBe('hostId');
    expect(unknownHost.message).toContain(UNKNOWN_ID);
    const other = await addSmallZone(h, 'host-elsewhere', {});
    expect((await refused(h.admin, DEPLOY, deployVars({ hostId: other.hostId }), 'BAD_USER_INPUT')).message).toContain(other.hostId);
    const noStart = await refused(h.admin, DEPLOY, deployVars({ hostId: h.demo.hostIds[0], startVm: false }), 'BAD_USER_INPUT');
    expect(noStart.extensions?.field).toBe('hostId');
    // The same for a start of a stopped instance.
    const stopped = await deployed(h, h.admin, { name: 'start-placement', startVm: false });
    const start = `mutation($id: ID!, $hostId: ID) { startVirtualMachine(id: $id, hostId: $hostId) { id } }`;
    expect((await refused(h.admin, start, { id: stopped.id, hostId: UNKNOWN_ID }, 'BAD_USER_INPUT')).extensions?.field).toBe('hostId');
    expect((await refused(h.admin, start, { id: stopped.id, hostId: other.hostId }, 'BAD_USER_INPUT')).extensions?.field).toBe('hostId');
  });

  it('BAD_USER_INPUT 431: arguments that would otherwise be dropped or bent without a word', async () => {
    const deployWith = `mutation($zoneId: ID!, $serviceOfferingId: ID!, $templateId: ID!, $domainId: ID, $userData: String, $details: JSON) {
      deployVirtualMachine(zoneId: $zoneId, serviceOfferingId: $serviceOfferingId, templateId: $templateId, domainId: $domainId, userData: $userData, details: $details, startVm: false) { id } }`;
    const none = { domainId: null, userData: null, details: null };
    // domainId only says where the account named in account is.
    expect((await refused(user.client, deployWith, deployVars({ ...none, domainId: UNKNOWN_ID }), 'BAD_USER_INPUT')).extensions?.field).toBe('domainId');
    // User data is base64 text.
    for (const userData of ['%%% not base64 %%%', 'abc']) {
      expect((await refused(user.client, deployWith, deployVars({ ...none, userData }), 'BAD_USER_INPUT')).extensions?.field).toBe('userData');
    }
    // A root disk smaller than the template (2 GiB) is refused, not rounded up.
    const small = await refused(user.client, deployWith, deployVars({ ...none, details: { rootdisksize: '1' } }), 'BAD_USER_INPUT');
    expect(small.extensions?.field).toBe('rootDiskSize');
    const { deployVirtualMachine } = await user.client.request<{ deployVirtualMachine: { id: string } }>(deployWith, deployVars({ ...none, userData: 'I2Nsb3VkLWNvbmZpZwo=', details: { rootdisksize: '4' } }));
    const vm = (await h.waitForJob(user.client, deployVirtualMachine.id)).result!;
    expect(vm.volumes.find((v) => v.type === 'ROOT')?.size).toBe(4 * 2 ** 30);
    // A change of offering takes compute details only.
    const change = `mutation($id: ID!, $s: ID!, $details: JSON) { changeServiceForVirtualMachine(id: $id, serviceOfferingId: $s, details: $details) { id } }`;
    const stray = await refused(user.client, change, { id: vm.id, s: h.demo.serviceOfferingIds.medium, details: { rootdisksize: '50' } }, 'BAD_USER_INPUT');
    expect(stray.extensions?.field).toBe('details.rootdisksize');
  });

  it('BAD_USER_INPUT 431: a root disk larger than storage.max.volume.size (2000 GiB), up front, not as a failed start', async () => {
    const deployWith = `mutation($zoneId: ID!, $serviceOfferingId: ID!, $templateId: ID!, $details: JSON) {
      deployVirtualMachine(zoneId: $zoneId, serviceOfferingId: $serviceOfferingId, templateId: $templateId, details: $details) { id } }`;
    // 10^17 GiB: bytes no longer an exact integer; 2001 GiB: one over CloudStack's default maximum.
    for (const rootdisksize of ['99999999999999999', '2001']) {
      const error = await refused(user.client, deployWith, deployVars({ details: { rootdisksize } }), 'BAD_USER_INPUT');
      expect(error.extensions?.field).toBe('details.rootdisksize');
      expect(error.message).toContain(rootdisksize);
      expect(error.message).toMatch(/2000 GiB \(storage\.max\.volume\.size\)/);
    }
  });

  it('BAD_USER_INPUT 431: malformed argument types, literal and in variables', async () => {
    await refused(user.client, `{ virtualMachines(first: "ten") { totalCount } }`, {}, 'BAD_USER_INPUT');
    await refused(user.client, `query($n: Int) { virtualMachines(first: $n) { totalCount } }`, { n: 'ten' }, 'BAD_USER_INPUT');
    await refused(user.client, `query($n: Int) { virtualMachines(first: $n) { totalCount } }`, { n: 1.5 }, 'BAD_USER_INPUT');
    await refused(user.client, `mutation { deployVirtualMachine(zoneId: 1.5, serviceOfferingId: "x", templateId: "y") { id } }`, {}, 'BAD_USER_INPUT');
    await refused(user.client, DEPLOY, deployVars({ startVm: 'yes' }), 'BAD_USER_INPUT');
    await refused(user.client, DEPLOY, deployVars({ zoneId: { id: h.demo.zoneId } }), 'BAD_USER_INPUT');
    await refused(user.client, `mutation { deployVirtualMachine(serviceOfferingId: "x", templateId: "y") { id } }`, {}, 'BAD_USER_INPUT');
    await refused(user.client, `query($at: DateTime!) { virtualMachineAsOf(id: "x", at: $at) { id } }`, { at: 'yesterday-ish' }, 'BAD_USER_INPUT');
    await refused(user.client, `{ virtualMachines(state: Sleeping) { totalCount } }`, {}, 'BAD_USER_INPUT');
    await refused(user.client, `{ noSuchField }`, {}, 'BAD_USER_INPUT');
    await refused(user.client, `{ virtualMachines( { totalCount }`, {}, 'BAD_USER_INPUT');
  });

  it('BAD_USER_INPUT 431: a 100 KB string argument, in variables and inline', async () => {
    const huge = 'x'.repeat(100 * 1024);
    const name = await refused(user.client, DEPLOY, deployVars({ name: huge }), 'BAD_USER_INPUT');
    expect(name.message.length).toBeLessThan(2000);
    await refused(
      user.client,
      `mutation($z: ID!, $s: ID!, $t: ID!, $u: String) { deployVirtualMachine(zoneId: $z, serviceOfferingId: $s, templateId: $t, userData: $u) { id status } }`,
      { z: h.demo.zoneId, s: h.demo.serviceOfferingIds.small, t: h.demo.templateId, u: huge },
      'BAD_USER_INPUT',
    );
    await refused(user.client, `query($k: String) { virtualMachines(keyword: $k) { totalCount } }`, { k: huge }, 'BAD_USER_INPUT');
    // Inline, the document itself is over its 100 KiB limit.
    const head = await h.logHead();
    const response = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${user.key}` },
      body: JSON.stringify({ query: `mutation { updateVirtualMachine(id: "${UNKNOWN_ID}", displayName: "${huge}") { id } }` }),
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    const body = (await response.json()) as { errors: GqlError[] };
    expectContract(body.errors[0]!, 'BAD_USER_INPUT');
    expect(await h.logHead()).toBe(head);
  });

  it('BAD_USER_INPUT 431: a window ending before it starts, on events, usageEvents and usageRecords alike', async () => {
    const window = { startDate: '2025-03-02T00:00:00Z', endDate: '2025-03-01T00:00:00Z' };
    for (const [list, required] of [['events', ''], ['usageEvents', ''], ['usageRecords', '!']] as const) {
      const query = `query($startDate: DateTime${required}, $endDate: DateTime${required}) { ${list}(startDate: $startDate, endDate: $endDate) { totalCount } }`;
      const error = await refused(user.client, query, window, 'BAD_USER_INPUT');
      expect(error.extensions?.field, list).toBe('endDate');
      expect(error.message, list).toContain('2025-03-01T00:00:00.000Z');
    }
    // The event windows are inclusive at both ends: a single instant is a window.
    const instant = { startDate: '2025-03-01T00:00:00Z', endDate: '2025-03-01T00:00:00Z' };
    await user.client.request(`query($startDate: DateTime, $endDate: DateTime) { events(startDate: $startDate, endDate: $endDate) { totalCount } }`, instant);
  });

  it('BAD_USER_INPUT 431: an events type that is no action-event type, a usageEvents type that is no usage type', async () => {
    const events = await refused(user.client, `{ events(type: "VM") { totalCount } }`, {}, 'BAD_USER_INPUT');
    expect(events.extensions?.field).toBe('type');
    expect(events.message).toMatch(/^type "VM" is not an action-event type; known types: VM\.CREATE, VM\.START, /);
    const usage = await refused(user.client, `{ usageEvents(type: "VM") { totalCount } }`, {}, 'BAD_USER_INPUT');
    expect(usage.extensions?.field).toBe('type');
    expect(usage.message).toMatch(/^type "VM" is not a usage type; known types: VM\.CREATE, /);
    // Known types are answered, a usage type with or without its `usage.` prefix.
    const { deployVirtualMachine } = await user.client.request<{ deployVirtualMachine: { id: string } }>(DEPLOY, deployVars({ name: 'typed-1', startVm: false }));
    await h.waitForJob(user.client, deployVirtualMachine.id);
    type Counts = { events: { totalCount: number }; usageEvents: { totalCount: number }; prefixed: { totalCount: number }; lease: { totalCount: number } };
    const counts = await user.client.request<Counts>(
      `{ events(type: "VM.CREATE") { totalCount } usageEvents(type: "VM.CREATE") { totalCount } prefixed: usageEvents(type: "usage.VM.CREATE") { totalCount } lease: events(type: "VM.LEASE.EXPIRING") { totalCount } }`,
    );
    expect(counts.events.totalCount).toBeGreaterThan(0);
    expect(counts.usageEvents.totalCount).toBeGreaterThan(0);
    expect(counts.prefixed.totalCount).toBe(counts.usageEvents.totalCount);
    expect(counts.lease.totalCount).toBe(0);
  });

  it('BAD_USER_INPUT 431: a bad cursor and first: -1 on every kind of list; a page too costly', async () => {
    for (const list of ['virtualMachines', 'events', 'usageEvents', 'zones']) {
      const bad = await refused(user.client, `query($after: String) { ${list}(after: $after) { totalCount } }`, { after: 'not-a-cursor' }, 'BAD_USER_INPUT');
      expect(bad.message, list).toContain('not-a-cursor');
      await refused(user.client, `{ ${list}(first: -1) { totalCount } }`, {}, 'BAD_USER_INPUT');
    }
    const costly = await refused(user.client, `{ virtualMachines(first: 100000) { nodes { id name } } }`, {}, 'BAD_USER_INPUT');
    expect(costly.message).toMatch(/cost/);
    // A real cursor pages (so the refusals above are about the cursor's value).
    await deployed(h, user.client, { name: 'cursor-1', startVm: false });
    await deployed(h, user.client, { name: 'cursor-2', startVm: false });
    const page = `query($after: String) { virtualMachines(first: 1, after: $after, keyword: "cursor-") { nodes { name } pageInfo { hasNextPage endCursor } } }`;
    type Page = { virtualMachines: { nodes: Array<{ name: string }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    const one = await user.client.request<Page>(page, { after: null });
    expect(one.virtualMachines.pageInfo.hasNextPage).toBe(true);
    const two = await user.client.request<Page>(page, { after: one.virtualMachines.pageInfo.endCursor });
    expect([...one.virtualMachines.nodes, ...two.virtualMachines.nodes].map((n) => n.name).sort()).toEqual(['cursor-1', 'cursor-2']);
    expect(two.virtualMachines.pageInfo.hasNextPage).toBe(false);
  });

  it('INVALID_STATE 431: reboot a stopped instance', async () => {
    const vm = await deployed(h, user.client, { name: 'stopped-1', startVm: false });
    expect(vm.state).toBe('Stopped');
    const error = await refused(user.client, `mutation($id: ID!) { rebootVirtualMachine(id: $id) { id } }`, { id: vm.id }, 'INVALID_STATE');
    expect(error.message).toContain(vm.id);
    expect(error.message).toMatch(/not running/i);
    expect((await getVm(user.client, vm.id))?.state).toBe('Stopped');
  });

  it('NOT_FOUND 431: an instance or job that does not exist', async () => {
    const error = await refused(user.client, `mutation($id: ID!) { stopVirtualMachine(id: $id) { id } }`, { id: UNKNOWN_ID }, 'NOT_FOUND');
    expect(error.message).toContain(UNKNOWN_ID);
    await refused(user.client, `mutation($id: ID!) { recoverVirtualMachine(id: $id) { id } }`, { id: UNKNOWN_ID }, 'NOT_FOUND');
    await refused(user.client, `mutation($id: ID!) { expungeVirtualMachine(id: $id) }`, { id: UNKNOWN_ID }, 'NOT_FOUND');
    const { virtualMachine, asyncJob } = await user.client.request<{ virtualMachine: unknown; asyncJob: unknown }>(
      `query($id: ID!) { virtualMachine(id: $id) { id } asyncJob(id: $id) { id } }`,
      { id: UNKNOWN_ID },
    );
    expect(virtualMachine).toBeNull();
    expect(asyncJob).toBeNull();
  });

  it('FORBIDDEN 531: a USER on a root-admin operation', async () => {
    const error = await refused(user.client, `mutation { createZone(name: "forbidden-zone") { id } }`, {}, 'FORBIDDEN');
    expect(error.message).toMatch(/createZone/);
    // Placing an instance on a named host is the root admin's too.
    await refused(user.client, DEPLOY, deployVars({ hostId: h.demo.hostIds[0] }), 'FORBIDDEN');
  });

  it('CONFLICT 530: two instances with one name in one account; another account may reuse it', async () => {
    const first = await deployed(h, user.client, { name: 'twin', startVm: false });
    const error = await refused(user.client, DEPLOY, deployVars({ name: 'twin', startVm: false }), 'CONFLICT');
    expect(error.message).toContain('twin');
    const { virtualMachines } = await user.client.request<{ virtualMachines: { nodes: Array<{ id: string }> } }>(
      `{ virtualMachines(keyword: "twin", first: 10) { nodes { id } } }`,
    );
    expect(virtualMachines.nodes.map((n) => n.id)).toEqual([first.id]);
    const other = await h.createUser('errors-other');
    const theirs = await deployed(h, other.client, { name: 'twin', startVm: false });
    expect(theirs.name).toBe('twin');
  });

  it('INSUFFICIENT_CAPACITY 533: as the error of a deploy job', async () => {
    const { createServiceOffering } = await h.admin.request<{ createServiceOffering: { id: string } }>(
      `mutation { createServiceOffering(name: "Enormous", cpuNumber: 64, cpuSpeed: 2000, memory: 262144) { id } }`,
    );
    const job = await h.waitForJob(user.client, (await deploy(h, user.client, { name: 'enormous', serviceOfferingId: createServiceOffering.id })).id);
    expect(job.status).toBe('FAILED');
    expect(job.error).toMatchObject({ code: 'INSUFFICIENT_CAPACITY', errorCode: 533 });
  });

  it('INTERNAL_ERROR 530: an unexpected failure shows a reference, never the cause or a stack', async () => {
    const zonesBefore = (await user.client.request<{ zones: { totalCount: number } }>(`{ zones { totalCount } }`)).zones.totalCount;
    const secret = new Error('SQLITE_CORRUPT at /var/lib/vmledger/secret-path.sqlite');
    h.injectFault('zones', secret);
    h.injectFault('deployVirtualMachine', Object.assign(new TypeError('cannot read properties of undefined (reading "hostId")'), { code: 'ERR_X' }));
    try {
      const logged = h.loggedErrors.length;
      const error = await gqlError(user.client.request(`{ zones { totalCount } }`));
      expectContract(error, 'INTERNAL_ERROR');
      expect(error.message).toMatch(/^Internal server error \(reference [0-9a-f-]{36}\)$/);
      expect(JSON.stringify(error)).not.toContain('SQLITE');
      expect(JSON.stringify(error)).not.toContain('secret-path');
      // The server logged it, with the same reference.
      expect(h.loggedErrors.length).toBeGreaterThan(logged);
      const reference = String(error.extensions?.reference ?? '');
      expect(reference).not.toBe('');
      expect(h.loggedErrors.slice(logged).some((entry) => entry.message.includes(reference))).toBe(true);

      const head = await h.logHead();
      const mutation = await gqlError(user.client.request(DEPLOY, deployVars({ name: 'internal' })));
      expectContract(mutation, 'INTERNAL_ERROR');
      expect(JSON.stringify(mutation)).not.toContain('hostId');
      expect(await h.logHead()).toBe(head);
    } finally {
      h.injectFault('zones', undefined);
      h.injectFault('deployVirtualMachine', undefined);
    }
    // And the server is fine afterwards.
    const { zones } = await user.client.request<{ zones: { totalCount: number } }>(`{ zones { totalCount } }`);
    expect(zones.totalCount).toBe(zonesBefore);
  });

  it('a retried deploy with the same clientToken returns the first job and creates one instance', async () => {
    const c = user.client;
    const first = await deploy(h, c, { name: 'tokened', clientToken: 'retry-token-1' });
    const again = await deploy(h, c, { name: 'tokened', clientToken: 'retry-token-1' });
    expect(again.id).toBe(first.id);
    const done = await h.waitForJob(c, first.id);
    expect(done.status).toBe('SUCCEEDED');
    const afterDone = await deploy(h, c, { name: 'tokened', clientToken: 'retry-token-1' });
    expect(afterDone.id).toBe(first.id);
    expect(afterDone.status).toBe('SUCCEEDED');
    // Concurrent retries too.
    const racing = await Promise.all(Array.from({ length: 5 }, () => deploy(h, c, { name: 'tokened', clientToken: 'retry-token-1' })));
    expect(new Set(racing.map((j) => j.id))).toEqual(new Set([first.id]));
    const { virtualMachines } = await c.request<{ virtualMachines: { nodes: Array<{ id: string; name: string }> } }>(
      `{ virtualMachines(keyword: "tokened", first: 10) { nodes { id name } } }`,
    );
    expect(virtualMachines.nodes).toEqual([{ id: done.instanceId, name: 'tokened' }]);
    const creates = (await usageEvents(c)).nodes.filter((e) => e.type === 'VM.CREATE' && e.resourceId === done.instanceId);
    expect(creates).toHaveLength(1);
    // Another token is another deployment (here refused: the name is taken).
    const other = await gqlError(deploy(h, c, { name: 'tokened', clientToken: 'retry-token-2' }));
    expectContract(other, 'CONFLICT');
  });

  it('20 identical deploys sent at once with one clientToken: one job that succeeds, one reservation, one VM.START', async () => {
    const c = user.client;
    const hostsBefore = await reservations(h);
    const racing = await Promise.allSettled(Array.from({ length: 20 }, () => deploy(h, c, { name: 'same-token', clientToken: 'racing-token' })));
    const refused = racing.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => String(r.reason));
    expect(refused).toEqual([]);
    const ids = new Set(racing.map((r) => (r as PromiseFulfilledResult<Job>).value.id));
    expect(ids.size).toBe(1);
    const job = await h.waitForJob(c, [...ids][0]!);
    expect(job.error).toBeNull();
    expect(job.status).toBe('SUCCEEDED');
    expect(job.result?.state).toBe('Running');
    const { virtualMachines } = await c.request<{ virtualMachines: { nodes: Array<{ id: string; state: string }> } }>(
      `{ virtualMachines(keyword: "same-token", first: 50) { nodes { id state } } }`,
    );
    expect(virtualMachines.nodes).toEqual([{ id: job.instanceId, state: 'Running' }]);
    const usage = (await usageEvents(c)).nodes.filter((e) => e.resourceId === job.instanceId);
    expect(usage.filter((e) => e.type === 'VM.CREATE')).toHaveLength(1);
    expect(usage.filter((e) => e.type === 'VM.START')).toHaveLength(1);
    // The start was the deploy's own, not power-state sync catching up with a stuck instance.
    const starts = await actionEvents(h, job.instanceId!, 'VM.START');
    expect(starts.map((e) => e.actor)).not.toContainEqual(expect.stringContaining('power-state-sync'));
    // One reservation on the host it runs on (which only an admin may see), none anywhere else.
    const hostId = (await getVm(h.admin, job.instanceId!))!.hostId!;
    const hostsAfter = await reservations(h);
    const grown = Object.entries(hostsAfter).filter(([id, n]) => n !== (hostsBefore[id] ?? 0));
    expect(grown).toEqual([[hostId, (hostsBefore[hostId] ?? 0) + 1]]);
  });

  it('20 concurrent deploys of one name: exactly one succeeds, the others are CONFLICT', async () => {
    const c = user.client;
    const head = await h.logHead();
    const attempts = await Promise.allSettled(Array.from({ length: 20 }, () => deploy(h, c, { name: 'contested', startVm: false })));
    const won = attempts.filter((a): a is PromiseFulfilledResult<Job> => a.status === 'fulfilled');
    const lost = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(19);
    for (const loss of lost) {
      const error = await gqlError(Promise.reject(loss.reason));
      expectContract(error, 'CONFLICT');
    }
    const job = await h.waitForJob(c, won[0]!.value.id);
    expect(job.status).toBe('SUCCEEDED');
    const { virtualMachines } = await c.request<{ virtualMachines: { nodes: Array<{ id: string }> } }>(
      `{ virtualMachines(keyword: "contested", first: 50) { nodes { id } } }`,
    );
    expect(virtualMachines.nodes.map((n) => n.id)).toEqual([job.instanceId]);
    const creates = (await usageEvents(c)).nodes.filter((e) => e.type === 'VM.CREATE' && e.resourceName === 'contested');
    expect(creates).toHaveLength(1);
    // The losers appended nothing: exactly what one stopped deploy appends, as a lone deploy shows.
    const raceAppended = (await h.logHead()) - head;
    const before = await h.logHead();
    const lone = await deployed(h, c, { name: 'uncontested', startVm: false });
    expect(lone.state).toBe('Stopped');
    expect(raceAppended).toBe((await h.logHead()) - before);
  });
});

/** Reservations per host, as the admin sees them. */
async function reservations(h: Harness): Promise<Record<string, number>> {
  const { hosts } = await h.admin.request<{ hosts: { nodes: Array<{ id: string; reservationCount: number }> } }>(`{ hosts(first: 100) { nodes { id reservationCount } } }`);
  return Object.fromEntries(hosts.nodes.map((host) => [host.id, host.reservationCount]));
}

async function actionEvents(h: Harness, resourceId: string, type: string): Promise<Array<{ actor: string }>> {
  const { events } = await h.admin.request<{ events: { nodes: Array<{ actor: unknown }> } }>(
    `query($r: ID, $t: String) { events(resourceId: $r, type: $t, first: 100) { nodes { actor } } }`,
    { r: resourceId, t: type },
  );
  return events.nodes.map((e) => ({ actor: JSON.stringify(e.actor) }));
}
