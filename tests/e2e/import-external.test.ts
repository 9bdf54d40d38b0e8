// The guests of an external KVM host, through GraphQL on the simulator (issue 16 items 3 and 5;
// behaviour §4.6 `external`): vmsForImport asks an agent of the zone to log in to the host and list
// its stopped domains, importVm has a host's agent copy one's disks and records it Stopped; every
// refusal answers with CloudStack's words and appends nothing; the password is held in the secrets
// port only while the listing or the import's job runs and is never written anywhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionEvents, addSmallZone, gqlError, startHarness, usageEvents, type Harness, type SmallZone } from './harness.js';

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
    { when: 'the source is neither EXTERNAL nor VMWARE', variables: () => ({ zoneId: zone.zoneId, host: '10.9.0.7', username: 'ops', importSource: 'LOCAL' }), code: 'BAD_USER_INPUT', message: /import source LOCAL is not supported/ },
    { when: 'the host is not a host name', variables: () => ({ zoneId: zone.zoneId, host: 'a b;rm', username: 'ops' }), code: 'BAD_USER_INPUT', message: /^Invalid host "a b;rm"/ },
    { when: 'the host carries a login', variables: () => ({ zoneId: zone.zoneId, host: `ops:${PASSWORD}@10.9.0.7`, username: 'ops' }), code: 'BAD_USER_INPUT', message: /^Invalid host: give a host name(?![\s\S]*@)/ },
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

const IMPORT = `mutation($zoneId: ID!, $name: String!, $serviceOfferingId: ID!, $templateId: ID, $host: String, $username: String, $password: String,
  $importSource: ImportSource!, $hostName: String, $nicNetworkList: [NicNetworkInput!], $dataDiskOfferingList: [DataDiskOfferingInput!], $tmpPath: String, $clusterId: ID) {
  importVm(zoneId: $zoneId, importSource: $importSource, name: $name, serviceOfferingId: $serviceOfferingId, templateId: $templateId, host: $host,
    username: $username, password: $password, hostName: $hostName, nicNetworkList: $nicNetworkList, dataDiskOfferingList: $dataDiskOfferingList,
    tmpPath: $tmpPath, clusterId: $clusterId) { id } }`;
const JOB = `query($id: ID!) { asyncJob(id: $id) { id cmd status step progress instanceId error { code message }
  result { id name instanceName state hostId lastHostId cpuNumber memory nics { networkId macAddress deviceId } volumes { id type size state } } } }`;

interface ImportVmJob {
  id: string;
  cmd: string;
  status: string;
  step: string | null;
  progress: number | null;
  instanceId: string | null;
  error: { code: string; message: string } | null;
  result: {
    id: string;
    name: string;
    instanceName: string;
    state: string;
    hostId: string | null;
    lastHostId: string | null;
    cpuNumber: number;
    memory: number;
    nics: Array<{ networkId: string; macAddress: string; deviceId: number }>;
    volumes: Array<{ id: string; type: string; size: number; state: string }>;
  } | null;
}

describe('importVm from an external KVM host', () => {
  let fixed: string;
  let dataOffering: string;
  const base = () => ({ zoneId: zone.zoneId, importSource: 'EXTERNAL', host: '10.9.0.7', username: 'ops', password: PASSWORD, serviceOfferingId: fixed, templateId: zone.templateId });
  const run = async (variables: Record<string, unknown>): Promise<ImportVmJob> => {
    const { importVm } = await h.admin.request<{ importVm: { id: string } }>(IMPORT, variables);
    await h.waitForJob(h.admin, importVm.id);
    return (await h.admin.request<{ asyncJob: ImportVmJob }>(JOB, { id: importVm.id })).asyncJob;
  };

  beforeAll(async () => {
    fixed = (await h.admin.request<{ createServiceOffering: { id: string } }>(`mutation { createServiceOffering(name: "ext-fixed", cpuNumber: 1, cpuSpeed: 1000, memory: 1024) { id } }`)).createServiceOffering.id;
    dataOffering = (await h.admin.request<{ createDiskOffering: { id: string } }>(`mutation { createDiskOffering(name: "ext-data", diskSize: 10) { id } }`)).createDiskOffering.id;
  });

  it('given a stopped two-disk, two-NIC VM, when imported, then the job copies (COPYING) and the instance is Stopped with both volumes and both NICs, the password no longer held', async () => {
    const before = h.secrets.size;
    const job = await run({
      ...base(),
      name: 'legacy-db',
      dataDiskOfferingList: [{ disk: '1', diskOffering: dataOffering }],
      nicNetworkList: [{ nic: '0', network: zone.networkId }, { nic: '1', network: zone.networkId }],
    });
    expect(job).toMatchObject({ cmd: 'importVm', status: 'SUCCEEDED', error: null, step: 'COPYING', progress: 100 });
    const vm = job.result!;
    // A fixed offering is taken by a stopped VM as it is (behaviour §4.5).
    expect(vm).toMatchObject({ name: 'legacy-db', instanceName: 'legacy-db', state: 'Stopped', hostId: null, cpuNumber: 1, memory: 1024 });
    expect(vm.volumes.map((v) => [v.type, v.size])).toEqual([['ROOT', 8 * GiB], ['DATADISK', 4 * GiB]]);
    expect(vm.nics.map((n) => [n.deviceId, n.macAddress])).toEqual([[0, '52:54:00:aa:00:01'], [1, '52:54:00:aa:00:02']]);
    expect(vm.volumes.map((v) => h.simulator.diskSize(v.id))).toEqual([8 * GiB, 4 * GiB]);
    expect(h.secrets.size).toBe(before);
    const { nodes } = await actionEvents(h.admin, vm.id);
    expect(nodes.map((e) => e.type)).toContain('VM.IMPORT');
    const usage = (await usageEvents(h.admin)).nodes.filter((e) => e.resourceId === vm.id || vm.volumes.some((v) => v.id === e.resourceId)).map((e) => e.type);
    expect(usage.sort()).toEqual(['VM.CREATE', 'VOLUME.CREATE', 'VOLUME.CREATE']);
  });

  it('given the imported VM, when started, then it runs on the zone\'s host from its copied disks', async () => {
    const { virtualMachines } = await h.admin.request<{ virtualMachines: { nodes: Array<{ id: string; name: string }> } }>(`{ virtualMachines(first: 100) { nodes { id name } } }`);
    const vm = virtualMachines.nodes.find((node) => node.name === 'legacy-db')!;
    const { startVirtualMachine } = await h.admin.request<{ startVirtualMachine: { id: string } }>(`mutation($id: ID!) { startVirtualMachine(id: $id) { id } }`, { id: vm.id });
    const started = await h.waitForJob(h.admin, startVirtualMachine.id);
    expect(started.status).toBe('SUCCEEDED');
    const { virtualMachine } = await h.admin.request<{ virtualMachine: { state: string; hostId: string } }>(`query($id: ID!) { virtualMachine(id: $id) { state hostId } }`, { id: vm.id });
    expect(virtualMachine).toEqual({ state: 'Running', hostId: zone.hostId });
  });

  it('given an imported VM that never started, when it is expunged, then its copied disks are deleted from the host, and a redelivered destruction finds nothing left to do', async () => {
    const job = await run({ ...base(), host: '10.9.0.8:2222', name: 'alt', hostName: 'alt-idle' });
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    const vm = job.result!;
    expect(vm.volumes.map((v) => h.simulator.diskSize(v.id))).toEqual([GiB]);
    const { destroyVirtualMachine } = await h.admin.request<{ destroyVirtualMachine: { id: string } }>(`mutation($id: ID!) { destroyVirtualMachine(id: $id, expunge: true) { id } }`, { id: vm.id });
    const gone = await h.waitForJob(h.admin, destroyVirtualMachine.id);
    expect(gone.status, JSON.stringify(gone.error)).toBe('SUCCEEDED');
    expect(vm.volumes.map((v) => h.simulator.diskSize(v.id))).toEqual([undefined]);
    // The orchestrator or the agent restarted mid-expunge: the same signed command runs again.
    const volumes = vm.volumes.map((v) => ({ volumeId: v.id, type: v.type as 'ROOT', size: v.size, templateId: zone.templateId, imported: true as const }));
    await expect(h.simulator.host(zone.hostId)!.destroyDomain({ instanceId: vm.id, instanceName: vm.instanceName }, volumes)).resolves.toBeUndefined();
    expect(vm.volumes.map((v) => h.simulator.diskSize(v.id))).toEqual([undefined]);
  });

  it('given a copy the destination host refuses, then the job fails with CloudStack\'s message, leaving no instance, no volume and no secret', async () => {
    // A domain of the VM's name already defined on the destination host: the copy is refused there.
    h.simulator.addExternalHost('10.9.0.9', {
      username: 'ops',
      password: PASSWORD,
      domains: [{ name: 'clash', running: false, cpuNumber: 1, memory: 512, disks: [{ capacity: GiB, path: '/srv/vm/clash.qcow2' }], nics: [] }],
    });
    h.simulator.host(zone.hostId)!.addUnmanagedDomain({ name: 'clash', running: false, cpuNumber: 1, memory: 512, disks: [{ capacity: GiB }], nics: [] });
    const before = h.secrets.size;
    const job = await run({ ...base(), host: '10.9.0.9', name: 'clash' });
    expect(job.status).toBe('FAILED');
    expect(job.error?.message).toBe(`Failed to import volumes while importing vm: clash. Failed to copy volume due to: a domain named clash is already defined on host ${zone.hostId}`);
    expect((job.result?.volumes ?? []).map((v) => h.simulator.diskSize(v.id))).toEqual((job.result?.volumes ?? []).map(() => undefined));
    const { virtualMachines } = await h.admin.request<{ virtualMachines: { nodes: Array<{ name: string }> } }>(`{ virtualMachines(first: 100) { nodes { name } } }`);
    expect(virtualMachines.nodes.map((node) => node.name)).not.toContain('clash');
    expect(h.secrets.size).toBe(before);
  });
});

describe('importVm refusals (behaviour §4.6), each appending nothing and keeping no secret', () => {
  const base = () => ({ zoneId: zone.zoneId, importSource: 'EXTERNAL', host: '10.9.0.10', username: 'ops', password: PASSWORD, templateId: zone.templateId, name: 'legacy-two' });
  let offering: string;
  beforeAll(async () => {
    h.simulator.addExternalHost('10.9.0.10', {
      username: 'ops',
      password: PASSWORD,
      domains: [{ name: 'legacy-two', running: false, cpuNumber: 1, memory: 512, disks: [{ capacity: GiB }, { capacity: GiB }], nics: [{ mac: '52:54:00:aa:00:10' }] }],
    });
    offering = (await h.admin.request<{ createServiceOffering: { id: string } }>(`mutation { createServiceOffering(name: "ext-refuse", cpuNumber: 1, cpuSpeed: 1000, memory: 1024) { id } }`)).createServiceOffering.id;
  });
  const cases: Array<{ when: string; variables: () => Record<string, unknown>; code: string; message: RegExp }> = [
    { when: 'the zone is unknown', variables: () => ({ ...base(), serviceOfferingId: offering, zoneId: '00000000-0000-4000-8000-000000000000' }), code: 'BAD_USER_INPUT', message: /^Please specify a valid zone\.$/ },
    { when: 'the name is empty', variables: () => ({ ...base(), serviceOfferingId: offering, name: ' ' }), code: 'BAD_USER_INPUT', message: /^Instance name cannot be empty$/ },
    { when: 'there is no template', variables: () => ({ ...base(), serviceOfferingId: offering, templateId: null }), code: 'BAD_USER_INPUT', message: /^Template is needed/ },
    { when: 'the offering is unknown', variables: () => ({ ...base(), serviceOfferingId: '00000000-0000-4000-8000-000000000001' }), code: 'BAD_USER_INPUT', message: /^Service offering ID: .* cannot be found$/ },
    { when: 'the name is no hostname and none is given', variables: () => ({ ...base(), serviceOfferingId: offering, name: 'bad_name' }), code: 'BAD_USER_INPUT', message: /^Please provide hostname for the VM\. VM name contains unsupported characters/ },
    { when: 'the hostname is invalid', variables: () => ({ ...base(), serviceOfferingId: offering, hostName: '-x' }), code: 'BAD_USER_INPUT', message: /^Invalid VM hostname\./ },
    { when: 'the username is blank', variables: () => ({ ...base(), serviceOfferingId: offering, username: '' }), code: 'BAD_USER_INPUT', message: /^Username need to be provided\.$/ },
    { when: 'the password is missing', variables: () => ({ ...base(), serviceOfferingId: offering, password: null }), code: 'BAD_USER_INPUT', message: /^Password need to be provided\.$/ },
    { when: 'the VM is not on the remote host (or runs there)', variables: () => ({ ...base(), serviceOfferingId: offering, host: '10.9.0.7', name: 'legacy-web' }), code: 'BAD_USER_INPUT', message: /^VM with name: legacy-web not found on remote host 10\.9\.0\.7$/ },
    { when: 'a data disk has no disk offering', variables: () => ({ ...base(), serviceOfferingId: offering }), code: 'BAD_USER_INPUT', message: /^VM has total 2 disks for which 0 disk offering mappings provided\. 1 disks need a disk offering for import$/ },
    { when: 'the password is wrong', variables: () => ({ ...base(), serviceOfferingId: offering, password: WRONG_PASSWORD }), code: 'INTERNAL_ERROR', message: /^Failed to list VMs, due to: Unable to connect to remote host 10\.9\.0\.10/ },
  ];
  for (const c of cases) {
    it(`when ${c.when}, then ${c.code}`, async () => {
      const head = await h.logHead();
      const held = h.secrets.size;
      const error = await gqlError(h.admin.request(IMPORT, c.variables()));
      expect(error.extensions?.['code']).toBe(c.code);
      expect(error.message).toMatch(c.message);
      expect(await h.logHead()).toBe(head);
      expect(h.secrets.size).toBe(held);
      expect(error.message.includes(PASSWORD) || error.message.includes(WRONG_PASSWORD)).toBe(false);
    });
  }
});

describe('after every import above, the passwords are nowhere (issue 16 item 5)', () => {
  it('then no event, logged error or job error holds either password, and the secrets port holds none of them', async () => {
    const events = JSON.stringify(await h.store.readAll());
    const logged = h.loggedErrors.map((entry) => `${entry.message} ${entry.error instanceof Error ? `${entry.error.message} ${entry.error.stack ?? ''}` : String(entry.error)}`).join('\n');
    const { asyncJobs } = await h.admin.request<{ asyncJobs: { nodes: Array<{ error: { message: string } | null }> } }>(`{ asyncJobs(first: 200) { nodes { error { message } } } }`);
    for (const secret of [PASSWORD, WRONG_PASSWORD]) {
      expect(events.includes(secret), 'an event holds the password').toBe(false);
      expect(logged.includes(secret), 'a logged error holds the password').toBe(false);
      expect(JSON.stringify(asyncJobs).includes(secret), 'a job error holds the password').toBe(false);
    }
    expect(events).toContain('passwordRef');
    expect(h.secrets.size).toBe(0);
  });
});
