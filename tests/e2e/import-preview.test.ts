// importVmPreview through GraphQL on the simulator (issue 16 item 6): for importVm's arguments it
// returns the plan (the instance, each disk with its source and target pool, each NIC with its
// network, MAC and address) and every problem importVm would refuse them for, each with the code and
// message importVm gives; it appends nothing to the log and holds no secret afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSmallZone, gqlError, startHarness, type Harness, type SmallZone } from './harness.js';

const GiB = 1024 ** 3;
const PASSWORD = 'pw-preview-3c9d51e0-leak-canary';
const NOWHERE = '00000000-0000-4000-8000-000000000000';

const ARGS = `$zoneId: ID!, $importSource: ImportSource!, $name: String!, $serviceOfferingId: ID!, $displayName: String, $hostName: String,
  $account: String, $domainId: ID, $clusterId: ID, $host: String, $username: String, $password: String, $tmpPath: String, $hostId: ID,
  $diskPath: String, $storageId: ID, $networkId: ID, $templateId: ID, $nicNetworkList: [NicNetworkInput!], $nicIpAddressList: [NicIpAddressInput!],
  $dataDiskOfferingList: [DataDiskOfferingInput!], $details: JSON, $forced: Boolean`;
const PASS = `zoneId: $zoneId, importSource: $importSource, name: $name, serviceOfferingId: $serviceOfferingId, displayName: $displayName,
  hostName: $hostName, account: $account, domainId: $domainId, clusterId: $clusterId, host: $host, username: $username, password: $password,
  tmpPath: $tmpPath, hostId: $hostId, diskPath: $diskPath, storageId: $storageId, networkId: $networkId, templateId: $templateId,
  nicNetworkList: $nicNetworkList, nicIpAddressList: $nicIpAddressList, dataDiskOfferingList: $dataDiskOfferingList, details: $details, forced: $forced`;
const PREVIEW = `query(${ARGS}) { importVmPreview(${PASS}) { importSource ok
  instance { name instanceName displayName hostName accountId domainId serviceOfferingId templateId cpuNumber cpuSpeed memory state zoneId clusterId hostId }
  disks { id type sourcePath sourceFormat size controller storagePoolId diskOfferingId copied }
  nics { id networkId macAddress ipAddress isDefault }
  problems { code message field } } }`;
const IMPORT = `mutation(${ARGS}) { importVm(${PASS}) { id } }`;

interface Preview {
  importSource: string;
  ok: boolean;
  instance: Record<string, unknown> | null;
  disks: Array<Record<string, unknown>>;
  nics: Array<Record<string, unknown>>;
  problems: Array<{ code: string; message: string; field: string | null }>;
}

let h: Harness;
let zone: SmallZone;
let fixed: string; // 2 × 1000 MHz, 2048 MiB: the running domain's size
let small: string; // 1 × 500 MHz, 512 MiB
let dataOffering: string;
let poolId: string;

async function preview(variables: Record<string, unknown>): Promise<Preview> {
  return (await h.admin.request<{ importVmPreview: Preview }>(PREVIEW, variables)).importVmPreview;
}

beforeAll(async () => {
  h = await startHarness();
  zone = await addSmallZone(h, 'pv', {});
  const offering = async (name: string, cpuNumber: number, cpuSpeed: number, memory: number) =>
    (await h.admin.request<{ createServiceOffering: { id: string } }>(`mutation($name: String!, $c: Int, $s: Int, $m: Int) { createServiceOffering(name: $name, cpuNumber: $c, cpuSpeed: $s, memory: $m) { id } }`, { name, c: cpuNumber, s: cpuSpeed, m: memory })).createServiceOffering.id;
  fixed = await offering('pv-fixed', 2, 1000, 2048);
  small = await offering('pv-small', 1, 500, 512);
  dataOffering = (await h.admin.request<{ createDiskOffering: { id: string } }>(`mutation { createDiskOffering(name: "pv-data", diskSize: 10) { id } }`)).createDiskOffering.id;
  poolId = (await h.admin.request<{ storagePools: { nodes: Array<{ id: string; zoneId: string }> } }>(`{ storagePools(first: 100) { nodes { id zoneId } } }`)).storagePools.nodes.find((pool) => pool.zoneId === zone.zoneId)!.id;
  h.simulator.host(zone.hostId)!.addUnmanagedDomain({
    name: 'pv-on',
    running: true,
    cpuNumber: 2,
    cpuSpeed: 1000,
    memory: 2048,
    disks: [{ capacity: 8 * GiB }, { capacity: 2 * GiB }],
    nics: [{ mac: '52:54:00:30:00:01', vlan: 300 }],
  });
  h.simulator.addExternalHost('10.9.3.7', {
    username: 'ops',
    password: PASSWORD,
    domains: [
      {
        name: 'pv-ext',
        running: false,
        cpuNumber: 1,
        memory: 1024,
        disks: [{ capacity: 4 * GiB, path: '/srv/vm/pv-ext.qcow2' }, { capacity: GiB, path: '/srv/vm/pv-ext-data.raw' }],
        nics: [{ mac: '52:54:00:30:00:02', vlan: 300 }],
      },
    ],
  });
});

afterAll(async () => {
  await h.stop();
});

const unmanaged = () => ({ zoneId: zone.zoneId, importSource: 'UNMANAGED', clusterId: zone.clusterId, templateId: zone.templateId, name: 'pv-on', serviceOfferingId: fixed, dataDiskOfferingList: [{ disk: '1', diskOffering: dataOffering }] });
const external = () => ({
  zoneId: zone.zoneId,
  importSource: 'EXTERNAL',
  host: '10.9.3.7',
  username: 'ops',
  password: PASSWORD,
  templateId: zone.templateId,
  name: 'pv-ext',
  serviceOfferingId: small,
  dataDiskOfferingList: [{ disk: '1', diskOffering: dataOffering }],
});

describe('importVmPreview: the plan of an import that would succeed', () => {
  it('given a running domain on a managed host (UNMANAGED), then the plan is the instance Running there, its disks in place on the pool, its NIC on the VLAN\'s network with its MAC; nothing is appended', async () => {
    const head = await h.logHead();
    const plan = await preview(unmanaged());
    expect(plan.problems).toEqual([]);
    expect(plan).toMatchObject({ importSource: 'UNMANAGED', ok: true });
    expect(plan.instance).toMatchObject({ name: 'pv-on', instanceName: 'pv-on', hostName: 'pv-on', serviceOfferingId: fixed, cpuNumber: 2, memory: 2048, state: 'Running', zoneId: zone.zoneId, clusterId: zone.clusterId, hostId: zone.hostId });
    expect(plan.disks.map((d) => [d['id'], d['type'], d['size'], d['controller'], d['storagePoolId'], d['diskOfferingId'], d['copied']])).toEqual([
      ['0', 'ROOT', 8 * GiB, 'virtio', poolId, null, false],
      ['1', 'DATADISK', 2 * GiB, 'virtio', poolId, dataOffering, false],
    ]);
    expect(plan.nics).toEqual([{ id: '0', networkId: zone.networkId, macAddress: '52:54:00:30:00:01', ipAddress: null, isDefault: true }]);
    expect(await h.logHead()).toBe(head);
  });

  it('given a stopped VM of an external host (EXTERNAL), then the plan is the instance Stopped, each disk copied from its path to the pool; nothing is appended and the password is not held', async () => {
    const head = await h.logHead();
    const held = h.secrets.size;
    const plan = await preview(external());
    expect(plan.problems).toEqual([]);
    expect(plan.ok).toBe(true);
    expect(plan.instance).toMatchObject({ name: 'pv-ext', instanceName: 'pv-ext', hostName: 'pv-ext', cpuNumber: 1, cpuSpeed: 500, memory: 512, state: 'Stopped', hostId: zone.hostId, clusterId: zone.clusterId });
    expect(plan.disks.map((d) => [d['id'], d['type'], d['sourcePath'], d['size'], d['storagePoolId'], d['diskOfferingId'], d['copied']])).toEqual([
      ['0', 'ROOT', '/srv/vm/pv-ext.qcow2', 4 * GiB, poolId, null, true],
      ['1', 'DATADISK', '/srv/vm/pv-ext-data.raw', GiB, poolId, dataOffering, true],
    ]);
    expect(plan.nics).toEqual([{ id: '0', networkId: zone.networkId, macAddress: '52:54:00:30:00:02', ipAddress: null, isDefault: true }]);
    expect(await h.logHead()).toBe(head);
    expect(h.secrets.size).toBe(held);
  });

  it('given importVm with importSource UNMANAGED, then it is importUnmanagedInstance with the same arguments: the domain is imported as the plan said', async () => {
    h.simulator.host(zone.hostId)!.addUnmanagedDomain({ name: 'pv-two', running: false, cpuNumber: 1, cpuSpeed: 500, memory: 512, disks: [{ capacity: 2 * GiB }], nics: [{ mac: '52:54:00:30:00:09', vlan: 300 }] });
    const variables = { ...unmanaged(), name: 'pv-two', serviceOfferingId: small, dataDiskOfferingList: null };
    const plan = await preview(variables);
    expect(plan.problems).toEqual([]);
    const { importVm } = await h.admin.request<{ importVm: { id: string } }>(IMPORT, variables);
    const job = await h.waitForJob(h.admin, importVm.id);
    expect([job.status, job.cmd]).toEqual(['SUCCEEDED', 'importUnmanagedInstance']);
    const { virtualMachine } = await h.admin.request<{ virtualMachine: { instanceName: string; state: string; lastHostId: string; nics: Array<{ macAddress: string }> } }>(
      `query($id: ID!) { virtualMachine(id: $id) { instanceName state lastHostId nics { macAddress } } }`,
      { id: job.instanceId },
    );
    expect(virtualMachine).toEqual({ instanceName: 'pv-two', state: plan.instance!['state'], lastHostId: plan.instance!['hostId'], nics: [{ macAddress: plan.nics[0]!['macAddress'] }] });
  });

  it('given a plan without problems, when importVm is run with the same arguments, then the instance is what the plan said', async () => {
    const plan = await preview(external());
    const { importVm } = await h.admin.request<{ importVm: { id: string } }>(IMPORT, external());
    const job = await h.waitForJob(h.admin, importVm.id);
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    const { virtualMachine } = await h.admin.request<{ virtualMachine: { name: string; instanceName: string; state: string; cpuNumber: number; memory: number; nics: Array<{ networkId: string; macAddress: string }>; volumes: Array<{ type: string; size: number; storagePoolId: string }> } }>(
      `query($id: ID!) { virtualMachine(id: $id) { name instanceName state cpuNumber memory nics { networkId macAddress } volumes { type size storagePoolId } } }`,
      { id: job.instanceId },
    );
    expect(virtualMachine).toMatchObject({ name: plan.instance!['hostName'], instanceName: plan.instance!['instanceName'], state: plan.instance!['state'], cpuNumber: plan.instance!['cpuNumber'], memory: plan.instance!['memory'] });
    expect(virtualMachine.volumes.map((v) => [v.type, v.size, v.storagePoolId])).toEqual(plan.disks.map((d) => [d['type'], d['size'], d['storagePoolId']]));
    expect(virtualMachine.nics).toEqual(plan.nics.map((n) => ({ networkId: n['networkId'], macAddress: n['macAddress'] })));
    // Imported now: the same arguments would make a second instance of that name.
    const again = await preview(external());
    expect(again.ok).toBe(false);
    expect(again.problems).toEqual([expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'name', message: expect.stringMatching(/vmledger already has an instance of that name/) as unknown })]);
  });
});

describe('importVmPreview reports each refusal of importVm with its code and message, appending nothing', () => {
  type Case = readonly [string, () => Record<string, unknown>];
  const cases: Case[] = [
    ['UNMANAGED: an empty name', () => ({ ...unmanaged(), name: ' ' })],
    ['UNMANAGED: domainId without account', () => ({ ...unmanaged(), domainId: zone.zoneId })],
    ['UNMANAGED: no cluster', () => ({ ...unmanaged(), clusterId: null })],
    ['UNMANAGED: an unknown cluster', () => ({ ...unmanaged(), clusterId: NOWHERE })],
    ['UNMANAGED: no template', () => ({ ...unmanaged(), templateId: null })],
    ['UNMANAGED: an unknown offering', () => ({ ...unmanaged(), serviceOfferingId: NOWHERE })],
    ['UNMANAGED: a bad hostname', () => ({ ...unmanaged(), hostName: '9lives' })],
    ['UNMANAGED: a name no host has', () => ({ ...unmanaged(), name: 'nowhere' })],
    ['UNMANAGED: a running domain and a fixed offering of another size', () => ({ ...unmanaged(), serviceOfferingId: small })],
    ['UNMANAGED: no disk offering for the data disk', () => ({ ...unmanaged(), dataDiskOfferingList: null })],
    ['UNMANAGED: an unknown disk offering', () => ({ ...unmanaged(), dataDiskOfferingList: [{ disk: '1', diskOffering: NOWHERE }] })],
    ['UNMANAGED: an unknown network for the NIC', () => ({ ...unmanaged(), nicNetworkList: [{ nic: '0', network: NOWHERE }] })],
    ['UNMANAGED: an IP address that is none', () => ({ ...unmanaged(), nicIpAddressList: [{ nic: '0', ip4Address: '10.0.0.300' }] })],
    ['EXTERNAL: the name is no hostname and none is given', () => ({ ...external(), name: 'bad_name' })],
    ['EXTERNAL: the username is blank', () => ({ ...external(), username: '' })],
    ['EXTERNAL: the password is missing', () => ({ ...external(), password: null })],
    ['EXTERNAL: a bad tmpPath', () => ({ ...external(), tmpPath: 'relative' })],
    ['EXTERNAL: the VM is not on the remote host', () => ({ ...external(), name: 'elsewhere' })],
    ['EXTERNAL: the password is wrong', () => ({ ...external(), password: 'pw-wrong-preview-canary' })],
    ['EXTERNAL: a data disk has no disk offering', () => ({ ...external(), dataDiskOfferingList: null })],
  ];
  it.each(cases)('%s', async (_what, variables) => {
    const head = await h.logHead();
    const held = h.secrets.size;
    const refused = await gqlError(h.admin.request(IMPORT, variables()));
    expect(await h.logHead()).toBe(head);
    const plan = await preview(variables());
    expect(plan.ok).toBe(false);
    expect(plan.problems).toContainEqual({ code: refused.extensions?.['code'], message: refused.message, field: refused.extensions?.['field'] ?? null });
    expect(await h.logHead()).toBe(head);
    expect(h.secrets.size).toBe(held);
  });

  it('given arguments with several problems, then the preview lists each of them at once, each naming its argument', async () => {
    const head = await h.logHead();
    const plan = await preview({
      ...unmanaged(),
      serviceOfferingId: NOWHERE,
      hostName: '9lives',
      dataDiskOfferingList: [{ disk: '1', diskOffering: NOWHERE }],
      nicNetworkList: [{ nic: '0', network: NOWHERE }],
      nicIpAddressList: [{ nic: '0', ip4Address: 'x' }],
    });
    expect(plan.ok).toBe(false);
    expect(plan.problems.map((p) => [p.code, p.field, p.message])).toEqual([
      ['BAD_USER_INPUT', 'serviceOfferingId', `Service offering ID: ${NOWHERE} cannot be found`],
      ['BAD_USER_INPUT', 'hostName', expect.stringMatching(/^Invalid VM hostname\./)],
      ['BAD_USER_INPUT', 'dataDiskOfferingList[0].diskOffering', `Disk offering ID: ${NOWHERE} for disk ID: 1 is invalid`],
      ['BAD_USER_INPUT', 'nicIpAddressList[0].ip4Address', "IP address 'x' for NIC ID: 0 is invalid"],
      ['BAD_USER_INPUT', 'nicNetworkList', `Network ID: ${NOWHERE} for NIC ID: 0 is invalid`],
    ]);
    // What the rules could still tell: the domain as its host reports it.
    expect(plan.instance).toMatchObject({ instanceName: 'pv-on', state: 'Running', hostId: zone.hostId });
    expect(plan.disks.map((d) => d['id'])).toEqual(['0', '1']);
    expect(await h.logHead()).toBe(head);
  });

  it('given an unknown cluster, then the plan is in the zone asked for, with nothing of a domain', async () => {
    const plan = await preview({ ...unmanaged(), clusterId: NOWHERE });
    expect(plan.instance).toMatchObject({ name: 'pv-on', zoneId: zone.zoneId, clusterId: null, hostId: null, state: null });
    expect(plan.disks).toEqual([]);
    expect(plan.problems.map((p) => p.field)).toEqual(['clusterId']);
  });

  it('given a problem elsewhere (an unknown offering), then the plan still shows the NICs as they would be', async () => {
    const plan = await preview({ ...unmanaged(), serviceOfferingId: NOWHERE });
    expect(plan.problems.map((p) => p.field)).toEqual(['serviceOfferingId']);
    expect(plan.nics).toEqual([{ id: '0', networkId: zone.networkId, macAddress: '52:54:00:30:00:01', ipAddress: null, isDefault: true }]);
  });

  it('given a problem with a NIC only (a network that does not exist), then the plan still shows each disk as its mapping places it: which is root, its pool and disk offering', async () => {
    const wrongNic = { nicNetworkList: [{ nic: '0', network: NOWHERE }] };
    const local = await preview({ ...unmanaged(), ...wrongNic });
    expect(local.problems.map((p) => p.field)).toEqual(['nicNetworkList']);
    expect(local.disks.map((d) => [d['id'], d['type'], d['size'], d['storagePoolId'], d['diskOfferingId']])).toEqual([
      ['0', 'ROOT', 8 * GiB, poolId, null],
      ['1', 'DATADISK', 2 * GiB, poolId, dataOffering],
    ]);
    // An external VM of its own (pv-ext is imported by a test above, and its name then taken).
    h.simulator.addExternalHost('10.9.3.8', {
      username: 'ops',
      password: PASSWORD,
      domains: [{ name: 'pv-ext-nic', running: false, cpuNumber: 1, memory: 1024, disks: [{ capacity: 4 * GiB, path: '/srv/vm/pv-ext.qcow2' }, { capacity: GiB, path: '/srv/vm/pv-ext-data.raw' }], nics: [{ mac: '52:54:00:30:00:12', vlan: 300 }] }],
    });
    const copied = await preview({ ...external(), host: '10.9.3.8', name: 'pv-ext-nic', ...wrongNic });
    expect(copied.problems.map((p) => p.field)).toEqual(['nicNetworkList']);
    expect(copied.disks.map((d) => [d['id'], d['type'], d['sourcePath'], d['storagePoolId'], d['diskOfferingId']])).toEqual([
      ['0', 'ROOT', '/srv/vm/pv-ext.qcow2', poolId, null],
      ['1', 'DATADISK', '/srv/vm/pv-ext-data.raw', poolId, dataOffering],
    ]);
  });

  it('given a caller who is not the root admin, then the preview itself is FORBIDDEN', async () => {
    const user = await h.createUser('pv-user');
    const error = await gqlError(user.client.request(PREVIEW, unmanaged()));
    expect(error.extensions?.['code']).toBe('FORBIDDEN');
  });

  it('given an unknown zone, then the preview itself is refused as importVm is', async () => {
    const error = await gqlError(h.admin.request(PREVIEW, { ...unmanaged(), zoneId: NOWHERE }));
    expect(error.message).toBe('Please specify a valid zone.');
  });
});
