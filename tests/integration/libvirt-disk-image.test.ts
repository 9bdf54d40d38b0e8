// importVm from local and shared storage on the libvirt testbed (issue 16 items 4 and 7): a qcow2 file
// in kvm-a's storage (its host-local pool) or in the directory both hosts mount (a shared pool)
// becomes an instance's root volume where it is; the instance starts on a host of the pool with the
// file as its disk and boots, and its expunge deletes the file. The agent of the pool's host checks
// the file first, and each refusal it finds (a backing file, a domain attaching it, no such file, a
// pool of the wrong scope or that the agent does not serve) is what importVm and importVmPreview
// both say. The main job and the agents are processes of their own on RabbitMQ.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCloud,
  domainState,
  guestAction,
  job,
  onHost,
  readTestbed,
  scratchDir,
  seedTemplates,
  startAgentProcess,
  startBroker,
  startMainJob,
  stopBroker,
  testbedFile,
  until,
  writeAgentConfigs,
  type Cloud,
  type MainJob,
  type Process,
  type Testbed,
} from './libvirt/world.js';

const BROKER_PORT = 5679;
const file = testbedFile();

const ARGS = `$zoneId: ID!, $importSource: ImportSource!, $name: String!, $serviceOfferingId: ID!, $templateId: ID, $hostId: ID, $diskPath: String,
  $storageId: ID, $networkId: ID`;
const PASS = `zoneId: $zoneId, importSource: $importSource, name: $name, serviceOfferingId: $serviceOfferingId, templateId: $templateId, hostId: $hostId,
  diskPath: $diskPath, storageId: $storageId, networkId: $networkId`;
const IMPORT = `mutation(${ARGS}) { importVm(${PASS}) { id } }`;
const PREVIEW = `query(${ARGS}) { importVmPreview(${PASS}) { ok disks { sourcePath sourceFormat size storagePoolId } problems { code message field } } }`;

interface ImportedVm {
  id: string;
  state: string;
  instanceName: string;
  hostId: string | null;
  lastHostId: string | null;
  volumes: Array<{ type: string; size: number; storagePoolId: string }>;
}

describe.skipIf(file === undefined)('importVm from local and shared storage (needs the libvirt testbed: tests/testbed/libvirt.sh start, or VMLEDGER_TEST_LIBVIRT; see README)', () => {
  let testbed: Testbed;
  let busUrl: string;
  let ownBroker = false;
  let scratch: ReturnType<typeof scratchDir>;
  let main: MainJob;
  let cloud: Cloud;
  const agents: Process[] = [];
  let localPool: string;
  let sharedPool: string;
  let unservedPool: string;

  const images = () => testbed.importImages!;
  const hostName = (id: string | null) => [...cloud.hostIds].find(([, hostId]) => hostId === id)?.[0];
  const localHostId = () => cloud.hostIds.get(images().localHost)!;

  beforeAll(async () => {
    testbed = readTestbed(file!);
    if (!testbed.importImages) throw new Error(`${file} describes no disk images to import: restart the testbed (tests/testbed/libvirt.sh start)`);
    scratch = scratchDir();
    busUrl = process.env['VMLEDGER_TEST_AMQP_URL'] ?? '';
    if (busUrl === '') {
      busUrl = await startBroker(BROKER_PORT);
      ownBroker = true;
    }
    main = await startMainJob(join(scratch.dir, 'data'), busUrl, { VMLEDGER_AGENT_TIMEOUT_MS: '45000' });
    cloud = await createCloud(main.client, testbed);
    await seedTemplates(testbed, cloud);
    const configs = writeAgentConfigs(testbed, cloud, busUrl, scratch.dir, join(scratch.dir, 'data'));
    for (const host of testbed.hosts) agents.push(await startAgentProcess(configs.get(host.name)!));
    await until('the hosts to be Up', async () => {
      const { hosts } = await main.client.request<{ hosts: { nodes: Array<{ status: string }> } }>(`{ hosts(first: 10) { nodes { status } } }`);
      return hosts.nodes.every((host) => host.status === 'Up') ? true : undefined;
    });
    const pool = async (variables: Record<string, unknown>) =>
      (
        await main.client.request<{ createStoragePool: { id: string } }>(
          `mutation($zoneId: ID!, $name: String!, $type: String!, $path: String!, $hostId: ID, $clusterId: ID) {
            createStoragePool(zoneId: $zoneId, name: $name, type: $type, path: $path, hostId: $hostId, clusterId: $clusterId) { id } }`,
          { zoneId: cloud.zoneId, ...variables },
        )
      ).createStoragePool.id;
    localPool = await pool({ name: 'kvm-a-local', type: 'local', path: images().localPoolPath, hostId: localHostId() });
    sharedPool = await pool({ name: 'kvm-shared', type: 'SharedMountPoint', path: images().sharedPoolPath, clusterId: cloud.clusterId });
    unservedPool = await pool({ name: 'kvm-unserved', type: 'SharedMountPoint', path: '/srv/nobody-mounts-this', clusterId: cloud.clusterId });
  }, 300_000);

  afterAll(async () => {
    for (const agent of agents) await agent.kill('SIGKILL');
    await main?.kill('SIGKILL');
    if (ownBroker) await stopBroker(BROKER_PORT).catch(() => undefined);
    scratch?.remove();
  }, 120_000);

  /** A copy of a prepared image under a name of its own (vmhost's, as the pool's files are), so a rerun finds the original. */
  const copyOf = async (poolPath: string, image: string, name: string): Promise<string> => {
    const target = join(poolPath, 'import', `${name}.qcow2`);
    const copied = await onHost(images().localHost, ['install', '-o', 'vmhost', '-g', 'vmhost', '-m', '0644', join(poolPath, image), target]);
    expect(copied.code, copied.stderr).toBe(0);
    return `import/${name}.qcow2`;
  };
  const vm = async (id: string): Promise<ImportedVm> =>
    (await main.client.request<{ virtualMachine: ImportedVm }>(`query($id: ID!) { virtualMachine(id: $id) { id state instanceName hostId lastHostId volumes { type size storagePoolId } } }`, { id })).virtualMachine;
  const local = (name: string, diskPath: string) => ({
    zoneId: cloud.zoneId,
    importSource: 'LOCAL',
    name,
    serviceOfferingId: cloud.offeringId,
    templateId: cloud.guestTemplateId,
    hostId: localHostId(),
    storageId: localPool,
    networkId: cloud.networkId,
    diskPath,
  });
  const shared = (name: string, diskPath: string) => ({ ...local(name, diskPath), importSource: 'SHARED', hostId: null, storageId: sharedPool });

  /** Imports, starts and boots the instance, checks its disk is the file, then expunges it: the file goes. */
  const importBootAndExpunge = async (variables: Record<string, unknown>, poolPath: string): Promise<void> => {
    const path = join(poolPath, variables['diskPath'] as string);
    const plan = (await main.client.request<{ importVmPreview: { ok: boolean; disks: Array<{ sourcePath: string; sourceFormat: string; size: number }>; problems: unknown[] } }>(PREVIEW, variables)).importVmPreview;
    expect(plan.problems).toEqual([]);
    expect(plan.disks).toEqual([expect.objectContaining({ sourcePath: path, sourceFormat: 'qcow2', size: testbed.guest.virtualSizeBytes })]);
    const imported = await job(main.client, IMPORT, variables);
    expect(imported.error).toBeNull();
    const made = await vm(imported.instanceId!);
    expect(made).toMatchObject({ state: 'Stopped', hostId: null });
    expect(made.volumes.map((v) => [v.type, v.size, v.storagePoolId])).toEqual([['ROOT', testbed.guest.virtualSizeBytes, variables['storageId']]]);

    const started = await job(main.client, `mutation($id: ID!) { startVirtualMachine(id: $id) { id } }`, { id: made.id });
    expect(started.error).toBeNull();
    const running = await vm(made.id);
    const host = hostName(running.hostId)!;
    if (variables['importSource'] === 'LOCAL') expect(host).toBe(images().localHost);
    expect(await domainState(host, running.instanceName)).toBe('running');
    expect((await onHost(host, ['virsh', '-c', 'qemu:///system', 'domblklist', running.instanceName])).stdout).toContain(path);
    await until(`${running.instanceName} to boot`, async () => ((await guestAction(host, testbed.guest.readyCheck, running.instanceName)) === 0 ? true : undefined), 120_000);

    const destroyed = await job(main.client, `mutation($id: ID!) { destroyVirtualMachine(id: $id, expunge: true) { id } }`, { id: made.id });
    expect(destroyed.error).toBeNull();
    expect(await domainState(host, running.instanceName)).toBe('missing');
    expect(existsSync(path)).toBe(false);
  };

  it('given a qcow2 file in kvm-a\'s local pool, when imported LOCAL and started, then its domain runs on kvm-a on that file and boots; its expunge deletes the file', async () => {
    await importBootAndExpunge(local('img-local', await copyOf(images().localPoolPath, images().good, 'img-local')), images().localPoolPath);
  }, 300_000);

  it('given a qcow2 file in the shared pool, when imported SHARED and started, then its domain runs on a host of the cluster on that file and boots; its expunge deletes the file', async () => {
    await importBootAndExpunge(shared('img-shared', await copyOf(images().sharedPoolPath, images().good, 'img-shared')), images().sharedPoolPath);
  }, 300_000);

  it('given an imported file that never started, when expunged, then the file is deleted all the same', async () => {
    const diskPath = await copyOf(images().sharedPoolPath, images().good, 'img-idle');
    const imported = await job(main.client, IMPORT, shared('img-idle', diskPath));
    expect(imported.error).toBeNull();
    const destroyed = await job(main.client, `mutation($id: ID!) { destroyVirtualMachine(id: $id, expunge: true) { id } }`, { id: imported.instanceId });
    expect(destroyed.error).toBeNull();
    expect(existsSync(join(images().sharedPoolPath, diskPath))).toBe(false);
  }, 120_000);

  const refusals: ReadonlyArray<readonly [string, () => Record<string, unknown>, string, () => string]> = [
    ['an image with a backing file', () => local('img-overlay', images().overlay), 'diskPath', () => 'Volume with backing file cannot be imported or unmanaged.'],
    ['an image a domain of the host attaches', () => local('img-in-use', images().inUse), 'diskPath', () => `Disk image is already in use by domain ${images().holder} on host ${images().localHost}`],
    ['a file that is not there', () => local('img-missing', 'import/missing.qcow2'), 'diskPath', () => 'Disk not found or is invalid'],
    ['a template\'s image, which vmledger keeps', () => local('img-template', `templates/${cloud.guestTemplateId}.qcow2`), 'diskPath', () => 'Disk image is already in use'],
    ['LOCAL with the shared pool', () => ({ ...local('img-scope', images().good), storageId: sharedPool }), 'storageId', () => 'Specified Local Storage Pool not found on Host'],
    ['SHARED with kvm-a\'s local pool', () => ({ ...shared('img-scope', images().good), storageId: localPool }), 'storageId', () => 'Storage pool kvm-a-local is local to a host: import from it with importSource LOCAL and its hostId'],
    [
      'a pool whose directory the agent does not serve',
      () => ({ ...shared('img-unserved', images().good), storageId: unservedPool }),
      'storageId',
      () => 'Storage pool kvm-unserved is not storage the agent of host',
    ],
  ];
  it.each(refusals)('refuses %s, as the preview reports it, making nothing', async (_what, variables, field, message) => {
    const failed = await main.client.request(IMPORT, variables()).then(
      () => undefined,
      (error: { response?: { errors?: Array<{ message: string; extensions?: Record<string, unknown> }> } }) => error.response?.errors?.[0],
    );
    expect(failed).toBeDefined();
    expect(failed!.message).toContain(message());
    expect(failed!.extensions?.['field']).toBe(field);
    const plan = (await main.client.request<{ importVmPreview: { ok: boolean; problems: Array<{ code: string; message: string; field: string | null }> } }>(PREVIEW, variables())).importVmPreview;
    expect(plan.ok).toBe(false);
    expect(plan.problems).toContainEqual({ code: failed!.extensions?.['code'], message: failed!.message, field });
    const { virtualMachines } = await main.client.request<{ virtualMachines: { nodes: Array<{ name: string }> } }>(`{ virtualMachines(first: 100) { nodes { name } } }`);
    expect(virtualMachines.nodes.map((node) => node.name)).not.toContain(variables()['name']);
  }, 60_000);
});
