// The guests of an external KVM host, through GraphQL on the simulator (issue 16 items 3 and 5;
// behaviour §4.6 `external`): vmsForImport asks an agent of the zone to log in to the host and list
// its stopped domains; every refusal answers with CloudStack's words and appends nothing; the
// password is held in the secrets port only while the listing runs and is never written anywhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSmallZone, gqlError, startHarness, type Harness, type SmallZone } from './harness.js';

const GiB = 1024 ** 3;
// Unique: any occurrence of it anywhere is a leak.
const PASSWORD = 'pw-external-7f3e9c1d-leak-canary';
const WRONG_PASSWORD = 'pw-wrong-51b0a2e8-leak-canary';

const LIST = `query($zoneId: ID!, $host: String!, $username: String!, $password: String, $importSource: ImportSource) {
  vmsForImport(zoneId: $zoneId, host: $host, username: $username, password: $password, importSource: $importSource) { totalCount nodes {
    name host powerState cpuNumber cpuSpeed cpuCoresPerSocket memory osDisplayName
    disks { id capacity controller controllerUnit imagePath position datastoreName }
    nics { id macAddress networkName vlanId pciSlot adapterType ipAddress } } } }`;

interface Listed {
  name: string;
  host: string;
  powerState: string;
  cpuNumber: number;
  memory: number;
  disks: Array<{ id: string; capacity: number | null; controller: string; imagePath: string | null }>;
  nics: Array<{ id: string; macAddress: string; vlanId: number | null; adapterType: string | null }>;
}

let h: Harness;
let zone: SmallZone;

async function list(variables: Record<string, unknown>): Promise<Listed[]> {
  const { vmsForImport } = await h.admin.request<{ vmsForImport: { nodes: Listed[]; totalCount: number } }>(LIST, variables);
  expect(vmsForImport.totalCount).toBe(vmsForImport.nodes.length);
  return vmsForImport.nodes;
}

beforeAll(async () => {
  h = await startHarness();
  zone = await addSmallZone(h, 'ext', {});
  h.simulator.addExternalHost('10.9.0.7', {
    username: 'ops',
    password: PASSWORD,
    domains: [
      {
        name: 'legacy-db',
        running: false,
        cpuNumber: 2,
        memory: 2048,
        disks: [{ capacity: 8 * GiB, path: '/srv/vm/legacy-db.qcow2' }, { capacity: 4 * GiB, path: '/srv/vm/legacy-db-data.raw' }],
        nics: [{ mac: '52:54:00:aa:00:01', vlan: 300 }, { mac: '52:54:00:aa:00:02', vlan: 301 }],
      },
      { name: 'legacy-web', running: true, cpuNumber: 1, memory: 512, disks: [{ capacity: 2 * GiB }], nics: [{ mac: '52:54:00:aa:00:03' }] },
    ],
  });
  h.simulator.addExternalHost('10.9.0.8', { port: 2222, username: 'ops', password: PASSWORD, domains: [{ name: 'alt', running: false, cpuNumber: 1, memory: 256, disks: [{ capacity: GiB }], nics: [] }] });
});

afterAll(async () => {
  await h.stop();
});

describe('vmsForImport: the stopped guests of an external KVM host', () => {
  it('given an external host with a stopped and a running domain, when listed, then only the stopped one is offered with its disks and NICs', async () => {
    const listed = await list({ zoneId: zone.zoneId, host: '10.9.0.7', username: 'ops', password: PASSWORD });
    expect(listed.map((vm) => vm.name)).toEqual(['legacy-db']);
    const [vm] = listed;
    expect(vm).toMatchObject({ host: '10.9.0.7', powerState: 'PowerOff', cpuNumber: 2, memory: 2048 });
    expect(vm!.disks.map((d) => [d.id, d.capacity, d.imagePath])).toEqual([
      ['0', 8 * GiB, '/srv/vm/legacy-db.qcow2'],
      ['1', 4 * GiB, '/srv/vm/legacy-db-data.raw'],
    ]);
    expect(vm!.nics.map((n) => [n.id, n.macAddress, n.vlanId])).toEqual([
      ['0', '52:54:00:aa:00:01', 300],
      ['1', '52:54:00:aa:00:02', 301],
    ]);
  });

  it('given an sshd on another port, when the host is named host:port, then that port is used', async () => {
    expect((await list({ zoneId: zone.zoneId, host: '10.9.0.8:2222', username: 'ops', password: PASSWORD })).map((vm) => [vm.name, vm.host])).toEqual([['alt', '10.9.0.8']]);
  });

  it('given a listing that succeeded or failed, then the password is no longer held in the secrets port', async () => {
    const before = h.secrets.size;
    await list({ zoneId: zone.zoneId, host: '10.9.0.7', username: 'ops', password: PASSWORD });
    await gqlError(h.admin.request(LIST, { zoneId: zone.zoneId, host: '10.9.0.7', username: 'ops', password: WRONG_PASSWORD }));
    expect(h.secrets.size).toBe(before);
  });
});

describe('vmsForImport refusals (behaviour §4.6), each appending nothing', () => {
  const cases: Array<{ when: string; variables: () => Record<string, unknown>; code: string; message: RegExp; user?: boolean }> = [
    { when: 'the caller is not the root admin', user: true, variables: () => ({ zoneId: zone.zoneId, host: '10.9.0.7', username: 'ops', password: PASSWORD }), code: 'FORBIDDEN', message: /^Cannot perform this operation, Calling account is not root admin: / },
    { when: 'the zone is unknown', variables: () => ({ zoneId: '00000000-0000-4000-8000-000000000000', host: '10.9.0.7', username: 'ops' }), code: 'BAD_USER_INPUT', message: /^Please specify a valid zone\.$/ },
    { when: 'the username is blank', variables: () => ({ zoneId: zone.zoneId, host: '10.9.0.7', username: ' ' }), code: 'BAD_USER_INPUT', message: /^Username need to be provided\.$/ },
    { when: 'the source is not EXTERNAL', variables: () => ({ zoneId: zone.zoneId, host: '10.9.0.7', username: 'ops', importSource: 'VMWARE' }), code: 'BAD_USER_INPUT', message: /import source VMWARE is not supported/ },
    { when: 'the host is not a host name', variables: () => ({ zoneId: zone.zoneId, host: 'a b;rm', username: 'ops' }), code: 'BAD_USER_INPUT', message: /^Invalid host "a b;rm"/ },
    { when: 'nothing listens there', variables: () => ({ zoneId: zone.zoneId, host: '10.9.0.99', username: 'ops', password: PASSWORD }), code: 'INTERNAL_ERROR', message: /^Failed to list VMs, due to: Unable to connect to remote host 10\.9\.0\.99/ },
    { when: 'the password is wrong', variables: () => ({ zoneId: zone.zoneId, host: '10.9.0.7', username: 'ops', password: WRONG_PASSWORD }), code: 'INTERNAL_ERROR', message: /^Failed to list VMs, due to: Unable to connect to remote host 10\.9\.0\.7.*authentication failed/ },
  ];
  for (const c of cases) {
    it(`when ${c.when}, then ${c.code}`, async () => {
      const head = await h.logHead();
      const client = c.user ? (await h.createUser(`ext-user-${Math.random().toString(36).slice(2, 8)}`)).client : h.admin;
      const headAfterSetup = await h.logHead();
      const error = await gqlError(client.request(LIST, c.variables()));
      expect(error.extensions?.["code"]).toBe(c.code);
      expect(error.message).toMatch(c.message);
      expect(await h.logHead()).toBe(c.user ? headAfterSetup : head);
    });
  }

  it('given a zone with no Up KVM host, then no agent can list and it is INVALID_STATE', async () => {
    const { createZone } = await h.admin.request<{ createZone: { id: string } }>(`mutation { createZone(name: "ext-empty", networkType: "Advanced") { id } }`);
    const error = await gqlError(h.admin.request(LIST, { zoneId: createZone.id, host: '10.9.0.7', username: 'ops', password: PASSWORD }));
    expect(error.extensions?.["code"]).toBe('INVALID_STATE');
    expect(error.message).toBe('No hosts available to list VMs on remote host 10.9.0.7');
  });
});

describe('the password never leaves the secrets port (issue 16 item 5)', () => {
  it('given listings with a right and a wrong password, then neither appears in an event, a logged error or an API error', async () => {
    await list({ zoneId: zone.zoneId, host: '10.9.0.7', username: 'ops', password: PASSWORD });
    const errors = [
      await gqlError(h.admin.request(LIST, { zoneId: zone.zoneId, host: '10.9.0.7', username: 'ops', password: WRONG_PASSWORD })),
      await gqlError(h.admin.request(LIST, { zoneId: zone.zoneId, host: '10.9.0.99', username: 'ops', password: PASSWORD })),
    ];
    const events = JSON.stringify(await h.store.readAll());
    const logged = h.loggedErrors.map((entry) => `${entry.message} ${entry.error instanceof Error ? `${entry.error.message} ${entry.error.stack ?? ''}` : String(entry.error)}`).join('\n');
    for (const secret of [PASSWORD, WRONG_PASSWORD]) {
      expect(events.includes(secret), 'an event holds the password').toBe(false);
      expect(logged.includes(secret), 'a logged error holds the password').toBe(false);
      expect(JSON.stringify(errors).includes(secret), 'an API error holds the password').toBe(false);
    }
  });
});
