// Affinity groups through GraphQL on the simulator (behaviour §6.3): the groups' refusals, CloudStack's
// placement scenarios (strict anti-affinity apart, strict affinity together, the non-strict sequences
// with migrate, stop/start, considerLastHost=false, an explicit host and a startVm:false instance), and
// concurrent deploys into one anti-affinity group, which never share a host.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLClient } from 'graphql-request';
import { actionEvents, gqlError, JOB_FIELDS, runJob, startHarness, VM_FIELDS, type Harness, type Job, type Vm } from './harness.js';

interface Group {
  id: string;
  name: string;
  type: string;
  description: string | null;
  accountId: string;
  virtualMachineIds: string[];
}

const GROUP_FIELDS = 'id name type description accountId domainId virtualMachineIds';
const CREATE = `mutation($name: String!, $type: String!, $description: String, $account: String) {
  createAffinityGroup(name: $name, type: $type, description: $description, account: $account) { ${GROUP_FIELDS} } }`;
const DELETE = `mutation($id: ID, $name: String) { deleteAffinityGroup(id: $id, name: $name) }`;
const DEPLOY_IN = `mutation($zoneId: ID!, $serviceOfferingId: ID!, $templateId: ID!, $name: String, $startVm: Boolean, $hostId: ID, $ids: [ID!], $names: [String!], $account: String) {
  deployVirtualMachine(zoneId: $zoneId, serviceOfferingId: $serviceOfferingId, templateId: $templateId, name: $name, startVm: $startVm, hostId: $hostId,
    affinityGroupIds: $ids, affinityGroupNames: $names, account: $account) { ${JOB_FIELDS} } }`;
const START = `mutation($id: ID!, $hostId: ID, $considerLastHost: Boolean) { startVirtualMachine(id: $id, hostId: $hostId, considerLastHost: $considerLastHost) { id } }`;
const STOP = `mutation($id: ID!) { stopVirtualMachine(id: $id) { id } }`;
const MIGRATE = `mutation($id: ID!, $hostId: ID) { migrateVirtualMachine(virtualMachineId: $id, hostId: $hostId) { id } }`;
const UPDATE_GROUPS = `mutation($id: ID!, $ids: [ID!], $names: [String!]) { updateVMAffinityGroup(id: $id, affinityGroupIds: $ids, affinityGroupNames: $names) { ${VM_FIELDS} affinityGroupIds } }`;

interface Zone {
  zoneId: string;
  templateId: string;
  hostIds: string[];
}

/** A zone of its own with `hosts` simulated hosts in one cluster (the demo zone has three). */
async function zoneWithHosts(h: Harness, name: string, hosts: number): Promise<Zone> {
  const a = h.admin;
  const { createZone } = await a.request<{ createZone: { id: string } }>(`mutation($name: String!) { createZone(name: $name, networkType: "Advanced") { id } }`, { name });
  const zoneId = createZone.id;
  const { addCluster } = await a.request<{ addCluster: { id: string } }>(`mutation($zoneId: ID!, $name: String!) { addCluster(zoneId: $zoneId, name: $name, hypervisor: "KVM") { id } }`, {
    zoneId,
    name: `${name}-cluster`,
  });
  const hostIds: string[] = [];
  for (let i = 0; i < hosts; i++) {
    const { addHost } = await a.request<{ addHost: { id: string } }>(
      `mutation($clusterId: ID!, $name: String!) { addHost(clusterId: $clusterId, name: $name, driver: "simulator", cpuNumber: 8, cpuSpeed: 2000, memory: 16384) { id } }`,
      { clusterId: addCluster.id, name: `${name}-host-${i}` },
    );
    hostIds.push(addHost.id);
  }
  await a.request(`mutation($zoneId: ID!, $name: String!) { createStoragePool(zoneId: $zoneId, name: $name, type: "NFS", url: "nfs://nfs.e2e.internal/export/primary") { id } }`, {
    zoneId,
    name: `${name}-nfs`,
  });
  await a.request(`mutation($zoneId: ID!, $name: String!) { createNetwork(zoneId: $zoneId, name: $name, type: L2, vlan: 301) { id } }`, { zoneId, name: `${name}-l2` });
  const { registerTemplate } = await a.request<{ registerTemplate: { id: string } }>(
    `mutation($zoneId: ID!, $name: String!) { registerTemplate(zoneId: $zoneId, name: $name, osType: "Debian GNU/Linux 12 (64-bit)",
      url: "https://example.invalid/debian-12.qcow2", size: 2147483648, format: "QCOW2", hypervisor: "KVM", isPublic: true) { id } }`,
    { zoneId, name: `${name}-linux` },
  );
  return { zoneId, templateId: registerTemplate.id, hostIds };
}

describe('affinity groups over GraphQL', () => {
  let h: Harness;
  let zone: Zone;
  let user: { id: string; key: string; client: GraphQLClient };
  let other: { id: string; key: string; client: GraphQLClient };

  beforeAll(async () => {
    h = await startHarness();
    zone = await zoneWithHosts(h, 'affinity', 4);
    user = await h.createUser('affinity-user');
    other = await h.createUser('affinity-other');
  });
  afterAll(async () => {
    await h?.stop();
  });

  const create = async (c: GraphQLClient, name: string, type: string, extra: Record<string, unknown> = {}) =>
    (await c.request<{ createAffinityGroup: Group }>(CREATE, { name, type, description: null, account: null, ...extra })).createAffinityGroup;

  const deployJob = (c: GraphQLClient, vars: Record<string, unknown>) =>
    c
      .request<{ deployVirtualMachine: Job }>(DEPLOY_IN, {
        zoneId: zone.zoneId,
        serviceOfferingId: h.demo.serviceOfferingIds.small,
        templateId: zone.templateId,
        name: null,
        startVm: true,
        hostId: null,
        ids: null,
        names: null,
        account: null,
        ...vars,
      })
      .then((r) => r.deployVirtualMachine);

  /** Deploys as the root admin (who sees hosts) and waits; throws unless it succeeded. */
  const deployIn = async (vars: Record<string, unknown>): Promise<Vm> => {
    const job = await h.waitForJob(h.admin, (await deployJob(h.admin, vars)).id);
    if (job.status !== 'SUCCEEDED' || !job.result) throw new Error(`deploy failed: ${JSON.stringify(job.error)}`);
    return job.result;
  };
  const vm = async (id: string) =>
    (await h.admin.request<{ virtualMachine: Vm & { affinityGroupIds: string[] } }>(`query($id: ID!) { virtualMachine(id: $id) { ${VM_FIELDS} affinityGroupIds } }`, { id })).virtualMachine;
  const ok = async (job: Job) => expect(job, JSON.stringify(job.error)).toMatchObject({ status: 'SUCCEEDED' });

  describe('the groups', () => {
    it('creates a group in the caller account, refuses an unknown type and a duplicate name, and records AG.CREATE', async () => {
      const group = await create(user.client, 'web', 'host anti-affinity', { description: 'front ends' });
      expect(group).toMatchObject({ name: 'web', type: 'host anti-affinity', description: 'front ends', accountId: user.id, virtualMachineIds: [] });
      const badType = await gqlError(create(user.client, 'db', 'host-anti-affinity'));
      expect(badType.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'type' });
      expect(badType.message).toBe(
        'Unable to create affinity group, invalid affinity group type: host-anti-affinity. Valid values are host affinity,host anti-affinity,non-strict host affinity,non-strict host anti-affinity',
      );
      const duplicate = await gqlError(create(user.client, 'WEB', 'host affinity'));
      expect(duplicate.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
      expect(duplicate.message).toBe('Unable to create affinity group, a group with name WEB already exists.');
      // Another account may use the name.
      expect(await create(other.client, 'web', 'host affinity')).toMatchObject({ accountId: other.id });
      const trail = await actionEvents(user.client, group.id);
      expect(trail.nodes.map((e) => e.type)).toEqual(['AG.CREATE']);
    });

    it('lets one of concurrent creations of one name through', async () => {
      const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => create(user.client, 'racing', 'host affinity')));
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const { affinityGroups } = await user.client.request<{ affinityGroups: { nodes: Group[] } }>(`query { affinityGroups(name: "racing") { nodes { ${GROUP_FIELDS} } } }`);
      expect(affinityGroups.nodes).toHaveLength(1);
    });

    it('an admin creates a group for an account; lists filter by type, name and account; another account sees none of it', async () => {
      const group = await create(h.admin, 'admin-made', 'non-strict host affinity', { account: 'affinity-user' });
      expect(group.accountId).toBe(user.id);
      const list = async (c: GraphQLClient, args: string) =>
        (await c.request<{ affinityGroups: { nodes: Group[]; totalCount: number } }>(`query { affinityGroups(${args}) { nodes { ${GROUP_FIELDS} } totalCount } }`)).affinityGroups;
      expect((await list(user.client, 'type: "non-strict host affinity"')).nodes.map((g) => g.name)).toEqual(['admin-made']);
      expect((await list(other.client, `id: "${group.id}"`)).totalCount).toBe(0);
      expect((await list(h.admin, `accountId: "${other.id}"`)).nodes.map((g) => g.name)).toEqual(['web']);
      expect((await gqlError(list(user.client, 'type: "sticky"'))).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'type' });
    });

    it('deleteAffinityGroup needs an id or a name, not both; another account’s group is NOT_FOUND', async () => {
      const group = await create(user.client, 'to-delete', 'host affinity');
      const neither = await gqlError(user.client.request(DELETE, { id: null, name: null }));
      expect(neither).toMatchObject({ message: 'Either the affinity group Id or group name must be specified to delete the group', extensions: { code: 'BAD_USER_INPUT' } });
      expect((await gqlError(user.client.request(DELETE, { id: group.id, name: 'to-delete' }))).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
      expect((await gqlError(other.client.request(DELETE, { id: group.id, name: null }))).extensions).toMatchObject({ code: 'NOT_FOUND', field: 'id' });
      expect((await gqlError(other.client.request(DELETE, { id: null, name: 'to-delete' }))).extensions).toMatchObject({ code: 'NOT_FOUND', field: 'name' });
      expect(await user.client.request(DELETE, { id: null, name: 'to-delete' })).toEqual({ deleteAffinityGroup: true });
      expect((await gqlError(user.client.request(DELETE, { id: group.id, name: null }))).extensions).toMatchObject({ code: 'NOT_FOUND' });
      expect((await actionEvents(user.client, group.id)).nodes.map((e) => e.type)).toEqual(['AG.CREATE', 'AG.DELETE']);
      // The name is free again.
      expect(await create(user.client, 'to-delete', 'host affinity')).toMatchObject({ name: 'to-delete' });
    });

    it('a deploy names groups by id or by name, not both, and only the owner’s', async () => {
      const mine = await create(user.client, 'deploy-refs', 'non-strict host affinity');
      const theirs = await create(other.client, 'theirs', 'host affinity');
      const both = await gqlError(deployJob(user.client, { ids: [mine.id], names: ['deploy-refs'] }));
      expect(both).toMatchObject({ message: 'affinitygroupids parameter is mutually exclusive with affinitygroupnames parameter', extensions: { code: 'BAD_USER_INPUT' } });
      const foreign = await gqlError(deployJob(user.client, { ids: [theirs.id] }));
      expect(foreign.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'affinityGroupIds[0]' });
      expect((await gqlError(deployJob(user.client, { names: ['theirs'] }))).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'affinityGroupNames[0]' });
      // The root admin sees the other account's group, but it is not the instance owner's.
      const admins = await gqlError(deployJob(h.admin, { ids: [theirs.id], account: 'affinity-user' }));
      expect(admins).toMatchObject({ message: "Affinity Group theirs does not belong to the VM's account", extensions: { code: 'FORBIDDEN' } });
      const job = await h.waitForJob(user.client, (await deployJob(user.client, { names: ['deploy-refs'], startVm: false })).id);
      await ok(job);
      expect((await vm(job.instanceId!)).affinityGroupIds).toEqual([mine.id]);
    });
  });

  describe('strict groups', () => {
    it('host anti-affinity: members on different hosts; one more than hosts fails naming the group', async () => {
      const group = await create(h.admin, 'apart', 'host anti-affinity');
      const vms: Vm[] = [];
      for (let i = 0; i < 4; i++) vms.push(await deployIn({ ids: [group.id], name: `apart-${i}` }));
      expect(new Set(vms.map((v) => v.hostId)).size).toBe(4);
      const fifth = await h.waitForJob(h.admin, (await deployJob(h.admin, { ids: [group.id], name: 'apart-4' })).id);
      expect(fifth.error).toMatchObject({ code: 'INSUFFICIENT_CAPACITY' });
      expect(fifth.error!.message).toContain('host anti-affinity group apart');
      // Live migration onto another member's host is refused, naming the group.
      const moved = await gqlError(h.admin.request(MIGRATE, { id: vms[0]!.id, hostId: vms[1]!.hostId }));
      expect(moved.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'hostId' });
      expect(moved.message).toContain('host anti-affinity group apart');
      // A stopped member frees its host for the group; an explicit host bypasses the group.
      await ok(await runJob(h, h.admin, STOP, { id: vms[0]!.id }));
      const again = await deployIn({ ids: [group.id], name: 'apart-5' });
      expect(again.hostId).toBe(vms[0]!.hostId);
      const explicit = await deployIn({ ids: [group.id], name: 'apart-6', hostId: vms[1]!.hostId });
      expect(explicit.hostId).toBe(vms[1]!.hostId);
      for (const v of [...vms.slice(1), again, explicit]) await ok(await runJob(h, h.admin, STOP, { id: v.id }));
    });

    it('host affinity: members on the same host', async () => {
      const group = await create(h.admin, 'together', 'host affinity');
      const first = await deployIn({ ids: [group.id], name: 'together-0' });
      const second = await deployIn({ ids: [group.id], name: 'together-1' });
      const third = await deployIn({ names: ['together'], name: 'together-2' });
      expect([second.hostId, third.hostId]).toEqual([first.hostId, first.hostId]);
      const moved = await gqlError(h.admin.request(MIGRATE, { id: second.id, hostId: zone.hostIds.find((id) => id !== first.hostId) }));
      expect(moved.message).toContain('host affinity group together');
      for (const v of [first, second, third]) await ok(await runJob(h, h.admin, STOP, { id: v.id }));
    });

    it('concurrent deploys into one anti-affinity group never share a host', async () => {
      const group = await create(h.admin, 'race-apart', 'host anti-affinity');
      const jobs = await Promise.all(Array.from({ length: 7 }, (_, i) => deployJob(h.admin, { ids: [group.id], name: `race-${i}` })));
      const done = await Promise.all(jobs.map((j) => h.waitForJob(h.admin, j.id)));
      const placed = done.filter((j) => j.status === 'SUCCEEDED');
      expect(placed).toHaveLength(4);
      expect(new Set(placed.map((j) => j.result!.hostId)).size).toBe(4);
      for (const failed of done.filter((j) => j.status !== 'SUCCEEDED')) expect(failed.error).toMatchObject({ code: 'INSUFFICIENT_CAPACITY' });
      for (const j of placed) await ok(await runJob(h, h.admin, STOP, { id: j.instanceId }));
    });
  });

  describe('non-strict groups (the guide’s "Determine Destination Host" sequences)', () => {
    it('non-strict anti-affinity: apart, a migration together is allowed, a restart returns to the last host unless considerLastHost=false', async () => {
      const group = await create(h.admin, 'soft-apart', 'non-strict host anti-affinity');
      const vm1 = await deployIn({ ids: [group.id], name: 'soft-apart-1' });
      const vm2 = await deployIn({ ids: [group.id], name: 'soft-apart-2' });
      expect(vm2.hostId).not.toBe(vm1.hostId);
      await ok(await runJob(h, h.admin, MIGRATE, { id: vm2.id, hostId: vm1.hostId }));
      expect((await vm(vm2.id)).hostId).toBe(vm1.hostId);
      await ok(await runJob(h, h.admin, STOP, { id: vm2.id }));
      await ok(await runJob(h, h.admin, START, { id: vm2.id, hostId: null, considerLastHost: null }));
      expect((await vm(vm2.id)).hostId).toBe(vm1.hostId);
      await ok(await runJob(h, h.admin, STOP, { id: vm2.id }));
      await ok(await runJob(h, h.admin, START, { id: vm2.id, hostId: null, considerLastHost: false }));
      expect((await vm(vm2.id)).hostId).not.toBe(vm1.hostId);
      // An explicit host is taken whatever the group says.
      const vm3 = await deployIn({ ids: [group.id], name: 'soft-apart-3', hostId: vm1.hostId });
      expect(vm3.hostId).toBe(vm1.hostId);
      for (const v of [vm1, vm2, vm3]) await ok(await runJob(h, h.admin, STOP, { id: v.id }));
    });

    it('non-strict affinity: a startVm:false member started later joins the others', async () => {
      const group = await create(h.admin, 'soft-together', 'non-strict host affinity');
      const vm1 = await deployIn({ ids: [group.id], name: 'soft-together-1' });
      const vm2 = await deployIn({ ids: [group.id], name: 'soft-together-2' });
      expect(vm2.hostId).toBe(vm1.hostId);
      const later = await deployIn({ ids: [group.id], name: 'soft-together-3', startVm: false });
      expect(later.state).toBe('Stopped');
      await ok(await runJob(h, h.admin, START, { id: later.id, hostId: null, considerLastHost: null }));
      expect((await vm(later.id)).hostId).toBe(vm1.hostId);
      // A stopped member still counts on its last host (capacity.skipcounting.hours): with vm1 and vm2
      // stopped, a restart of vm1 without its last host still goes where vm2 last ran.
      await ok(await runJob(h, h.admin, STOP, { id: later.id }));
      await ok(await runJob(h, h.admin, STOP, { id: vm2.id }));
      await ok(await runJob(h, h.admin, STOP, { id: vm1.id }));
      await ok(await runJob(h, h.admin, START, { id: vm1.id, hostId: null, considerLastHost: false }));
      expect((await vm(vm1.id)).hostId).toBe(vm2.hostId ?? vm1.hostId);
      await ok(await runJob(h, h.admin, STOP, { id: vm1.id }));
    });
  });

  describe('membership', () => {
    it('updateVMAffinityGroup: stopped instances only, replaces the set, records VM.AG.UPDATE', async () => {
      const a = await create(h.admin, 'member-a', 'host affinity');
      const b = await create(h.admin, 'member-b', 'non-strict host anti-affinity');
      const running = await deployIn({ ids: [a.id], name: 'member-1' });
      const refused = await gqlError(h.admin.request(UPDATE_GROUPS, { id: running.id, ids: [b.id], names: null }));
      expect(refused.extensions).toMatchObject({ code: 'INVALID_STATE' });
      expect(refused.message).toContain('make sure the virtual machine is stopped');
      await ok(await runJob(h, h.admin, STOP, { id: running.id }));
      const { updateVMAffinityGroup } = await h.admin.request<{ updateVMAffinityGroup: { affinityGroupIds: string[] } }>(UPDATE_GROUPS, { id: running.id, ids: null, names: ['member-b'] });
      expect(updateVMAffinityGroup.affinityGroupIds).toEqual([b.id]);
      const { affinityGroups } = await h.admin.request<{ affinityGroups: { nodes: Group[] } }>(`query($vm: ID) { affinityGroups(virtualMachineId: $vm) { nodes { ${GROUP_FIELDS} } } }`, { vm: running.id });
      expect(affinityGroups.nodes.map((g) => g.id)).toEqual([b.id]);
      expect((await actionEvents(h.admin, running.id, 'VM.AG.UPDATE')).totalCount).toBe(1);
    });

    it('deleting a group detaches its members; running ones stay where they are', async () => {
      const group = await create(h.admin, 'short-lived', 'host anti-affinity');
      const member = await deployIn({ ids: [group.id], name: 'short-lived-1' });
      expect(await h.admin.request(DELETE, { id: group.id, name: null })).toEqual({ deleteAffinityGroup: true });
      const after = await vm(member.id);
      expect(after).toMatchObject({ state: 'Running', hostId: member.hostId, affinityGroupIds: [] });
      await ok(await runJob(h, h.admin, STOP, { id: member.id }));
    });
  });
});
