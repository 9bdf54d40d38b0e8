// Unmanaged instances on managed hosts, through GraphQL on the simulator (issue 16 items 1 and 2;
// behaviour §4.4, §4.5, §4.8): a domain defined on a host by hand is listed, imported with its MACs
// and power state kept, unmanaged back into a domain the host keeps (its VM snapshots deleted
// first), and imported again with its history linked; every refusal answers with CloudStack's words and appends nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLClient } from 'graphql-request';
import { DEMO_UNMANAGED_DOMAIN } from '../../api/control-plane/demo.js';
import { actionEvents, addSmallZone, deployed, gqlError, runJob, setConfiguration, startHarness, usageEvents, type Harness, type Job, type SmallZone } from './harness.js';

const GiB = 1024 ** 3;

const NIC_FIELDS = 'id networkId macAddress ipAddress isDefault deviceId';
const IMPORTED_VM = `id name displayName instanceName state hostId lastHostId serviceOfferingId cpuNumber cpuSpeed memory
  nics { ${NIC_FIELDS} } volumes { id name type size state }`;
const JOB = `id cmd status instanceId error { code errorCode message } result { ${IMPORTED_VM} }`;

interface ImportedVm {
  id: string;
  name: string;
  displayName: string;
  instanceName: string;
  state: string;
  hostId: string | null;
  lastHostId: string | null;
  serviceOfferingId: string;
  cpuNumber: number;
  cpuSpeed: number;
  memory: number;
  nics: Array<{ id: string; networkId: string; macAddress: string; ipAddress: string | null; isDefault: boolean; deviceId: number }>;
  volumes: Array<{ id: string; name: string; type: string; size: number; state: string }>;
}
type ImportJob = Omit<Job, 'result'> & { result: ImportedVm | null };

interface Listed {
  name: string;
  hostId: string;
  clusterId: string;
  powerState: string;
  cpuNumber: number;
  cpuSpeed: number;
  memory: number;
  disks: Array<{ id: string; capacity: number | null; controller: string; imagePath: string | null; position: number; datastoreName: string | null }>;
  nics: Array<{ id: string; macAddress: string; networkName: string | null; vlanId: number | null; pciSlot: number | null; adapterType: string | null }>;
}

const LIST = `query($clusterId: ID!, $hostId: ID, $name: String) { unmanagedInstances(clusterId: $clusterId, hostId: $hostId, name: $name) { totalCount nodes {
  name hostId clusterId powerState cpuNumber cpuSpeed cpuCoresPerSocket memory osDisplayName
  disks { id capacity controller controllerUnit imagePath position datastoreName }
  nics { id macAddress networkName vlanId pciSlot adapterType ipAddress } } } }`;

const IMPORT = `mutation($clusterId: ID!, $name: String!, $serviceOfferingId: ID!, $templateId: ID, $displayName: String, $hostName: String,
  $account: String, $domainId: ID, $nicNetworkList: [NicNetworkInput!], $nicIpAddressList: [NicIpAddressInput!],
  $dataDiskOfferingList: [DataDiskOfferingInput!], $details: JSON, $forced: Boolean) {
  importUnmanagedInstance(clusterId: $clusterId, name: $name, serviceOfferingId: $serviceOfferingId, templateId: $templateId,
    displayName: $displayName, hostName: $hostName, account: $account, domainId: $domainId, nicNetworkList: $nicNetworkList,
    nicIpAddressList: $nicIpAddressList, dataDiskOfferingList: $dataDiskOfferingList, details: $details, forced: $forced) { ${JOB} } }`;

const UNMANAGE = `mutation($id: ID!) { unmanageVirtualMachine(id: $id) { ${JOB} } }`;

let h: Harness;
let zone: SmallZone;
let fixed: string; // 2 × 1000 MHz, 2048 MiB
let small: string; // 1 × 500 MHz, 512 MiB
let custom: string;
let tenGiB: string;
let oneGiB: string;

async function list(c: GraphQLClient, args: { clusterId: string; hostId?: string; name?: string }): Promise<Listed[]> {
  const { unmanagedInstances } = await c.request<{ unmanagedInstances: { nodes: Listed[]; totalCount: number } }>(LIST, args);
  expect(unmanagedInstances.totalCount).toBe(unmanagedInstances.nodes.length);
  return unmanagedInstances.nodes;
}

async function importVm(variables: Record<string, unknown>): Promise<ImportJob> {
  const { importUnmanagedInstance } = await h.admin.request<{ importUnmanagedInstance: ImportJob }>(IMPORT, {
    clusterId: zone.clusterId,
    templateId: zone.templateId,
    ...variables,
  });
  return (await h.waitForJob(h.admin, importUnmanagedInstance.id)) as unknown as ImportJob;
}

async function unmanage(id: string): Promise<ImportJob> {
  const { unmanageVirtualMachine } = await h.admin.request<{ unmanageVirtualMachine: ImportJob }>(UNMANAGE, { id });
  return (await h.waitForJob(h.admin, unmanageVirtualMachine.id)) as unknown as ImportJob;
}

/** Takes a memory snapshot of a running instance and waits for it; returns its id. */
async function snapshot(vmId: string, name: string): Promise<string> {
  const { createVMSnapshot } = await h.admin.request<{ createVMSnapshot: { id: string; resourceId: string } }>(
    `mutation($vm: ID!, $name: String) { createVMSnapshot(virtualMachineId: $vm, name: $name, snapshotMemory: true) { id resourceId } }`,
    { vm: vmId, name },
  );
  const job = await h.waitForJob(h.admin, createVMSnapshot.id);
  expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
  return createVMSnapshot.resourceId;
}

/** The listed snapshot with this id: none once it is deleted. */
async function snapshotsWith(id: string): Promise<Array<{ id: string; state: string }>> {
  const { vmSnapshots } = await h.admin.request<{ vmSnapshots: { nodes: Array<{ id: string; state: string }> } }>(`query($id: ID) { vmSnapshots(id: $id) { nodes { id state } } }`, { id });
  return vmSnapshots.nodes;
}

/** A full job's instance, as asyncJob's result shows it (waitForJob reads the harness's fields). */
async function jobVm(id: string): Promise<ImportedVm> {
  const { asyncJob } = await h.admin.request<{ asyncJob: ImportJob }>(`query($id: ID!) { asyncJob(id: $id) { ${JOB} } }`, { id });
  if (!asyncJob.result) throw new Error(`job ${id} has no result: ${JSON.stringify(asyncJob.error)}`);
  return asyncJob.result;
}

function defineByHand(name: string, options: { running: boolean; cpuNumber: number; memory: number; macs: string[]; vlan?: number; disks?: number[] }): void {
  h.simulator.host(zone.hostId)!.addUnmanagedDomain({
    name,
    running: options.running,
    cpuNumber: options.cpuNumber,
    cpuSpeed: 1000,
    memory: options.memory,
    disks: (options.disks ?? [8 * GiB]).map((capacity) => ({ capacity })),
    nics: options.macs.map((mac) => ({ mac, vlan: options.vlan ?? 300 })),
  });
}

async function usageOf(resourceIds: readonly string[]): Promise<string[]> {
  const { nodes } = await usageEvents(h.admin);
  return nodes.filter((event) => resourceIds.includes(event.resourceId)).map((event) => event.type);
}

beforeAll(async () => {
  h = await startHarness();
  zone = await addSmallZone(h, 'imp', {});
  const offering = async (fields: string) =>
    (await h.admin.request<{ createServiceOffering: { id: string } }>(`mutation { createServiceOffering(${fields}) { id } }`)).createServiceOffering.id;
  fixed = await offering('name: "imp-fixed", cpuNumber: 2, cpuSpeed: 1000, memory: 2048');
  small = await offering('name: "imp-small", cpuNumber: 1, cpuSpeed: 500, memory: 512');
  custom = await offering('name: "imp-custom", customized: true, cpuSpeed: 1000, minCpuNumber: 1, maxCpuNumber: 8, minMemory: 512, maxMemory: 8192');
  const disk = async (name: string, size: number) => // GiB
    (await h.admin.request<{ createDiskOffering: { id: string } }>(`mutation($name: String!, $size: Float) { createDiskOffering(name: $name, diskSize: $size) { id } }`, { name, size })).createDiskOffering.id;
  tenGiB = await disk('imp-10g', 10);
  oneGiB = await disk('imp-1g', 1);
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

describe('unmanagedInstances', () => {
  it('lists the domains of the cluster vmledger does not manage, running and stopped, with their devices', async () => {
    defineByHand('list-on', { running: true, cpuNumber: 2, memory: 2048, macs: ['52:54:00:10:00:01'], disks: [8 * GiB, 2 * GiB] });
    defineByHand('list-off', { running: false, cpuNumber: 4, memory: 4096, macs: ['52:54:00:10:00:02'] });
    const listed = await list(h.admin, { clusterId: zone.clusterId });
    const on = listed.find((vm) => vm.name === 'list-on');
    expect(on).toMatchObject({ hostId: zone.hostId, clusterId: zone.clusterId, powerState: 'PowerOn', cpuNumber: 2, cpuSpeed: 1000, memory: 2048 });
    expect(on!.disks.map((d) => [d.id, d.capacity, d.controller, d.position])).toEqual([
      ['0', 8 * GiB, 'virtio', 0],
      ['1', 2 * GiB, 'virtio', 1],
    ]);
    expect(on!.nics[0]).toMatchObject({ id: '0', macAddress: '52:54:00:10:00:01', vlanId: 300, adapterType: 'virtio' });
    expect(listed.find((vm) => vm.name === 'list-off')?.powerState).toBe('PowerOff');
    // The instances vmledger manages on the host are not among them.
    expect(listed.every((vm) => vm.name.startsWith('list-') || !vm.name.startsWith('i-'))).toBe(true);
    expect((await list(h.admin, { clusterId: zone.clusterId, name: 'list-off' })).map((vm) => vm.name)).toEqual(['list-off']);
    expect(await list(h.admin, { clusterId: zone.clusterId, hostId: zone.hostId, name: 'nothing-here' })).toEqual([]);
  });

  it.each([
    ['a user', async () => (await h.createUser('imp-user')).client, {}, 'FORBIDDEN', 'is not ROOT Admin'],
    ['an unknown cluster', async () => h.admin, { clusterId: '00000000-0000-4000-8000-000000000000' }, 'BAD_USER_INPUT', 'Cluster with ID [00000000-0000-4000-8000-000000000000] cannot be found.'],
    ['a host of another cluster', async () => h.admin, { hostId: '00000000-0000-4000-8000-000000000000' }, 'BAD_USER_INPUT', 'Unable to find host'],
  ] as const)('is refused for %s', async (_what, client, args, code, message) => {
    const error = await gqlError((await client()).request(LIST, { clusterId: zone.clusterId, ...args }));
    expect(error.extensions?.code).toBe(code);
    expect(error.message).toContain(message);
  });
});

describe('importUnmanagedInstance', () => {
  it('imports a running domain: Running on its host, MACs kept, the usage of a deployment and a start, VM.IMPORT', async () => {
    defineByHand('web-legacy', { running: true, cpuNumber: 2, memory: 2048, macs: ['52:54:00:20:00:01'], disks: [8 * GiB, 2 * GiB] });
    const job = await importVm({ name: 'web-legacy', serviceOfferingId: fixed, dataDiskOfferingList: [{ disk: '1', diskOffering: tenGiB }] });
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    const vm = await jobVm(job.id);
    expect(vm).toMatchObject({ name: 'web-legacy', instanceName: 'web-legacy', state: 'Running', hostId: zone.hostId, lastHostId: null, cpuNumber: 2, memory: 2048 });
    expect(vm.nics.map((nic) => [nic.macAddress, nic.networkId, nic.isDefault])).toEqual([['52:54:00:20:00:01', zone.networkId, true]]);
    expect(vm.volumes.map((v) => [v.type, v.size, v.state])).toEqual([
      ['ROOT', 8 * GiB, 'Ready'],
      ['DATADISK', 2 * GiB, 'Ready'],
    ]);
    expect(await usageOf([vm.id, ...vm.volumes.map((v) => v.id)])).toEqual(['VM.CREATE', 'VOLUME.CREATE', 'VOLUME.CREATE', 'NETWORK.OFFERING.ASSIGN', 'VM.START']);
    expect((await actionEvents(h.admin, vm.id, 'VM.IMPORT')).nodes.map((e) => e.description)).toEqual([
      expect.stringContaining('Importing unmanaged instance web-legacy'),
      expect.stringContaining('Imported instance, Running'),
    ]);
    // It is vmledger's now: no longer offered, and the host's domain carries its record.
    expect((await list(h.admin, { clusterId: zone.clusterId })).map((d) => d.name)).not.toContain('web-legacy');
    const stop = await h.admin.request<{ stopVirtualMachine: { id: string } }>(`mutation($id: ID!) { stopVirtualMachine(id: $id, forced: true) { id } }`, { id: vm.id });
    expect((await h.waitForJob(h.admin, stop.stopVirtualMachine.id)).status).toBe('SUCCEEDED');
    expect(h.simulator.host(zone.hostId)!.powerStateOf('web-legacy')).toBe('stopped');
  });

  it('imports a stopped domain with any fixed offering: Stopped, its host its last host, no VM.START', async () => {
    defineByHand('db-off', { running: false, cpuNumber: 4, memory: 4096, macs: ['52:54:00:20:00:02'] });
    const job = await importVm({ name: 'db-off', serviceOfferingId: small, hostName: 'db-one', displayName: 'Database' });
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    const vm = await jobVm(job.id);
    expect(vm).toMatchObject({ name: 'db-one', displayName: 'Database', state: 'Stopped', hostId: null, lastHostId: zone.hostId, cpuNumber: 1, memory: 512 });
    expect(await usageOf([vm.id, ...vm.volumes.map((v) => v.id)])).toEqual(['VM.CREATE', 'VOLUME.CREATE']);
  });

  it('gives a custom offering the running domain\'s size', async () => {
    defineByHand('custom-on', { running: true, cpuNumber: 3, memory: 3072, macs: ['52:54:00:20:00:03'] });
    const job = await importVm({ name: 'custom-on', serviceOfferingId: custom });
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    expect(await jobVm(job.id)).toMatchObject({ state: 'Running', cpuNumber: 3, cpuSpeed: 1000, memory: 3072 });
  });

  it('imports the demo\'s unmanaged domain as docs/api.md tells', async () => {
    h.simulator.host(h.demo.hostIds[0]!)!.addUnmanagedDomain(DEMO_UNMANAGED_DOMAIN);
    const job = await importVm({
      clusterId: h.demo.clusterId,
      templateId: h.demo.templateId,
      name: 'legacy-app',
      serviceOfferingId: h.demo.serviceOfferingIds.small,
      dataDiskOfferingList: [{ disk: '1', diskOffering: h.demo.diskOfferingIds.small }],
    });
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    const vm = await jobVm(job.id);
    expect(vm).toMatchObject({ name: 'legacy-app', state: 'Running', hostId: h.demo.hostIds[0] });
    expect(vm.nics.map((nic) => [nic.networkId, nic.macAddress])).toEqual([[h.demo.networkIds.l2, '52:54:00:de:40:01']]);
  });

  it('with forced, gives a NIC whose MAC another holds on the network a new MAC', async () => {
    defineByHand('mac-twin', { running: false, cpuNumber: 1, memory: 512, macs: ['52:54:00:20:00:02'] });
    const job = await importVm({ name: 'mac-twin', serviceOfferingId: small, forced: true });
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    const mac = (await jobVm(job.id)).nics[0]!.macAddress;
    expect(mac).not.toBe('52:54:00:20:00:02');
    expect(mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
  });

  describe('refusals (nothing is appended)', () => {
    beforeAll(() => {
      defineByHand('refuse-on', { running: true, cpuNumber: 2, memory: 2048, macs: ['52:54:00:30:00:01'], disks: [8 * GiB, 2 * GiB] });
      defineByHand('refuse-twin', { running: false, cpuNumber: 1, memory: 512, macs: ['52:54:00:20:00:01'] });
      defineByHand('refuse-vlan', { running: false, cpuNumber: 1, memory: 512, macs: ['52:54:00:30:00:03'], vlan: 999 });
      defineByHand('refuse_host', { running: false, cpuNumber: 1, memory: 512, macs: ['52:54:00:30:00:04'] });
    });
    const disk1 = (offering: () => string) => () => ({ dataDiskOfferingList: [{ disk: '1', diskOffering: offering() }] });
    const cases: ReadonlyArray<readonly [string, () => Record<string, unknown>, string, string]> = [
      ['an empty name', () => ({ name: ' ', serviceOfferingId: fixed }), 'BAD_USER_INPUT', 'Instance name cannot be empty'],
      ['domainId without account', () => ({ name: 'refuse-on', serviceOfferingId: fixed, domainId: zone.zoneId }), 'BAD_USER_INPUT', 'domainid parameter must be specified with account parameter'],
      ['an unknown cluster', () => ({ name: 'refuse-on', serviceOfferingId: fixed, clusterId: '00000000-0000-4000-8000-000000000000' }), 'BAD_USER_INPUT', 'Cluster with ID [00000000-0000-4000-8000-000000000000] cannot be found.'],
      ['no template', () => ({ name: 'refuse-on', serviceOfferingId: fixed, templateId: null }), 'BAD_USER_INPUT', 'Template is needed and unable to use default template for hypervisor KVM'],
      ['an unknown offering', () => ({ name: 'refuse-on', serviceOfferingId: '00000000-0000-4000-8000-000000000000' }), 'BAD_USER_INPUT', 'Service offering ID: 00000000-0000-4000-8000-000000000000 cannot be found'],
      ['a bad hostname', () => ({ name: 'refuse-on', serviceOfferingId: fixed, hostName: '9lives', ...disk1(() => tenGiB)() }), 'BAD_USER_INPUT', 'Invalid VM hostname.'],
      ['a display name that is no hostname', () => ({ name: 'refuse_host', serviceOfferingId: small }), 'BAD_USER_INPUT', 'Please provide a valid hostname for the VM.'],
      ['a name no host has', () => ({ name: 'nowhere', serviceOfferingId: fixed }), 'BAD_USER_INPUT', 'Failed to find unmanaged vm with name: nowhere in cluster:'],
      [
        'a running domain and a fixed offering of another size',
        () => ({ name: 'refuse-on', serviceOfferingId: small, ...disk1(() => tenGiB)() }),
        'BAD_USER_INPUT',
        'Failed to import Unmanaged VM [refuse-on] because the service offering',
      ],
      ['no disk offering for a data disk', () => ({ name: 'refuse-on', serviceOfferingId: fixed }), 'BAD_USER_INPUT', 'VM has total 2 disks for which 0 disk offering mappings provided. 1 disks need a disk offering for import'],
      ['a disk offering smaller than its disk', () => ({ name: 'refuse-on', serviceOfferingId: fixed, ...disk1(() => oneGiB)() }), 'BAD_USER_INPUT', 'is found less than the size of disk(ID: 1) 2GB during VM import'],
      ['an unknown disk offering', () => ({ name: 'refuse-on', serviceOfferingId: fixed, dataDiskOfferingList: [{ disk: '1', diskOffering: '00000000-0000-4000-8000-000000000000' }] }), 'BAD_USER_INPUT', 'Disk offering ID: 00000000-0000-4000-8000-000000000000 for disk ID: 1 is invalid'],
      ['a MAC another NIC holds on the network, not forced', () => ({ name: 'refuse-twin', serviceOfferingId: small }), 'CONFLICT', 'NIC with MAC address 52:54:00:20:00:01 exists on network'],
      ['a NIC whose VLAN no network has', () => ({ name: 'refuse-vlan', serviceOfferingId: small }), 'BAD_USER_INPUT', 'Suitable network for nic(ID: 0) not found during VM import'],
      [
        'an unknown network for a NIC',
        () => ({ name: 'refuse-vlan', serviceOfferingId: small, nicNetworkList: [{ nic: '0', network: '00000000-0000-4000-8000-000000000000' }] }),
        'BAD_USER_INPUT',
        'Network ID: 00000000-0000-4000-8000-000000000000 for NIC ID: 0 is invalid',
      ],
      ['an IP address that is none', () => ({ name: 'refuse-vlan', serviceOfferingId: small, nicIpAddressList: [{ nic: '0', ip4Address: '10.0.0.300' }] }), 'BAD_USER_INPUT', "IP address '10.0.0.300' for NIC ID: 0 is invalid"],
    ];
    it.each(cases)('%s', async (_what, variables, code, message) => {
      const before = await h.logHead();
      const error = await gqlError(h.admin.request(IMPORT, { clusterId: zone.clusterId, templateId: zone.templateId, ...variables() }), h);
      expect(error.extensions?.code).toBe(code);
      expect(error.message).toContain(message);
      expect(await h.logHead()).toBe(before);
    });

    it('by a user', async () => {
      const user = await h.createUser('imp-importer');
      const error = await gqlError(user.client.request(IMPORT, { clusterId: zone.clusterId, templateId: zone.templateId, name: 'refuse-twin', serviceOfferingId: small }));
      expect(error.extensions?.code).toBe('FORBIDDEN');
    });
  });
});

describe('unmanageVirtualMachine', () => {
  it('a running instance leaves every list with its usage once; its domain runs on, is offered again, and its import links the history', async () => {
    defineByHand('round-trip', { running: true, cpuNumber: 2, memory: 2048, macs: ['52:54:00:40:00:01'], disks: [8 * GiB, 2 * GiB] });
    const imported = await jobVm((await importVm({ name: 'round-trip', serviceOfferingId: fixed, dataDiskOfferingList: [{ disk: '1', diskOffering: tenGiB }] })).id);
    const job = await unmanage(imported.id);
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    const { virtualMachine } = await h.admin.request<{ virtualMachine: unknown }>(`query($id: ID!) { virtualMachine(id: $id) { id } }`, { id: imported.id });
    expect(virtualMachine).toBeNull();
    const { virtualMachines } = await h.admin.request<{ virtualMachines: { nodes: Array<{ id: string }> } }>(`{ virtualMachines(first: 500) { nodes { id } } }`);
    expect(virtualMachines.nodes.map((vm) => vm.id)).not.toContain(imported.id);
    const resources = [imported.id, ...imported.volumes.map((v) => v.id)];
    expect((await usageOf(resources)).slice(5)).toEqual(['VOLUME.DELETE', 'VOLUME.DELETE', 'NETWORK.OFFERING.REMOVE', 'VM.STOP', 'VM.DESTROY']);
    expect(h.simulator.host(zone.hostId)!.powerStateOf('round-trip')).toBe('running');
    const offered = (await list(h.admin, { clusterId: zone.clusterId, name: 'round-trip' }))[0];
    expect(offered).toMatchObject({ powerState: 'PowerOn', cpuNumber: 2, memory: 2048 });
    expect(offered!.nics.map((nic) => nic.macAddress)).toEqual(['52:54:00:40:00:01']);
    expect(offered!.disks.map((d) => d.capacity)).toEqual([8 * GiB, 2 * GiB]);

    // Back again: a new instance, same MAC (the NIC was given back), whose first event names the old one.
    const again = await importVm({ name: 'round-trip', serviceOfferingId: fixed, dataDiskOfferingList: [{ disk: '1', diskOffering: tenGiB }] });
    expect(again.status, JSON.stringify(again.error)).toBe('SUCCEEDED');
    const back = await jobVm(again.id);
    expect(back.id).not.toBe(imported.id);
    expect(back).toMatchObject({ state: 'Running', hostId: zone.hostId });
    expect(back.nics[0]!.macAddress).toBe('52:54:00:40:00:01');
    const first = (await actionEvents(h.admin, back.id)).nodes[0]!;
    expect(first).toMatchObject({ type: 'VM.IMPORT' });
    expect(first.description).toContain(`it was instance ${imported.id} before it was unmanaged`);
  });

  it('a stopped instance: VOLUME.DELETE then VM.DESTROY, no VM.STOP; its domain stays defined, stopped, on its last host', async () => {
    defineByHand('stopped-trip', { running: false, cpuNumber: 1, memory: 512, macs: ['52:54:00:40:00:02'] });
    const imported = await jobVm((await importVm({ name: 'stopped-trip', serviceOfferingId: small })).id);
    const job = await unmanage(imported.id);
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    expect((await usageOf([imported.id, ...imported.volumes.map((v) => v.id)])).slice(2)).toEqual(['VOLUME.DELETE', 'VM.DESTROY']);
    expect((await list(h.admin, { clusterId: zone.clusterId, name: 'stopped-trip' }))[0]?.powerState).toBe('PowerOff');
    const again = await importVm({ name: 'stopped-trip', serviceOfferingId: small });
    expect(await jobVm(again.id)).toMatchObject({ state: 'Stopped', lastHostId: zone.hostId });
  });

  it('an instance vmledger deployed, stopped and unmanaged, comes back Stopped under its vmledger name, on its own disk, and starts', async () => {
    const original = await deployed(h, h.admin, { zoneId: zone.zoneId, serviceOfferingId: small, templateId: zone.templateId, name: 'made-here' });
    expect((await runJob(h, h.admin, `mutation($id: ID!) { stopVirtualMachine(id: $id, forced: true) { id } }`, { id: original.id })).status).toBe('SUCCEEDED');
    const before = await jobVm((await runJob(h, h.admin, `mutation($id: ID!) { startVirtualMachine(id: $id) { id } }`, { id: original.id })).id);
    await runJob(h, h.admin, `mutation($id: ID!) { stopVirtualMachine(id: $id, forced: true) { id } }`, { id: original.id });
    expect((await unmanage(original.id)).status).toBe('SUCCEEDED');
    const name = original.instanceName!;
    expect((await list(h.admin, { clusterId: zone.clusterId, name }))[0]).toMatchObject({ powerState: 'PowerOff', cpuNumber: 1, memory: 512 });
    const again = await importVm({ name, serviceOfferingId: small, hostName: 'made-here' });
    expect(again.status, JSON.stringify(again.error)).toBe('SUCCEEDED');
    const back = await jobVm(again.id);
    expect(back).toMatchObject({ instanceName: name, state: 'Stopped', lastHostId: zone.hostId });
    expect(back.nics.map((nic) => nic.macAddress)).toEqual(before.nics.map((nic) => nic.macAddress));
    const started = await runJob(h, h.admin, `mutation($id: ID!) { startVirtualMachine(id: $id) { id } }`, { id: back.id });
    expect(started.status, JSON.stringify(started.error)).toBe('SUCCEEDED');
    expect(h.simulator.host(zone.hostId)!.powerStateOf(name)).toBe('running');
  });

  it('deletes the instance\'s VM snapshots on its host first, each closing its usage once, before VM.DESTROY', async () => {
    const vm = await deployed(h, h.admin, { zoneId: zone.zoneId, serviceOfferingId: small, templateId: zone.templateId, name: 'snap-unmanage' });
    const snapshots = [await snapshot(vm.id, 'first'), await snapshot(vm.id, 'second')];
    const host = h.simulator.host(zone.hostId)!;
    expect((await host.listDomainSnapshots(vm.instanceName!)).length).toBe(2);
    const job = await unmanage(vm.id);
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    for (const id of snapshots) expect(await snapshotsWith(id)).toEqual([]);
    const usage = (await usageEvents(h.admin)).nodes.filter((u) => u.resourceId === vm.id || vm.volumes.some((v) => v.id === u.resourceId));
    const types = usage.map((u) => u.type);
    for (const id of snapshots) {
      const closed = usage.filter((u) => (u.details as { vmSnapshotId?: string } | null)?.vmSnapshotId === id).map((u) => u.type);
      expect(closed).toEqual(['VMSNAPSHOT.CREATE', 'VMSNAPSHOT.ON_PRIMARY', 'VMSNAPSHOT.DELETE', 'VMSNAPSHOT.OFF_PRIMARY']);
    }
    // The snapshots' usage closes before the instance's own: VOLUME.DELETE, ..., VM.DESTROY once.
    expect(types.lastIndexOf('VMSNAPSHOT.OFF_PRIMARY')).toBeLessThan(types.indexOf('VOLUME.DELETE'));
    expect(types.filter((t) => t === 'VM.DESTROY')).toHaveLength(1);
    expect(types.at(-1)).toBe('VM.DESTROY');
    const events = (await actionEvents(h.admin, vm.id)).nodes.map((e) => `${e.type}: ${e.description}`);
    expect(events).toContain("VMSNAPSHOT.DELETE: deleting the instance's VM snapshots (2) before it is unmanaged");
    // The domain runs on, its snapshot metadata naming none of the snapshots whose usage was closed.
    expect(host.powerStateOf(vm.instanceName!)).toBe('running');
    expect(await host.listDomainSnapshots(vm.instanceName!)).toEqual([]);
  });

  it('fails when the host cannot delete a snapshot: the instance stays managed with its snapshots, and unmanages once the host works', async () => {
    const vm = await deployed(h, h.admin, { zoneId: zone.zoneId, serviceOfferingId: small, templateId: zone.templateId, name: 'snap-stays' });
    const snapshots = [await snapshot(vm.id, 'kept-1'), await snapshot(vm.id, 'kept-2')];
    const host = h.simulator.host(zone.hostId)!;
    host.setFaults(['SNAPSHOT']);
    let failed: ImportJob;
    try {
      failed = await unmanage(vm.id);
    } finally {
      host.setFaults([]);
    }
    expect(failed.status).toBe('FAILED');
    expect(failed.error?.message).toContain('Unable to delete vm snapshots for snap-stays, so it was not unmanaged and stays managed');
    expect(failed.error?.message).toContain('simulated SNAPSHOT failure');
    const { virtualMachine } = await h.admin.request<{ virtualMachine: { state: string } | null }>(`query($id: ID!) { virtualMachine(id: $id) { state } }`, { id: vm.id });
    expect(virtualMachine).toEqual({ state: 'Running' });
    expect((await snapshotsWith(snapshots[0]!)).map((s) => s.state)).toEqual(['Ready']);
    expect((await snapshotsWith(snapshots[1]!)).map((s) => s.state)).toEqual(['Error']);
    expect(await host.listDomainSnapshots(vm.instanceName!)).toHaveLength(2);
    expect((await usageEvents(h.admin)).nodes.filter((u) => u.resourceId === vm.id).map((u) => u.type)).not.toContain('VMSNAPSHOT.DELETE');

    const again = await unmanage(vm.id);
    expect(again.status, JSON.stringify(again.error)).toBe('SUCCEEDED');
    expect(await host.listDomainSnapshots(vm.instanceName!)).toEqual([]);
    const deletes = (await usageEvents(h.admin)).nodes.filter((u) => u.resourceId === vm.id && u.type === 'VMSNAPSHOT.DELETE');
    expect(deletes.map((u) => (u.details as { vmSnapshotId?: string }).vmSnapshotId).sort()).toEqual([...snapshots].sort());
  });

  it('with unmanage.vm.preserve.nics the NICs keep their MACs allocated', async () => {
    defineByHand('keep-nics', { running: false, cpuNumber: 1, memory: 512, macs: ['52:54:00:40:00:03'] });
    const imported = await jobVm((await importVm({ name: 'keep-nics', serviceOfferingId: small })).id);
    await setConfiguration(h, 'unmanage.vm.preserve.nics', 'true');
    try {
      expect((await unmanage(imported.id)).status).toBe('SUCCEEDED');
    } finally {
      await setConfiguration(h, 'unmanage.vm.preserve.nics', 'false');
    }
    const error = await gqlError(h.admin.request(IMPORT, { clusterId: zone.clusterId, templateId: zone.templateId, name: 'keep-nics', serviceOfferingId: small }), h);
    expect(error.extensions?.code).toBe('CONFLICT');
    expect(error.message).toContain('NIC with MAC address 52:54:00:40:00:03 exists on network');
  });

  it.each([
    ['an unknown instance', async () => ({ client: h.admin, id: '00000000-0000-4000-8000-000000000000' }), 'BAD_USER_INPUT', 'Could not find VM to unmanage, it is either removed or not existing VM'],
    [
      'a destroyed instance',
      async () => {
        defineByHand('gone-soon', { running: false, cpuNumber: 1, memory: 512, macs: ['52:54:00:40:00:04'] });
        const vm = await jobVm((await importVm({ name: 'gone-soon', serviceOfferingId: small })).id);
        const destroy = await h.admin.request<{ destroyVirtualMachine: { id: string } }>(`mutation($id: ID!) { destroyVirtualMachine(id: $id) { id } }`, { id: vm.id });
        await h.waitForJob(h.admin, destroy.destroyVirtualMachine.id);
        return { client: h.admin, id: vm.id };
      },
      'INVALID_STATE',
      'must be running or stopped to be unmanaged',
    ],
    ['by a user', async () => ({ client: (await h.createUser('imp-unmanager')).client, id: '00000000-0000-4000-8000-000000000000' }), 'FORBIDDEN', 'is not ROOT Admin'],
  ] as const)('is refused for %s, appending nothing', async (_what, given, code, message) => {
    const { client, id } = await given();
    const before = await h.logHead();
    const error = await gqlError(client.request(UNMANAGE, { id }), h);
    expect(error.extensions?.code).toBe(code);
    expect(error.message).toContain(message);
    expect(await h.logHead()).toBe(before);
  });
});
