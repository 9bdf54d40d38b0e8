// importVm from local and shared storage, through GraphQL on the simulator (issue 16 item 4; behaviour
// §4.6 `local`/`shared`): an existing qcow2 file on a host-local pool (LOCAL) or on a zone's pool
// (SHARED) becomes a Stopped instance's root volume where it is, with a deployment's usage and a
// VM.IMPORT event; the instance then starts on a host that reaches the pool, and its expunge deletes
// the image. Every refusal answers with CloudStack's words, appends nothing, and is what
// importVmPreview reports for the same arguments.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DISK_IMAGE } from '../../api/control-plane/demo.js';
import { actionEvents, addSmallZone, gqlError, runJob, startHarness, usageEvents, type Harness, type SmallZone } from './harness.js';

const GiB = 1024 ** 3;
const NOWHERE = '00000000-0000-4000-8000-000000000000';
const LOCAL_DIR = '/var/lib/vmledger/local';
const SHARED_DIR = '/export/primary';

const ARGS = `$zoneId: ID!, $importSource: ImportSource!, $name: String!, $serviceOfferingId: ID!, $templateId: ID, $hostId: ID, $diskPath: String,
  $storageId: ID, $networkId: ID, $details: JSON, $hostName: String`;
const PASS = `zoneId: $zoneId, importSource: $importSource, name: $name, serviceOfferingId: $serviceOfferingId, templateId: $templateId, hostId: $hostId,
  diskPath: $diskPath, storageId: $storageId, networkId: $networkId, details: $details, hostName: $hostName`;
const IMPORT = `mutation(${ARGS}) { importVm(${PASS}) { id } }`;
const PREVIEW = `query(${ARGS}) { importVmPreview(${PASS}) { ok instance { instanceName hostName cpuNumber memory state hostId clusterId }
  disks { id type sourcePath sourceFormat size storagePoolId copied } nics { id networkId macAddress } problems { code message field } } }`;
const VM = `query($id: ID!) { virtualMachine(id: $id) { id name instanceName state hostId lastHostId cpuNumber memory
  nics { networkId macAddress deviceId } volumes { id type size storagePoolId state } } }`;

interface Vm {
  id: string;
  name: string;
  instanceName: string;
  state: string;
  hostId: string | null;
  lastHostId: string | null;
  cpuNumber: number;
  memory: number;
  nics: Array<{ networkId: string; macAddress: string; deviceId: number }>;
  volumes: Array<{ id: string; type: string; size: number; storagePoolId: string; state: string }>;
}
interface Preview {
  ok: boolean;
  instance: Record<string, unknown> | null;
  disks: Array<Record<string, unknown>>;
  nics: Array<Record<string, unknown>>;
  problems: Array<{ code: string; message: string; field: string | null }>;
}

let h: Harness;
let zone: SmallZone;
let otherHostId: string;
let offering: string; // 1 × 500 MHz, 512 MiB
let tagged: string; // wants storage tag "ssd"
let localPool: string;
let otherLocalPool: string;
let sharedPool: string;

const vm = async (id: string): Promise<Vm> => (await h.admin.request<{ virtualMachine: Vm }>(VM, { id })).virtualMachine;
const preview = async (variables: Record<string, unknown>): Promise<Preview> => (await h.admin.request<{ importVmPreview: Preview }>(PREVIEW, variables)).importVmPreview;

beforeAll(async () => {
  h = await startHarness();
  zone = await addSmallZone(h, 'img', {});
  const a = h.admin;
  otherHostId = (
    await a.request<{ addHost: { id: string } }>(`mutation($clusterId: ID!) { addHost(clusterId: $clusterId, name: "img-host-2", driver: "simulator", cpuNumber: 8, cpuSpeed: 2000, memory: 16384) { id } }`, {
      clusterId: zone.clusterId,
    })
  ).addHost.id;
  const pool = async (variables: Record<string, unknown>) =>
    (await a.request<{ createStoragePool: { id: string } }>(`mutation($zoneId: ID!, $name: String!, $type: String!, $path: String, $url: String, $hostId: ID) {
      createStoragePool(zoneId: $zoneId, name: $name, type: $type, path: $path, url: $url, hostId: $hostId) { id } }`, { zoneId: zone.zoneId, ...variables })).createStoragePool.id;
  localPool = await pool({ name: 'img-local', type: 'local', path: LOCAL_DIR, hostId: zone.hostId });
  otherLocalPool = await pool({ name: 'img-local-2', type: 'local', path: LOCAL_DIR, hostId: otherHostId });
  const { storagePools } = await a.request<{ storagePools: { nodes: Array<{ id: string; zoneId: string; scope: string }> } }>(`{ storagePools(first: 100) { nodes { id zoneId scope } } }`);
  sharedPool = storagePools.nodes.find((p) => p.zoneId === zone.zoneId && p.scope === 'ZONE')!.id;
  offering = (await a.request<{ createServiceOffering: { id: string } }>(`mutation { createServiceOffering(name: "img-small", cpuNumber: 1, cpuSpeed: 500, memory: 512) { id } }`)).createServiceOffering.id;
  tagged = (await a.request<{ createServiceOffering: { id: string } }>(`mutation { createServiceOffering(name: "img-ssd", cpuNumber: 1, cpuSpeed: 500, memory: 512, storageTags: ["ssd"]) { id } }`)).createServiceOffering.id;
  const image = (path: string, definition: Parameters<typeof h.simulator.addDiskImage>[1]) => h.simulator.addDiskImage(path, definition);
  image(`${LOCAL_DIR}/web.qcow2`, { virtualSize: 4 * GiB });
  image(`${LOCAL_DIR}/refused.qcow2`, { virtualSize: GiB });
  image(`${LOCAL_DIR}/overlay.qcow2`, { virtualSize: GiB, backingFile: `${LOCAL_DIR}/base.qcow2` });
  image(`${LOCAL_DIR}/locked.qcow2`, { virtualSize: GiB, locked: true });
  image(`${LOCAL_DIR}/secret.qcow2`, { virtualSize: GiB, encrypted: true });
  image(`${LOCAL_DIR}/disk.raw`, { virtualSize: GiB, format: 'raw' });
  image(`${LOCAL_DIR}/everything.qcow2`, { virtualSize: GiB, backingFile: `${LOCAL_DIR}/base.qcow2`, encrypted: true, locked: true });
  image(`${LOCAL_DIR}/attached.qcow2`, { virtualSize: GiB });
  image(`${SHARED_DIR}/golden/db.qcow2`, { virtualSize: 8 * GiB });
  h.simulator.host(zone.hostId)!.addUnmanagedDomain({ name: 'img-by-hand', running: false, cpuNumber: 1, memory: 256, disks: [{ capacity: GiB, path: `${LOCAL_DIR}/attached.qcow2` }], nics: [] });
});

afterAll(async () => {
  await h.stop();
});

const local = () => ({ zoneId: zone.zoneId, importSource: 'LOCAL', templateId: zone.templateId, serviceOfferingId: offering, hostId: zone.hostId, storageId: localPool, networkId: zone.networkId, name: 'img-web', diskPath: 'web.qcow2' });
const shared = () => ({ zoneId: zone.zoneId, importSource: 'SHARED', templateId: zone.templateId, serviceOfferingId: offering, storageId: sharedPool, networkId: zone.networkId, name: 'img-db', diskPath: 'golden/db.qcow2' });

describe('importVm from local storage', () => {
  let imported: Vm;

  it('given a qcow2 file on a host-local pool, when the preview is asked, then its plan is the file in place as the root volume, the offering\'s size, one NIC, Stopped on that host', async () => {
    const head = await h.logHead();
    const plan = await preview(local());
    expect(plan.problems).toEqual([]);
    expect(plan.instance).toMatchObject({ hostName: 'img-web', cpuNumber: 1, memory: 512, state: 'Stopped', hostId: zone.hostId, clusterId: zone.clusterId });
    expect(plan.disks).toEqual([{ id: '0', type: 'ROOT', sourcePath: `${LOCAL_DIR}/web.qcow2`, sourceFormat: 'qcow2', size: 4 * GiB, storagePoolId: localPool, copied: false }]);
    expect(plan.nics).toEqual([{ id: '0', networkId: zone.networkId, macAddress: null }]);
    expect(await h.logHead()).toBe(head);
  });

  it('when imported, then the instance is Stopped with the file as its root volume on the local pool, with a deployment\'s usage and VM.IMPORT', async () => {
    const job = await runJob(h, h.admin, IMPORT, local());
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    imported = await vm(job.instanceId!);
    expect(imported).toMatchObject({ name: 'img-web', state: 'Stopped', hostId: null, lastHostId: zone.hostId, cpuNumber: 1, memory: 512 });
    expect(imported.instanceName).toMatch(/^i-.*-VM$/);
    expect(imported.volumes.map((v) => [v.type, v.size, v.storagePoolId, v.state])).toEqual([['ROOT', 4 * GiB, localPool, 'Ready']]);
    expect(imported.nics.map((n) => [n.networkId, n.deviceId])).toEqual([[zone.networkId, 0]]);
    expect(imported.nics[0]!.macAddress).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    const usage = (await usageEvents(h.admin)).nodes.filter((e) => e.resourceId === imported.id || e.resourceId === imported.volumes[0]!.id).map((e) => e.type);
    expect(usage).toEqual(['VM.CREATE', 'VOLUME.CREATE']);
    expect((await actionEvents(h.admin, imported.id, 'VM.IMPORT')).totalCount).toBeGreaterThan(0);
  });

  it('given the imported instance, when the same file is imported again, then "Disk image is already in use"', async () => {
    const head = await h.logHead();
    const error = await gqlError(h.admin.request(IMPORT, { ...local(), name: 'img-web-2' }));
    expect([error.extensions?.['code'], error.message, error.extensions?.['field']]).toEqual(['BAD_USER_INPUT', 'Disk image is already in use', 'diskPath']);
    expect(await h.logHead()).toBe(head);
  });

  it('when it is started, then it runs on the pool\'s host on the imported file', async () => {
    const job = await runJob(h, h.admin, `mutation($id: ID!) { startVirtualMachine(id: $id) { id } }`, { id: imported.id });
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    expect(await vm(imported.id)).toMatchObject({ state: 'Running', hostId: zone.hostId });
    expect(h.simulator.diskSize(imported.volumes[0]!.id)).toBe(4 * GiB);
    // The host's agent now reports the file attached by the instance's domain.
    const again = await preview({ ...local(), name: 'img-web-3' });
    expect(again.problems.map((p) => p.message)).toEqual(['Disk image is already in use', `Disk image is already in use by domain ${imported.instanceName} on host img-host`]);
  });

  it('when it is destroyed and expunged, then its image is deleted as any volume is', async () => {
    const job = await runJob(h, h.admin, `mutation($id: ID!) { destroyVirtualMachine(id: $id, expunge: true) { id } }`, { id: imported.id });
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    expect(h.simulator.diskImage(`${LOCAL_DIR}/web.qcow2`)).toBeUndefined();
    const error = await gqlError(h.admin.request(IMPORT, { ...local(), name: 'img-web-4' }));
    expect(error.message).toBe('Disk not found or is invalid');
  });
});

describe('importVm from shared storage', () => {
  // (A volume's or template's own file is refused by the libvirt agent, which keeps such files; the
  // simulator keeps none on its pools: tests/integration/libvirt-disk-image.test.ts covers it.)
  it('given a qcow2 file on the zone\'s pool, when imported and started, then it runs on a host of the zone and its volume is the file; an expunge before it ever started deletes the file too', async () => {
    const job = await runJob(h, h.admin, IMPORT, shared());
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    const made = await vm(job.instanceId!);
    expect(made).toMatchObject({ name: 'img-db', state: 'Stopped' });
    expect(made.volumes.map((v) => [v.type, v.size, v.storagePoolId])).toEqual([['ROOT', 8 * GiB, sharedPool]]);
    const started = await runJob(h, h.admin, `mutation($id: ID!) { startVirtualMachine(id: $id) { id } }`, { id: made.id });
    expect(started.status, JSON.stringify(started.error)).toBe('SUCCEEDED');
    expect((await vm(made.id)).state).toBe('Running');
    expect(h.simulator.diskSize(made.volumes[0]!.id)).toBe(8 * GiB);
  });

  it('imports the demo\'s disk image as docs/api.md tells', async () => {
    h.simulator.addDiskImage(DEMO_DISK_IMAGE.path, DEMO_DISK_IMAGE.definition);
    const job = await runJob(h, h.admin, IMPORT, {
      zoneId: h.demo.zoneId,
      importSource: 'SHARED',
      name: 'demo-from-image',
      serviceOfferingId: h.demo.serviceOfferingIds.small,
      templateId: h.demo.templateId,
      storageId: h.demo.storagePoolId,
      diskPath: 'golden/debian-12.qcow2',
      networkId: h.demo.networkIds.l2,
    });
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    expect((await vm(job.instanceId!)).volumes.map((v) => [v.size, v.storagePoolId])).toEqual([[2 * GiB, h.demo.storagePoolId]]);
  });

  it('given an imported instance that never started, when it is expunged, then its image is deleted', async () => {
    h.simulator.addDiskImage(`${SHARED_DIR}/golden/idle.qcow2`, { virtualSize: GiB });
    const job = await runJob(h, h.admin, IMPORT, { ...shared(), name: 'img-idle', diskPath: 'golden/idle.qcow2' });
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    const gone = await runJob(h, h.admin, `mutation($id: ID!) { destroyVirtualMachine(id: $id, expunge: true) { id } }`, { id: job.instanceId });
    expect(gone.status, JSON.stringify(gone.error)).toBe('SUCCEEDED');
    expect(h.simulator.diskImage(`${SHARED_DIR}/golden/idle.qcow2`)).toBeUndefined();
  });
});

describe('restoreVirtualMachine of an instance imported in place (CloudStack destroys the old root volume, and its file with it)', () => {
  const RESTORE = `mutation($id: ID!) { restoreVirtualMachine(virtualMachineId: $id) { id } }`;

  it('given an imported instance that ran, when it is restored, then its root is a new volume and the imported file is deleted', async () => {
    h.simulator.addDiskImage(`${SHARED_DIR}/golden/reinstalled.qcow2`, { virtualSize: GiB });
    const job = await runJob(h, h.admin, IMPORT, { ...shared(), name: 'img-reinstalled', diskPath: 'golden/reinstalled.qcow2' });
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    const started = await runJob(h, h.admin, `mutation($id: ID!) { startVirtualMachine(id: $id) { id } }`, { id: job.instanceId });
    expect(started.status, JSON.stringify(started.error)).toBe('SUCCEEDED');
    const before = await vm(job.instanceId!);
    const restored = await runJob(h, h.admin, RESTORE, { id: before.id });
    expect(restored.status, JSON.stringify(restored.error)).toBe('SUCCEEDED');
    const after = await vm(before.id);
    expect(after.state).toBe('Running');
    expect(after.volumes.map((v) => v.id)).not.toContain(before.volumes[0]!.id);
    expect(h.simulator.diskImage(`${SHARED_DIR}/golden/reinstalled.qcow2`)).toBeUndefined();
    expect(h.simulator.diskSize(before.volumes[0]!.id)).toBeUndefined();
  });
});

describe('importVm from local or shared storage: refusals (behaviour §4.6), each the preview\'s problem too, appending nothing', () => {
  type Case = readonly [string, () => Record<string, unknown>, string, string, string];
  const refused = () => ({ ...local(), name: 'img-refused', diskPath: 'refused.qcow2' });
  const cases: Case[] = [
    ['no diskPath', () => ({ ...refused(), diskPath: null }), 'BAD_USER_INPUT', 'diskPath', 'Disk Path is required for Import from shared/local storage'],
    ['a diskPath leaving the pool', () => ({ ...refused(), diskPath: '../etc/shadow' }), 'BAD_USER_INPUT', 'diskPath', 'Invalid diskPath "../etc/shadow": the image\'s path relative to the storage pool\'s directory (no leading \'/\', no \'.\' or \'..\')'],
    ['no network', () => ({ ...refused(), networkId: null }), 'BAD_USER_INPUT', 'networkId', 'Network is required for Import from shared/local storage'],
    ['no storage pool', () => ({ ...refused(), storageId: null }), 'BAD_USER_INPUT', 'storageId', 'Storage Pool is required for Import from shared/local storage'],
    ['an unknown storage pool', () => ({ ...refused(), storageId: NOWHERE }), 'BAD_USER_INPUT', 'storageId', 'Storage Pool not found'],
    ['LOCAL without a host', () => ({ ...refused(), hostId: null }), 'BAD_USER_INPUT', 'hostId', 'Host is required for Import from local storage'],
    ['LOCAL with an unknown host', () => ({ ...refused(), hostId: NOWHERE }), 'BAD_USER_INPUT', 'hostId', 'Host not found'],
    ['LOCAL with another host\'s pool', () => ({ ...refused(), storageId: otherLocalPool }), 'BAD_USER_INPUT', 'storageId', 'Specified Local Storage Pool not found on Host'],
    ['LOCAL with a shared pool', () => ({ ...refused(), storageId: sharedPool }), 'BAD_USER_INPUT', 'storageId', 'Specified Local Storage Pool not found on Host'],
    ['SHARED with a host-local pool', () => ({ ...shared(), storageId: localPool, diskPath: 'refused.qcow2' }), 'BAD_USER_INPUT', 'storageId', 'Storage pool img-local is local to a host: import from it with importSource LOCAL and its hostId'],
    ['an unknown network', () => ({ ...refused(), networkId: NOWHERE }), 'BAD_USER_INPUT', 'networkId', `Unable to find network by id ${NOWHERE}`],
    ['an offering whose storage tags the pool lacks', () => ({ ...refused(), serviceOfferingId: tagged }), 'BAD_USER_INPUT', 'storageId', ''],
    ['a file that is not there', () => ({ ...refused(), diskPath: 'missing.qcow2' }), 'BAD_USER_INPUT', 'diskPath', 'Disk not found or is invalid'],
    ['an image with a backing file', () => ({ ...refused(), diskPath: 'overlay.qcow2' }), 'BAD_USER_INPUT', 'diskPath', 'Volume with backing file cannot be imported or unmanaged.'],
    ['a locked image', () => ({ ...refused(), diskPath: 'locked.qcow2' }), 'BAD_USER_INPUT', 'diskPath', 'Locked volume cannot be imported or unmanaged.'],
    ['an encrypted image', () => ({ ...refused(), diskPath: 'secret.qcow2' }), 'BAD_USER_INPUT', 'diskPath', 'Encrypted volume cannot be imported or unmanaged.'],
    ['a raw image', () => ({ ...refused(), diskPath: 'disk.raw' }), 'BAD_USER_INPUT', 'diskPath', 'Disk image is raw, not qcow2: only qcow2 images are imported from shared/local storage'],
    ['an image a domain of the host attaches', () => ({ ...refused(), diskPath: 'attached.qcow2' }), 'BAD_USER_INPUT', 'diskPath', 'Disk image is already in use by domain img-by-hand on host img-host'],
  ];
  it.each(cases)('%s', async (_what, variables, code, field, message) => {
    const head = await h.logHead();
    const error = await gqlError(h.admin.request(IMPORT, variables()));
    expect([error.extensions?.['code'], error.extensions?.['field']]).toEqual([code, field]);
    if (message !== '') expect(error.message).toBe(message);
    else expect(error.message).toBe(`Service offering: ${tagged} storage tags are not compatible with selected storage pool: ${localPool}`);
    const plan = await preview(variables());
    expect(plan.ok).toBe(false);
    expect(plan.problems).toContainEqual({ code, message: error.message, field });
    expect(await h.logHead()).toBe(head);
  });

  it('given a local pool of a host that is no KVM host, then the import is refused for its hypervisor', async () => {
    const a = h.admin;
    const cluster = (await a.request<{ addCluster: { id: string } }>(`mutation($zoneId: ID!) { addCluster(zoneId: $zoneId, name: "img-vmware", hypervisor: "VMware") { id } }`, { zoneId: zone.zoneId })).addCluster.id;
    const host = (await a.request<{ addHost: { id: string } }>(`mutation($clusterId: ID!) { addHost(clusterId: $clusterId, name: "img-esx", driver: "simulator", cpuNumber: 8, cpuSpeed: 2000, memory: 16384) { id } }`, { clusterId: cluster })).addHost.id;
    const pool = (await a.request<{ createStoragePool: { id: string } }>(`mutation($zoneId: ID!, $hostId: ID) { createStoragePool(zoneId: $zoneId, name: "img-esx-local", type: "local", path: "/vmfs/local", hostId: $hostId) { id } }`, { zoneId: zone.zoneId, hostId: host })).createStoragePool.id;
    const head = await h.logHead();
    const error = await gqlError(a.request(IMPORT, { ...refused(), hostId: host, storageId: pool }));
    expect([error.extensions?.['code'], error.extensions?.['field'], error.message]).toEqual(['BAD_USER_INPUT', 'hostId', 'VM import is currently not supported for hypervisor: VMware']);
    expect(await h.logHead()).toBe(head);
  });

  it('given an image with a backing file that is encrypted and locked, then the preview names all three at once', async () => {
    const plan = await preview({ ...refused(), diskPath: 'everything.qcow2', networkId: NOWHERE });
    expect(plan.problems.map((p) => p.message)).toEqual([
      `Unable to find network by id ${NOWHERE}`,
      'Locked volume cannot be imported or unmanaged.',
      'Encrypted volume cannot be imported or unmanaged.',
      'Volume with backing file cannot be imported or unmanaged.',
    ]);
    expect(plan.disks).toEqual([expect.objectContaining({ sourcePath: `${LOCAL_DIR}/everything.qcow2`, sourceFormat: 'qcow2', size: GiB })]);
  });
});
