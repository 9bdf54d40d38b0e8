// VMware → KVM through GraphQL on the simulator (issue 17; behaviour §4.7): importVm(importSource:
// VMWARE)'s refusals that come before any host is asked, each in CloudStack's words, appending nothing
// and keeping no secret; then, with a simulated VMware host and a conversion host (virt-v2v), the
// listing, a conversion from PREPARING to 100 pushed on asyncJobUpdated, the refusals that need the
// listing, importVmTasks, failed conversions leaving nothing behind, and the password nowhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { DEFAULT_SIMULATOR_CAPABILITIES } from '../../adapters/hypervisor/simulator/index.js';
import { actionEvents, addSmallZone, gqlError, startHarness, usageEvents, type Harness, type SmallZone } from './harness.js';

// Unique: any occurrence of it anywhere is a leak.
const PASSWORD = 'pw-vmware-3c9e51aa-leak-canary';

const IMPORT = `mutation($zoneId: ID!, $name: String!, $serviceOfferingId: ID!, $templateId: ID, $host: String, $username: String, $password: String,
  $clusterId: ID, $nicNetworkList: [NicNetworkInput!], $extraParams: String, $convertInstanceHostId: ID) {
  importVm(zoneId: $zoneId, importSource: VMWARE, name: $name, serviceOfferingId: $serviceOfferingId, templateId: $templateId, host: $host,
    username: $username, password: $password, clusterId: $clusterId, nicNetworkList: $nicNetworkList, extraParams: $extraParams,
    convertInstanceHostId: $convertInstanceHostId) { id } }`;
const TASKS = `query($zoneId: ID!, $tasksFilter: ImportVmTasksFilter) { importVmTasks(zoneId: $zoneId, tasksFilter: $tasksFilter) { totalCount nodes { id state step } } }`;

let h: Harness;
let zone: SmallZone;
let offering: string;

async function configure(name: string, value: string): Promise<void> {
  await h.admin.request(`mutation($name: String!, $value: String!) { updateConfiguration(name: $name, value: $value) { name } }`, { name, value });
}

beforeAll(async () => {
  h = await startHarness();
  zone = await addSmallZone(h, 'vmw', {});
  offering = (await h.admin.request<{ createServiceOffering: { id: string } }>(`mutation { createServiceOffering(name: "vmw-fixed", cpuNumber: 1, cpuSpeed: 1000, memory: 1024) { id } }`)).createServiceOffering.id;
});

afterAll(async () => {
  await h.stop();
});

describe('importVm(importSource: VMWARE) refusals before any host is asked (behaviour §4.7), each appending nothing', () => {
  const base = () => ({
    zoneId: zone.zoneId,
    clusterId: zone.clusterId,
    name: 'v2vtest',
    serviceOfferingId: offering,
    templateId: zone.templateId,
    host: '10.9.1.5',
    username: 'root',
    password: PASSWORD,
    nicNetworkList: [{ nic: '0', network: zone.networkId }],
  });
  const cases: Array<{ when: string; settings: Array<[string, string]>; variables: () => Record<string, unknown>; code: string; message: string | RegExp }> = [
    {
      when: 'extra parameters are given and not allowed',
      settings: [['convert.vmware.instance.to.kvm.extra.params.allowed', 'false']],
      variables: () => ({ ...base(), extraParams: '-v' }),
      code: 'BAD_USER_INPUT',
      message: 'Extra parameters for Vmware to KVM conversion are disabled by the administrator',
    },
    {
      when: 'extra parameters are allowed but the list is empty',
      settings: [['convert.vmware.instance.to.kvm.extra.params.allowed', 'true'], ['convert.vmware.instance.to.kvm.extra.params.allowed.list', '']],
      variables: () => ({ ...base(), extraParams: '-v' }),
      code: 'BAD_USER_INPUT',
      message: 'Extra parameters for Vmware to KVM conversion are enabled but the allowed list of parameters is empty',
    },
    {
      when: 'an extra parameter is not in the allowed list',
      settings: [['convert.vmware.instance.to.kvm.extra.params.allowed', 'true'], ['convert.vmware.instance.to.kvm.extra.params.allowed.list', 'v,x']],
      variables: () => ({ ...base(), extraParams: '-v --root=/dev/sda' }),
      code: 'BAD_USER_INPUT',
      message: 'The parameter root is not allowed by the administrator',
    },
    {
      when: 'no host of the destination cluster has virt-v2v (reports instance.conversion)',
      settings: [],
      variables: () => base(),
      code: 'INVALID_STATE',
      message: /^Could not find any suitable KVM host in cluster [0-9a-f-]{36} to perform the instance conversion$/,
    },
    {
      when: 'the conversion host named has no virt-v2v',
      settings: [],
      variables: () => ({ ...base(), convertInstanceHostId: zone.hostId }),
      code: 'INVALID_STATE',
      message: /^Cannot convert the instance from VMware as the virt-v2v binary is not found on host vmw-host\. Please install virt-v2v/,
    },
    {
      when: 'no destination cluster is named',
      settings: [],
      variables: () => ({ ...base(), clusterId: null }),
      code: 'BAD_USER_INPUT',
      message: 'Cluster ID cannot be null.',
    },
  ];
  for (const c of cases) {
    it(`when ${c.when}, then ${c.code}, no event and no secret kept`, async () => {
      for (const [name, value] of c.settings) await configure(name, value);
      const head = await h.logHead();
      const secrets = h.secrets.size;
      const error = await gqlError(h.admin.request(IMPORT, c.variables()));
      expect(error.extensions?.['code']).toBe(c.code);
      if (typeof c.message === 'string') expect(error.message).toBe(c.message);
      else expect(error.message).toMatch(c.message);
      expect(JSON.stringify(error)).not.toContain(PASSWORD);
      expect(await h.logHead()).toBe(head);
      expect(h.secrets.size).toBe(secrets);
    });
  }
});

describe('importVmTasks (listImportVmTasks)', () => {
  it('given a zone with no conversion, then an empty list; an unknown zone and a non-root caller are refused', async () => {
    const { importVmTasks } = await h.admin.request<{ importVmTasks: { totalCount: number; nodes: unknown[] } }>(TASKS, { zoneId: zone.zoneId, tasksFilter: 'RUNNING' });
    expect(importVmTasks).toEqual({ totalCount: 0, nodes: [] });
    const unknown = await gqlError(h.admin.request(TASKS, { zoneId: '00000000-0000-4000-8000-000000000000' }));
    expect([unknown.extensions?.['code'], unknown.message]).toEqual(['BAD_USER_INPUT', 'Please specify a valid zone.']);
    const user = (await h.createUser('vmw-user')).client;
    expect((await gqlError(user.request(TASKS, { zoneId: zone.zoneId }))).extensions?.['code']).toBe('FORBIDDEN');
  });
});

// ---------------------------------------------------------------------------------------------
// The conversion, with a simulated VMware host at 10.9.1.5 and the zone's host able to convert.

const GiB = 1024 ** 3;
const VMWARE_HOST = '10.9.1.5';
const LIST = `query($zoneId: ID!, $host: String!, $username: String!, $password: String) {
  vmsForImport(zoneId: $zoneId, host: $host, username: $username, password: $password, importSource: VMWARE) { totalCount nodes {
    name host powerState cpuNumber cpuSpeed memory osDisplayName
    disks { id capacity controller imagePath position datastoreName }
    nics { id macAddress networkName adapterType } } } }`;
const CONVERT = `mutation($zoneId: ID!, $name: String!, $serviceOfferingId: ID!, $templateId: ID, $password: String, $clusterId: ID,
  $nicNetworkList: [NicNetworkInput!], $dataDiskOfferingList: [DataDiskOfferingInput!], $forced: Boolean) {
  importVm(zoneId: $zoneId, importSource: VMWARE, name: $name, serviceOfferingId: $serviceOfferingId, templateId: $templateId, host: "${VMWARE_HOST}",
    username: "root", password: $password, clusterId: $clusterId, nicNetworkList: $nicNetworkList, dataDiskOfferingList: $dataDiskOfferingList,
    forced: $forced) { id status } }`;
const JOB = `query($id: ID!) { asyncJob(id: $id) { id cmd status step progress instanceId error { code message }
  result { id name instanceName state hostId cpuNumber cpuSpeed memory nics { networkId macAddress deviceId } volumes { id type size storagePoolId } } } }`;
const TASK_FIELDS = `id zoneId accountId virtualMachineId displayName state sourceHost sourceVmName step progress description
  convertInstanceHostId importInstanceHostId stepDuration duration created lastUpdated completed`;

interface ConvertJob {
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
    cpuNumber: number;
    cpuSpeed: number;
    memory: number;
    nics: Array<{ networkId: string; macAddress: string; deviceId: number }>;
    volumes: Array<{ id: string; type: string; size: number; storagePoolId: string | null }>;
  } | null;
}

interface Task {
  id: string;
  virtualMachineId: string | null;
  displayName: string;
  state: string;
  sourceHost: string;
  sourceVmName: string;
  step: string;
  progress: number;
  description: string;
  convertInstanceHostId: string;
  importInstanceHostId: string;
  stepDuration: number;
  duration: number;
  created: string;
  lastUpdated: string;
  completed: string | null;
}

describe('converting a VMware guest on the simulator (behaviour §4.7)', () => {
  let custom: string;
  let dataOffering: string;
  let poolId: string;
  let poolPath: string;
  const ws: Client[] = [];
  const thrown: unknown[] = [];

  /** The two-NIC, two-disk guest's arguments, as an operator gives them. */
  const twoByTwo = (name: string) => ({
    zoneId: zone.zoneId,
    clusterId: zone.clusterId,
    name,
    serviceOfferingId: custom,
    templateId: zone.templateId,
    password: PASSWORD,
    dataDiskOfferingList: [{ disk: '1', diskOffering: dataOffering }],
    nicNetworkList: [{ nic: '0', network: zone.networkId }, { nic: '1', network: zone.networkId }],
  });
  const oneByOne = (name: string) => ({ zoneId: zone.zoneId, clusterId: zone.clusterId, name, serviceOfferingId: custom, templateId: zone.templateId, password: PASSWORD, nicNetworkList: [{ nic: '0', network: zone.networkId }] });

  async function start(variables: Record<string, unknown>): Promise<string> {
    const { importVm } = await h.admin.request<{ importVm: { id: string; status: string } }>(CONVERT, variables);
    expect(importVm.status).toBe('PENDING');
    return importVm.id;
  }
  async function finished(jobId: string): Promise<ConvertJob> {
    await h.waitForJob(h.admin, jobId);
    return (await h.admin.request<{ asyncJob: ConvertJob }>(JOB, { id: jobId })).asyncJob;
  }
  async function task(jobId: string): Promise<Task | undefined> {
    const { importVmTasks } = await h.admin.request<{ importVmTasks: { nodes: Task[] } }>(`query($zoneId: ID!) { importVmTasks(zoneId: $zoneId, first: 100) { nodes { ${TASK_FIELDS} } } }`, { zoneId: zone.zoneId });
    return importVmTasks.nodes.find((node) => node.id === jobId);
  }
  /** The commands the job sent, by workflow phase (the log is what an auditor reads). */
  async function phasesSent(jobId: string): Promise<string[]> {
    const events = (await h.store.readAll()) as unknown as Array<{ stream: string; type: string; data: { phase?: string } }>;
    return events.filter((event) => event.stream === `job-${jobId}` && event.type === 'JobAgentCommandIssued').map((event) => event.data.phase ?? '');
  }
  async function instanceNames(): Promise<string[]> {
    const { virtualMachines } = await h.admin.request<{ virtualMachines: { nodes: Array<{ name: string }> } }>(`{ virtualMachines(first: 200) { nodes { name } } }`);
    return virtualMachines.nodes.map((node) => node.name);
  }
  /** Every push of the job over asyncJobUpdated until it completes. */
  function pushes(jobId: string): Promise<Array<{ status: string; step: string | null; progress: number | null }>> {
    const client = createClient({ url: h.wsUrl, webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${h.adminKey}` }, retryAttempts: 0, lazy: true });
    ws.push(client);
    const seen: Array<{ status: string; step: string | null; progress: number | null }> = [];
    return new Promise((resolve, reject) => {
      client.subscribe<{ asyncJobUpdated: { status: string; step: string | null; progress: number | null } }>(
        { query: `subscription($id: ID!) { asyncJobUpdated(id: $id) { status step progress } }`, variables: { id: jobId } },
        { next: (result) => seen.push(result.data!.asyncJobUpdated), error: reject, complete: () => resolve(seen) },
      );
    });
  }
  const converter = () => h.simulator.host(zone.hostId)!;
  const canConvert = async (driverToo: boolean) => {
    converter().setCapabilities(driverToo ? [...DEFAULT_SIMULATOR_CAPABILITIES, 'instance.conversion'] : DEFAULT_SIMULATOR_CAPABILITIES);
    // What the control plane believes (the host's last heartbeat): it converts.
    await h.reportHostCapabilities(zone.hostId, [...DEFAULT_SIMULATOR_CAPABILITIES, 'instance.conversion']);
  };

  beforeAll(async () => {
    await canConvert(true);
    // Long enough for a subscriber to see the agent's steps, told in seven reports.
    converter().setDelays({ conversionDelayMs: 1500 });
    custom = (await h.admin.request<{ createServiceOffering: { id: string } }>(
      `mutation { createServiceOffering(name: "vmw-custom", customized: true, cpuSpeed: 1000, minCpuNumber: 1, maxCpuNumber: 8, minMemory: 256, maxMemory: 16384) { id } }`,
    )).createServiceOffering.id;
    dataOffering = (await h.admin.request<{ createDiskOffering: { id: string } }>(`mutation { createDiskOffering(name: "vmw-data", diskSize: 10) { id } }`)).createDiskOffering.id;
    const { storagePools } = await h.admin.request<{ storagePools: { nodes: Array<{ id: string; path: string; zoneId: string }> } }>(`{ storagePools(first: 100) { nodes { id path zoneId } } }`);
    ({ id: poolId, path: poolPath } = storagePools.nodes.find((pool) => pool.zoneId === zone.zoneId)!);
    const vmx = { running: false, cpuSpeed: 1000, guestOs: 'debian10-64' };
    h.simulator.addVmwareHost(VMWARE_HOST, {
      username: 'root',
      password: PASSWORD,
      guests: [
        { ...vmx, name: 'v2vtest', cpuNumber: 2, memory: 2048, disks: [{ capacity: 4 * GiB }, { capacity: GiB }], nics: [{ mac: '00:50:56:aa:bb:01', model: 'vmxnet3' }, { mac: '00:50:56:aa:bb:02', model: 'vmxnet3' }] },
        { ...vmx, name: 'v2vrunning', running: true, cpuNumber: 1, memory: 512, disks: [{ capacity: GiB }], nics: [{ mac: '00:50:56:aa:bb:03' }] },
        // v2vtest's first MAC: a conflict on the network once v2vtest is imported.
        { ...vmx, name: 'v2vtwin', cpuNumber: 1, memory: 512, disks: [{ capacity: GiB }], nics: [{ mac: '00:50:56:aa:bb:01' }] },
        { ...vmx, name: 'v2vbig', cpuNumber: 2, memory: 2048, disks: [{ capacity: GiB }], nics: [{ mac: '00:50:56:aa:bb:04' }] },
        { ...vmx, name: 'v2vplan', cpuNumber: 2, memory: 1024, disks: [{ capacity: 3 * GiB }, { capacity: 2 * GiB }], nics: [{ mac: '00:50:56:aa:bb:07', model: 'vmxnet3' }] },
        { ...vmx, name: 'v2vfail', cpuNumber: 1, memory: 512, disks: [{ capacity: GiB }], nics: [{ mac: '00:50:56:aa:bb:05' }] },
        { ...vmx, name: 'v2vclash', cpuNumber: 1, memory: 512, disks: [{ capacity: GiB }], nics: [{ mac: '00:50:56:aa:bb:06' }] },
      ],
    });
  });

  afterAll(async () => {
    await Promise.all(ws.map((client) => client.dispose()));
  });

  it('given a VMware host, when its guests are listed (vmsForImport VMWARE), then each, running or not, with its CPUs, memory, disks and NICs', async () => {
    const { vmsForImport } = await h.admin.request<{ vmsForImport: { totalCount: number; nodes: Array<Record<string, unknown> & { name: string }> } }>(LIST, {
      zoneId: zone.zoneId,
      host: VMWARE_HOST,
      username: 'root',
      password: PASSWORD,
    });
    expect(vmsForImport.nodes.map((vm) => [vm.name, vm['powerState']])).toEqual([
      ['v2vbig', 'PowerOff'],
      ['v2vclash', 'PowerOff'],
      ['v2vfail', 'PowerOff'],
      ['v2vplan', 'PowerOff'],
      ['v2vrunning', 'PowerOn'],
      ['v2vtest', 'PowerOff'],
      ['v2vtwin', 'PowerOff'],
    ]);
    expect(vmsForImport.nodes.find((vm) => vm.name === 'v2vtest')).toEqual({
      name: 'v2vtest',
      host: VMWARE_HOST,
      powerState: 'PowerOff',
      cpuNumber: 2,
      cpuSpeed: 1000,
      memory: 2048,
      osDisplayName: 'debian10-64',
      disks: [
        { id: '0', capacity: 4 * GiB, controller: 'scsi', imagePath: '/vmfs/volumes/datastore1/v2vtest/v2vtest.vmdk', position: 0, datastoreName: 'datastore1' },
        { id: '1', capacity: GiB, controller: 'scsi', imagePath: '/vmfs/volumes/datastore1/v2vtest/v2vtest_1.vmdk', position: 1, datastoreName: 'datastore1' },
      ],
      nics: [
        { id: '0', macAddress: '00:50:56:aa:bb:01', networkName: expect.any(String), adapterType: 'vmxnet3' },
        { id: '1', macAddress: '00:50:56:aa:bb:02', networkName: expect.any(String), adapterType: 'vmxnet3' },
      ],
    });
  });

  it('given a stopped guest, when converted and imported, then progress is pushed in order to 100 and the instance is Stopped with the source\'s CPU, memory, MACs and disks in the pool', async () => {
    const held = h.secrets.size;
    const jobId = await start(twoByTwo('v2vtest'));
    const pushed = await pushes(jobId);
    const job = await finished(jobId);
    expect(job).toMatchObject({ cmd: 'importVm', status: 'SUCCEEDED', error: null, progress: 100 });

    // Progress: never backwards, the steps in CloudStack's order, ending at 100 when the job ends.
    const progress = pushed.map((p) => p.progress ?? 0);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    const order = ['PREPARING', 'EXPORTING', 'CONVERTING', 'IMPORTING'];
    const steps = pushed.map((p) => p.step).filter((step, i, all): step is string => step !== null && step !== all[i - 1]);
    expect(steps.map((step) => order.indexOf(step))).toEqual(steps.map((step) => order.indexOf(step)).sort((a, b) => a - b));
    expect(steps).toContain('CONVERTING');
    expect(pushed.at(-1)).toMatchObject({ status: 'SUCCEEDED', progress: 100 });

    const vm = job.result!;
    expect(vm).toMatchObject({ name: 'v2vtest', instanceName: 'v2vtest', state: 'Stopped', cpuNumber: 2, cpuSpeed: 1000, memory: 2048 });
    expect(vm.nics.map((n) => [n.deviceId, n.macAddress, n.networkId])).toEqual([
      [0, '00:50:56:aa:bb:01', zone.networkId],
      [1, '00:50:56:aa:bb:02', zone.networkId],
    ]);
    expect(vm.volumes.map((v) => [v.type, v.size, v.storagePoolId])).toEqual([
      ['ROOT', 4 * GiB, poolId],
      ['DATADISK', GiB, poolId],
    ]);
    // The converted disks are the volumes, in the destination pool; nothing is left in the temporary location.
    expect(vm.volumes.map((v) => [h.simulator.diskSize(v.id), h.simulator.diskLocation(v.id)])).toEqual([
      [4 * GiB, poolPath],
      [GiB, poolPath],
    ]);
    expect(h.simulator.convertedDiskPaths()).toEqual([]);
    expect(h.secrets.size).toBe(held);

    // Deployment usage once, and VM.IMPORT's start and completion once.
    const usage = (await usageEvents(h.admin)).nodes.filter((e) => e.resourceId === vm.id || vm.volumes.some((v) => v.id === e.resourceId)).map((e) => e.type);
    expect(usage.sort()).toEqual(['VM.CREATE', 'VOLUME.CREATE', 'VOLUME.CREATE']);
    expect((await actionEvents(h.admin, vm.id, 'VM.IMPORT')).nodes.map((e) => e.description)).toEqual([
      expect.stringContaining('Importing unmanaged instance v2vtest'),
      expect.stringContaining('Imported instance, Stopped'),
    ]);
  });

  it('given the finished conversion, then importVmTasks shows it Completed with its step, hosts, source and timings', async () => {
    const { asyncJobs } = await h.admin.request<{ asyncJobs: { nodes: Array<{ id: string; cmd: string; status: string; instanceId: string }> } }>(`{ asyncJobs(first: 200) { nodes { id cmd status instanceId } } }`);
    const job = asyncJobs.nodes.find((node) => node.cmd === 'importVm' && node.status === 'SUCCEEDED')!;
    const done = await task(job.id);
    expect(done).toMatchObject({
      virtualMachineId: job.instanceId,
      displayName: 'v2vtest',
      state: 'Completed',
      sourceHost: VMWARE_HOST,
      sourceVmName: 'v2vtest',
      step: 'COMPLETED',
      progress: 100,
      convertInstanceHostId: zone.hostId,
      importInstanceHostId: zone.hostId,
    });
    expect(done!.completed).not.toBeNull();
    expect(Date.parse(done!.completed!)).toBeGreaterThanOrEqual(Date.parse(done!.created));
    expect(done!.duration).toBeGreaterThanOrEqual(0);
    expect(done!.stepDuration).toBeGreaterThanOrEqual(0);
    const { importVmTasks } = await h.admin.request<{ importVmTasks: { nodes: Array<{ id: string }> } }>(TASKS, { zoneId: zone.zoneId, tasksFilter: 'COMPLETED' });
    expect(importVmTasks.nodes.map((node) => node.id)).toContain(job.id);
  });

  describe('refusals that need the listing, each appending nothing and keeping no secret', () => {
    const cases: Array<{ when: string; variables: () => Record<string, unknown>; code: string; message: string }> = [
      {
        when: 'the source is running (no clone without vCenter)',
        variables: () => oneByOne('v2vrunning'),
        code: 'INVALID_STATE',
        message: `VM v2vrunning might be on standalone host ${VMWARE_HOST} and is Running, cannot be imported: without vCenter there is no clone to convert. Please shut it down before attempting the import`,
      },
      {
        when: 'the offering is smaller than the source',
        // vmw-fixed: 1 × 1000 MHz, 1024 MiB; v2vbig: 2 CPUs, 2048 MiB.
        variables: () => ({ ...oneByOne('v2vbig'), serviceOfferingId: offering }),
        code: 'BAD_USER_INPUT',
        message: 'The requested CPU number (1) is less than the source VM CPU number (2)',
      },
      {
        when: 'fewer networks are given than the source has NICs',
        variables: () => ({ ...oneByOne('v2vtwin'), nicNetworkList: [] }),
        code: 'BAD_USER_INPUT',
        message: 'Different number of nics found on instance v2vtwin: 1 vs 0 nics provided',
      },
      {
        when: 'a source MAC is already on its network and forced is not set',
        variables: () => oneByOne('v2vtwin'),
        code: 'CONFLICT',
        message: `NIC 0 with MAC address 00:50:56:aa:bb:01 already exists on network ${'NETWORK'} and forced flag is disabled. Retry with forced flag enabled if a new MAC address to be generated.`,
      },
    ];
    for (const c of cases) {
      it(`when ${c.when}, then ${c.code}`, async () => {
        const head = await h.logHead();
        const held = h.secrets.size;
        const error = await gqlError(h.admin.request(CONVERT, c.variables()), h);
        thrown.push(error);
        expect([error.extensions?.['code'], error.message]).toEqual([c.code, c.message.replace('NETWORK', zone.networkId)]);
        expect(await h.logHead()).toBe(head);
        expect(h.secrets.size).toBe(held);
      });
    }

    it('given the MAC conflict, when forced, then the guest is converted and its NIC gets a new MAC', async () => {
      const job = await finished(await start({ ...oneByOne('v2vtwin'), forced: true }));
      expect(job).toMatchObject({ status: 'SUCCEEDED', result: { state: 'Stopped' } });
      expect(job.result!.nics).toHaveLength(1);
      expect(job.result!.nics[0]!.macAddress).not.toBe('00:50:56:aa:bb:01');
    });
  });

  describe('importVmPreview(importSource: VMWARE): the plan and every problem, moving nothing', () => {
    const PREVIEW = `query($zoneId: ID!, $name: String!, $serviceOfferingId: ID!, $templateId: ID, $password: String, $clusterId: ID,
      $nicNetworkList: [NicNetworkInput!], $dataDiskOfferingList: [DataDiskOfferingInput!], $forced: Boolean, $extraParams: String) {
      importVmPreview(zoneId: $zoneId, importSource: VMWARE, name: $name, serviceOfferingId: $serviceOfferingId, templateId: $templateId,
        host: "${VMWARE_HOST}", username: "root", password: $password, clusterId: $clusterId, nicNetworkList: $nicNetworkList,
        dataDiskOfferingList: $dataDiskOfferingList, forced: $forced, extraParams: $extraParams) { importSource ok
        instance { name instanceName state cpuNumber cpuSpeed memory zoneId clusterId hostId }
        disks { id type sourcePath sourceFormat size controller storagePoolId diskOfferingId copied }
        nics { id networkId macAddress isDefault }
        conversion { sourceHost vmxPath convertInstanceHostId importInstanceHostId temporaryStoragePoolId temporaryPath }
        problems { code message field } } }`;
    interface Preview {
      importSource: string;
      ok: boolean;
      instance: Record<string, unknown> | null;
      disks: Array<Record<string, unknown>>;
      nics: Array<Record<string, unknown>>;
      conversion: Record<string, unknown> | null;
      problems: Array<{ code: string; message: string; field: string | null }>;
    }
    /** The preview, checked to have moved nothing: no event, no secret kept, no conversion, no file. */
    async function preview(variables: Record<string, unknown>): Promise<Preview> {
      const head = await h.logHead();
      const held = h.secrets.size;
      const { importVmPreview } = await h.admin.request<{ importVmPreview: Preview }>(PREVIEW, variables);
      expect(await h.logHead()).toBe(head);
      expect(h.secrets.size).toBe(held);
      expect(h.simulator.convertedDiskPaths()).toEqual([]);
      return importVmPreview;
    }

    it('given a stopped guest and arguments importVm takes, then the plan: the instance, its disks into the pool, its MACs, the conversion and import hosts and the temporary pool', async () => {
      const plan = await preview({ ...oneByOne('v2vplan'), dataDiskOfferingList: [{ disk: '1', diskOffering: dataOffering }] });
      expect(plan).toEqual({
        importSource: 'VMWARE',
        ok: true,
        instance: { name: 'v2vplan', instanceName: 'v2vplan', state: 'Stopped', cpuNumber: 2, cpuSpeed: 1000, memory: 1024, zoneId: zone.zoneId, clusterId: zone.clusterId, hostId: zone.hostId },
        disks: [
          { id: '0', type: 'ROOT', sourcePath: '/vmfs/volumes/datastore1/v2vplan/v2vplan.vmdk', sourceFormat: 'vmdk', size: 3 * GiB, controller: 'scsi', storagePoolId: poolId, diskOfferingId: null, copied: true },
          { id: '1', type: 'DATADISK', sourcePath: '/vmfs/volumes/datastore1/v2vplan/v2vplan_1.vmdk', sourceFormat: 'vmdk', size: 2 * GiB, controller: 'scsi', storagePoolId: poolId, diskOfferingId: dataOffering, copied: true },
        ],
        nics: [{ id: '0', networkId: zone.networkId, macAddress: '00:50:56:aa:bb:07', isDefault: true }],
        conversion: {
          sourceHost: VMWARE_HOST,
          vmxPath: '/vmfs/volumes/datastore1/v2vplan/v2vplan.vmx',
          convertInstanceHostId: zone.hostId,
          importInstanceHostId: zone.hostId,
          temporaryStoragePoolId: poolId,
          temporaryPath: poolPath,
        },
        problems: [],
      });
    });

    it('given a NIC problem only (no network for the NIC), then the plan still shows each disk as its mapping places it, into the pool', async () => {
      const plan = await preview({ ...oneByOne('v2vplan'), nicNetworkList: [], dataDiskOfferingList: [{ disk: '1', diskOffering: dataOffering }] });
      expect(plan.problems.map((p) => p.field)).toEqual(['nicNetworkList']);
      expect(plan.disks.map((d) => [d['id'], d['type'], d['storagePoolId'], d['diskOfferingId']])).toEqual([
        ['0', 'ROOT', poolId, null],
        ['1', 'DATADISK', poolId, dataOffering],
      ]);
    });

    it('given arguments with several problems, then each of them at once, as importVm would give the first', async () => {
      // v2vbig: 2 CPUs, 2048 MiB, one NIC; vmw-fixed is 1 × 1000 MHz, 1024 MiB; "root" is not in the allowed list (v, x).
      const plan = await preview({ ...oneByOne('v2vbig'), serviceOfferingId: offering, nicNetworkList: [], extraParams: '-v --root=/dev/sda' });
      expect(plan.ok).toBe(false);
      expect(plan.problems).toEqual([
        { code: 'BAD_USER_INPUT', message: 'The parameter root is not allowed by the administrator', field: 'extraParams' },
        { code: 'BAD_USER_INPUT', message: 'The requested CPU number (1) is less than the source VM CPU number (2)', field: 'serviceOfferingId' },
        { code: 'BAD_USER_INPUT', message: 'Different number of nics found on instance v2vbig: 1 vs 0 nics provided', field: 'nicNetworkList' },
      ]);
      // The plan as far as the rules got: the guest was found, its hosts chosen.
      expect(plan.instance).toMatchObject({ instanceName: 'v2vbig', hostId: zone.hostId });
      expect(plan.conversion).toMatchObject({ convertInstanceHostId: zone.hostId, vmxPath: '/vmfs/volumes/datastore1/v2vbig/v2vbig.vmx' });
      // importVm refuses the same arguments with the first of them.
      const error = await gqlError(h.admin.request(CONVERT, { ...oneByOne('v2vbig'), serviceOfferingId: offering, nicNetworkList: [] }), h);
      expect(error.message).toBe(plan.problems[1]!.message);
    });

    it('given a running source, a guest already imported whose MAC is taken, and a guest not on the host, then their problems, and no instance for the missing one', async () => {
      const running = await preview({ ...oneByOne('v2vrunning') });
      expect(running.problems.map((p) => p.code)).toEqual(['INVALID_STATE']);
      expect(running.problems[0]!.message).toMatch(/^VM v2vrunning might be on standalone host 10\.9\.1\.5 and is Running/);
      // v2vtwin was imported above (forced, with a new MAC): its name is taken, and its source MAC is v2vtest's.
      const twin = await preview({ ...oneByOne('v2vtwin') });
      expect(twin.problems.map((p) => [p.code, p.field])).toEqual([['BAD_USER_INPUT', 'name'], ['CONFLICT', 'forced']]);
      expect(twin.problems[1]!.message).toBe(
        `NIC 0 with MAC address 00:50:56:aa:bb:01 already exists on network ${zone.networkId} and forced flag is disabled. Retry with forced flag enabled if a new MAC address to be generated.`,
      );
      const missing = await preview({ ...oneByOne('nowhere') });
      expect(missing).toMatchObject({ ok: false, instance: null, problems: [{ code: 'BAD_USER_INPUT', message: `Cannot find VM with name nowhere on VMware host ${VMWARE_HOST}` }] });
    });

    it('given the plan, when importVm is run with the same arguments, then the instance is what the plan said', async () => {
      const variables = { ...oneByOne('v2vplan'), dataDiskOfferingList: [{ disk: '1', diskOffering: dataOffering }] };
      const plan = await preview(variables);
      const job = await finished(await start(variables));
      expect(job.status).toBe('SUCCEEDED');
      const vm = job.result!;
      expect({ cpuNumber: vm.cpuNumber, cpuSpeed: vm.cpuSpeed, memory: vm.memory }).toEqual({ cpuNumber: plan.instance!['cpuNumber'], cpuSpeed: plan.instance!['cpuSpeed'], memory: plan.instance!['memory'] });
      expect(vm.volumes.map((v) => [v.type, v.size, v.storagePoolId])).toEqual(plan.disks.map((d) => [d['type'], d['size'], d['storagePoolId']]));
      expect(vm.nics.map((n) => n.macAddress)).toEqual(plan.nics.map((n) => n['macAddress']));
      expect(await task(job.id)).toMatchObject({ convertInstanceHostId: plan.conversion!['convertInstanceHostId'], importInstanceHostId: plan.conversion!['importInstanceHostId'] });
    });
  });

  describe('a conversion that fails leaves nothing behind', () => {
    it('given a host that lost virt-v2v since its last heartbeat, when a guest is converted there, then the job and its task FAIL, the clean-up is sent, and no instance, volume, MAC, temporary file or secret is left', async () => {
      await canConvert(false);
      const held = h.secrets.size;
      let jobId: string;
      try {
        jobId = await start(oneByOne('v2vfail'));
        const job = await finished(jobId);
        expect(job.status).toBe('FAILED');
        expect(job.error?.message).toMatch(/^The convert process failed for instance v2vfail from VMware to KVM on host [0-9a-f-]{36}: Cannot convert the instance from VMware as the virt-v2v binary is not found on host /);
        expect(job.result?.volumes.map((v) => h.simulator.diskSize(v.id)) ?? []).toEqual((job.result?.volumes ?? []).map(() => undefined));
      } finally {
        await canConvert(true);
      }
      expect(await phasesSent(jobId)).toEqual(['convert', 'cleanup']);
      expect(await instanceNames()).not.toContain('v2vfail');
      expect(h.simulator.convertedDiskPaths()).toEqual([]);
      expect(h.secrets.size).toBe(held);
      expect(await task(jobId)).toMatchObject({ state: 'Failed', step: 'FAILED', sourceVmName: 'v2vfail', virtualMachineId: null, completed: expect.any(String) });
      const { importVmTasks } = await h.admin.request<{ importVmTasks: { nodes: Array<{ id: string }> } }>(TASKS, { zoneId: zone.zoneId, tasksFilter: 'FAILED' });
      expect(importVmTasks.nodes.map((node) => node.id)).toContain(jobId);

      // Its MAC was given back: the same guest converts now, without forced, keeping it.
      const again = await finished(await start(oneByOne('v2vfail')));
      expect(again).toMatchObject({ status: 'SUCCEEDED', result: { name: 'v2vfail', nics: [{ macAddress: '00:50:56:aa:bb:05' }] } });
    });

    it('given a domain of the guest\'s name on the import host, when converted, then the import fails, the clean-up is sent there and removes the converted disks, and nothing is left', async () => {
      converter().addUnmanagedDomain({ name: 'v2vclash', running: false, cpuNumber: 1, memory: 512, disks: [{ capacity: GiB }], nics: [] });
      const held = h.secrets.size;
      const jobId = await start(oneByOne('v2vclash'));
      const job = await finished(jobId);
      expect(job.status).toBe('FAILED');
      expect(job.error?.message).toMatch(/^The import process failed for instance v2vclash from VMware to KVM on host [0-9a-f-]{36}: /);
      expect(await phasesSent(jobId)).toEqual(['convert', 'import', 'cleanup']);
      expect(h.simulator.convertedDiskPaths()).toEqual([]);
      expect(await instanceNames()).not.toContain('v2vclash');
      expect(h.secrets.size).toBe(held);
      expect(await task(jobId)).toMatchObject({ state: 'Failed', step: 'FAILED' });
    });
  });

  it('then the password is in no event, logged error, job error, task or thrown error, and no secret is held', async () => {
    const events = JSON.stringify(await h.store.readAll());
    const logged = h.loggedErrors.map((entry) => `${entry.message} ${entry.error instanceof Error ? `${entry.error.message} ${entry.error.stack ?? ''}` : String(entry.error)}`).join('\n');
    const { asyncJobs } = await h.admin.request<{ asyncJobs: { nodes: Array<{ error: { message: string } | null }> } }>(`{ asyncJobs(first: 200) { nodes { error { message } } } }`);
    const { importVmTasks } = await h.admin.request<{ importVmTasks: { nodes: Task[] } }>(`query($zoneId: ID!) { importVmTasks(zoneId: $zoneId, first: 100) { nodes { ${TASK_FIELDS} } } }`, { zoneId: zone.zoneId });
    expect(events.includes(PASSWORD), 'an event holds the password').toBe(false);
    expect(logged.includes(PASSWORD), 'a logged error holds the password').toBe(false);
    expect(JSON.stringify(asyncJobs).includes(PASSWORD), 'a job error holds the password').toBe(false);
    expect(JSON.stringify(importVmTasks).includes(PASSWORD), 'a task holds the password').toBe(false);
    expect(JSON.stringify(thrown).includes(PASSWORD), 'an API error holds the password').toBe(false);
    expect(events).toContain('passwordRef');
    expect(h.secrets.size).toBe(0);
  });
});
