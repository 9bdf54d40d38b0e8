// VMware → KVM through GraphQL on the simulator (issue 17; behaviour §4.7): importVm(importSource:
// VMWARE)'s refusals that come before any host is asked, each in CloudStack's words, appending nothing
// and keeping no secret; importVmTasks. (The conversion itself needs the simulator's VMware host.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSmallZone, gqlError, startHarness, type Harness, type SmallZone } from './harness.js';

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
