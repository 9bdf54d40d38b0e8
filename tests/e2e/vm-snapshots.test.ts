// Instance snapshots end to end through GraphQL on the simulator (API.md "Instance snapshots",
// behaviour §5.1): memory and disk snapshots, the chain and its current flag, revert and delete, the
// refusals with CloudStack's messages (nothing appended), usage and events, a destroy that deletes
// the snapshots first, and another account that can neither see nor touch them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLClient } from 'graphql-request';
import { actionEvents, addSmallZone, deployed, gqlError, runJob, startHarness, usageEvents, type GqlError, type Harness, type Vm } from './harness.js';

interface Snapshot {
  id: string;
  name: string;
  displayName: string;
  description: string | null;
  virtualMachineId: string;
  type: 'Disk' | 'DiskAndMemory';
  state: string;
  current: boolean;
  parentId: string | null;
  serviceOfferingId: string | null;
  created: string;
}

const FIELDS = 'id name displayName description virtualMachineId type state current parentId serviceOfferingId created';
const CREATE = `mutation($vm: ID!, $name: String, $description: String, $memory: Boolean, $quiesce: Boolean) {
  createVMSnapshot(virtualMachineId: $vm, name: $name, description: $description, snapshotMemory: $memory, quiesceVm: $quiesce) { id status resourceType resourceId } }`;
const REVERT = `mutation($id: ID!) { revertToVMSnapshot(vmSnapshotId: $id) { id status resourceType resourceId } }`;
const DELETE = `mutation($id: ID!) { deleteVMSnapshot(vmSnapshotId: $id) { id status resourceType resourceId } }`;
const STOP = `mutation($id: ID!) { stopVirtualMachine(id: $id) { id } }`;

describe('instance snapshots', () => {
  let h: Harness;
  let user: { id: string; client: GraphQLClient };
  let other: { id: string; client: GraphQLClient };

  const list = async (c: GraphQLClient, variables: Record<string, unknown>) =>
    (
      await c.request<{ vmSnapshots: { nodes: Snapshot[]; totalCount: number } }>(
        `query($vm: ID, $id: ID, $name: String, $state: VMSnapshotState) { vmSnapshots(virtualMachineId: $vm, id: $id, name: $name, state: $state, first: 50) { nodes { ${FIELDS} } totalCount } }`,
        variables,
      )
    ).vmSnapshots;
  const snapshotsOf = async (vm: Vm) => (await list(user.client, { vm: vm.id })).nodes;
  /** Creates one and waits for its job; returns the snapshot as listed. */
  const snapshot = async (vm: Vm, variables: Record<string, unknown> = {}): Promise<Snapshot> => {
    const { createVMSnapshot } = await user.client.request<{ createVMSnapshot: { id: string; resourceType: string; resourceId: string } }>(CREATE, { vm: vm.id, ...variables });
    expect(createVMSnapshot.resourceType).toBe('VMSnapshot');
    const job = await h.waitForJob(user.client, createVMSnapshot.id);
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    const [created] = (await list(user.client, { id: createVMSnapshot.resourceId })).nodes;
    return created!;
  };
  /** A mutation that must be refused with `code`, appending nothing. */
  const refused = async (c: GraphQLClient, mutation: string, variables: Record<string, unknown>, code: string, field?: string): Promise<GqlError> => {
    const head = await h.logHead();
    const error = await gqlError(c.request(mutation, variables), h);
    expect(error.extensions, error.message).toMatchObject(field === undefined ? { code } : { code, field });
    expect(await h.logHead()).toBe(head);
    return error;
  };
  const state = async (vm: Vm) => (await user.client.request<{ virtualMachine: { state: string; serviceOfferingId: string } }>(`query($id: ID!) { virtualMachine(id: $id) { state serviceOfferingId } }`, { id: vm.id })).virtualMachine;

  beforeAll(async () => {
    h = await startHarness();
    user = await h.createUser('snapper');
    other = await h.createUser('stranger');
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('takes memory snapshots of a running instance as a chain, reverts to one, and deletes a parent', async () => {
    const vm = await deployed(h, user.client, { name: 'snap-chain' });
    const first = await snapshot(vm, { name: 'before upgrade', description: 'clean', memory: true });
    expect(first).toMatchObject({ displayName: 'before upgrade', description: 'clean', virtualMachineId: vm.id, type: 'DiskAndMemory', state: 'Ready', current: true, parentId: null, serviceOfferingId: vm.serviceOfferingId });
    expect(first.name).toMatch(/_VS_\d{14}$/);
    const second = await snapshot(vm, { name: 'after upgrade', memory: true });
    expect(second).toMatchObject({ current: true, parentId: first.id });
    expect((await list(user.client, { id: first.id })).nodes[0]!.current).toBe(false);

    const revert = await runJob(h, user.client, REVERT, { id: first.id });
    expect(revert.status, JSON.stringify(revert.error)).toBe('SUCCEEDED');
    expect((await state(vm)).state).toBe('Running');
    const afterRevert = await snapshotsOf(vm);
    expect(afterRevert.map((s) => [s.displayName, s.current])).toEqual([['before upgrade', true], ['after upgrade', false]]);
    // Taken after the revert: a child of the snapshot reverted to.
    const third = await snapshot(vm, { name: 'branch', memory: true });
    expect(third.parentId).toBe(first.id);

    const deleted = await runJob(h, user.client, DELETE, { id: first.id });
    expect(deleted.status).toBe('SUCCEEDED');
    const left = await snapshotsOf(vm);
    expect(left.map((s) => [s.displayName, s.parentId])).toEqual([['after upgrade', null], ['branch', null]]);

    const events = (await actionEvents(h.admin, vm.id)).nodes.map((e) => e.type);
    for (const type of ['VMSNAPSHOT.CREATE', 'VMSNAPSHOT.REVERTTO', 'VMSNAPSHOT.DELETE']) expect(events).toContain(type);
    const usage = (await usageEvents(h.admin, user.id)).nodes.filter((u) => u.type.startsWith('VMSNAPSHOT.') && (u.details as { vmSnapshotId?: string }).vmSnapshotId === first.id);
    expect(usage.map((u) => u.type)).toEqual(['VMSNAPSHOT.CREATE', 'VMSNAPSHOT.ON_PRIMARY', 'VMSNAPSHOT.DELETE', 'VMSNAPSHOT.OFF_PRIMARY']);
    expect(usage[0]).toMatchObject({ resourceId: vm.id, resourceName: first.name, templateId: vm.volumes[0]!.id });
  });

  it('takes a disk snapshot of a stopped instance, reverts it stopped, and refuses what would change the power state', async () => {
    const vm = await deployed(h, user.client, { name: 'snap-disk' });
    const memory = await snapshot(vm, { name: 'live', memory: true });
    await runJob(h, user.client, STOP, { id: vm.id });
    const disk = await snapshot(vm, { name: 'cold' });
    expect(disk).toMatchObject({ type: 'Disk', parentId: memory.id, current: true });
    const revertMessage = 'VM Snapshot revert not allowed. This will result in VM state change. You can revert running VM to disk and memory type snapshot and stopped VM to disk type snapshot';
    expect((await refused(user.client, REVERT, { id: memory.id }, 'INVALID_STATE')).message).toBe(revertMessage);
    expect((await refused(user.client, CREATE, { vm: vm.id, memory: true }, 'INVALID_STATE', 'snapshotMemory')).message).toBe('Can not snapshot memory when VM is not in Running state');
    const revert = await runJob(h, user.client, REVERT, { id: disk.id });
    expect(revert.status).toBe('SUCCEEDED');
    expect((await state(vm)).state).toBe('Stopped');
  });

  it('restores on revert the offering the instance had when the snapshot was taken', async () => {
    const vm = await deployed(h, user.client, { name: 'snap-offering' });
    await runJob(h, user.client, STOP, { id: vm.id });
    const small = await snapshot(vm, { name: 'small' });
    await user.client.request(`mutation($id: ID!, $s: ID!) { changeServiceForVirtualMachine(id: $id, serviceOfferingId: $s) { id } }`, { id: vm.id, s: h.demo.serviceOfferingIds.medium });
    expect((await state(vm)).serviceOfferingId).toBe(h.demo.serviceOfferingIds.medium);
    expect((await runJob(h, user.client, REVERT, { id: small.id })).status).toBe('SUCCEEDED');
    expect((await state(vm)).serviceOfferingId).toBe(vm.serviceOfferingId);
  });

  it('leaves a snapshot the host failed to take in Error, unbilled, and deletable once the host works again', async () => {
    const zone = await addSmallZone(h, 'snapfail', { failOn: ['SNAPSHOT'] });
    const vm = await deployed(h, h.admin, { name: 'snap-fails', zoneId: zone.zoneId, templateId: zone.templateId });
    const { createVMSnapshot } = await h.admin.request<{ createVMSnapshot: { id: string; resourceId: string } }>(CREATE, { vm: vm.id, memory: true });
    const job = await h.waitForJob(h.admin, createVMSnapshot.id);
    expect(job.status).toBe('FAILED');
    expect(job.error?.message).toMatch(/simulated SNAPSHOT failure/);
    expect((await list(h.admin, { id: createVMSnapshot.resourceId })).nodes[0]).toMatchObject({ state: 'Error', current: false });
    const usage = (await usageEvents(h.admin)).nodes.filter((u) => u.resourceId === vm.id && u.type.startsWith('VMSNAPSHOT.'));
    expect(usage).toEqual([]);
    const failedDelete = await runJob(h, h.admin, DELETE, { id: createVMSnapshot.resourceId });
    expect(failedDelete.status).toBe('FAILED');
    expect((await list(h.admin, { id: createVMSnapshot.resourceId })).nodes[0]!.state).toBe('Error');
  });

  it('refuses a duplicate name, too many snapshots, and a disk snapshot a host could not revert', async () => {
    const vm = await deployed(h, user.client, { name: 'snap-rules' });
    await snapshot(vm, { name: 'one', memory: true });
    const duplicate = await refused(user.client, CREATE, { vm: vm.id, name: 'one', memory: true }, 'CONFLICT', 'name');
    expect(duplicate.message).toBe('Creating VM snapshot failed due to VM snapshot with nameone  already exists');
    await h.admin.request(`mutation { updateConfiguration(name: "vmsnapshot.max", value: "1") { name } }`);
    try {
      const over = await refused(user.client, CREATE, { vm: vm.id, name: 'two', memory: true }, 'INVALID_STATE');
      expect(over.message).toBe('Creating vm snapshot failed due to a VM can just have : 1 VM snapshots. Please delete old ones');
    } finally {
      await h.admin.request(`mutation { updateConfiguration(name: "vmsnapshot.max", value: "10") { name } }`);
    }
    const hostId = (await h.admin.request<{ virtualMachine: { hostId: string } }>(`query($id: ID!) { virtualMachine(id: $id) { hostId } }`, { id: vm.id })).virtualMachine.hostId;
    await h.reportHostCapabilities(hostId, ['snapshot.memory', 'snapshot.disk.stopped']);
    try {
      const disk = await refused(user.client, CREATE, { vm: vm.id, name: 'disk-only' }, 'INVALID_STATE', 'snapshotMemory');
      expect(disk.message).toMatch(/cannot revert; use snapshotMemory=true .* or stop the instance first/);
      expect(disk.message).not.toContain(hostId);
    } finally {
      await h.reportHostCapabilities(hostId, ['snapshot.memory', 'snapshot.disk.stopped', 'snapshot.disk.running']);
    }
  });

  it('refuses bad input with its code, naming the argument, and appends nothing', async () => {
    const vm = await deployed(h, user.client, { name: 'snap-input' });
    await refused(user.client, CREATE, { vm: vm.id, name: 'x'.repeat(300) }, 'BAD_USER_INPUT', 'name');
    const control = await refused(user.client, CREATE, { vm: vm.id, name: 'evil\u001b[2J' }, 'BAD_USER_INPUT', 'name');
    expect(control.message).toMatch(/control characters/);
    await refused(user.client, CREATE, { vm: vm.id, description: 'd\u0007' }, 'BAD_USER_INPUT', 'description');
    await refused(user.client, CREATE, { vm: vm.id, memory: 'yes' }, 'BAD_USER_INPUT');
    await refused(user.client, CREATE, { vm: '00000000-0000-4000-8000-000000000000' }, 'NOT_FOUND', 'virtualMachineId');
    await refused(user.client, REVERT, { id: '00000000-0000-4000-8000-000000000000' }, 'NOT_FOUND', 'vmSnapshotId');
    await refused(user.client, DELETE, { id: 42 }, 'NOT_FOUND', 'vmSnapshotId');
    const badState = await gqlError(user.client.request(`query { vmSnapshots(state: Removed) { totalCount } }`), h);
    expect(badState.extensions?.code).toBeDefined();
  });

  it('keeps another account from seeing, reverting or deleting a snapshot, or taking one', async () => {
    const vm = await deployed(h, user.client, { name: 'snap-private' });
    const mine = await snapshot(vm, { name: 'mine', memory: true });
    expect((await list(other.client, {})).nodes.map((s) => s.id)).not.toContain(mine.id);
    expect((await list(other.client, { id: mine.id })).totalCount).toBe(0);
    await refused(other.client, REVERT, { id: mine.id }, 'NOT_FOUND', 'vmSnapshotId');
    await refused(other.client, DELETE, { id: mine.id }, 'NOT_FOUND', 'vmSnapshotId');
    await refused(other.client, CREATE, { vm: vm.id, memory: true }, 'NOT_FOUND', 'virtualMachineId');
    await refused(other.client, `query($vm: ID) { vmSnapshots(virtualMachineId: $vm) { totalCount } }`, { vm: vm.id }, 'NOT_FOUND', 'virtualMachineId');
    // The root admin sees it.
    expect((await list(h.admin, { id: mine.id })).nodes[0]?.displayName).toBe('mine');
  });

  it('deletes the snapshots of a destroyed instance first, closing their usage (CloudStack bug #3212)', async () => {
    const vm = await deployed(h, user.client, { name: 'snap-destroy' });
    const a = await snapshot(vm, { name: 'a', memory: true });
    const b = await snapshot(vm, { name: 'b', memory: true });
    const destroy = await runJob(h, user.client, `mutation($id: ID!) { destroyVirtualMachine(id: $id) { id } }`, { id: vm.id });
    expect(destroy.status, JSON.stringify(destroy.error)).toBe('SUCCEEDED');
    expect(await snapshotsOf(vm)).toEqual([]);
    const usage = (await usageEvents(h.admin, user.id)).nodes.filter((u) => u.resourceId === vm.id);
    for (const id of [a.id, b.id]) {
      const types = usage.filter((u) => (u.details as { vmSnapshotId?: string } | null)?.vmSnapshotId === id).map((u) => u.type);
      expect(types).toEqual(['VMSNAPSHOT.CREATE', 'VMSNAPSHOT.ON_PRIMARY', 'VMSNAPSHOT.DELETE', 'VMSNAPSHOT.OFF_PRIMARY']);
    }
    // The snapshots' usage closes before the instance's.
    const types = usage.map((u) => u.type);
    expect(types.lastIndexOf('VMSNAPSHOT.OFF_PRIMARY')).toBeLessThan(types.indexOf('VM.DESTROY'));
    // CloudStack's usage server makes one closed VM_SNAPSHOT record per snapshot and volume of them.
    const { usageRecords } = await h.admin.request<{ usageRecords: { nodes: Array<{ resourceId: string; resourceName: string; templateId: string; endDate: string | null; closedBy: string | null }> } }>(
      `query($account: ID, $start: DateTime!, $end: DateTime!) { usageRecords(accountId: $account, startDate: $start, endDate: $end, type: VM_SNAPSHOT, first: 100) { nodes { resourceId resourceName templateId endDate closedBy } } }`,
      { account: user.id, start: new Date(Date.now() - 3_600_000).toISOString(), end: new Date(Date.now() + 60_000).toISOString() },
    );
    const records = usageRecords.nodes.filter((r) => r.resourceId === vm.id);
    expect(records.map((r) => r.resourceName).sort()).toEqual([a.name, b.name].sort());
    for (const record of records) expect(record).toMatchObject({ templateId: vm.volumes[0]!.id, closedBy: expect.any(String) });
  });
});
