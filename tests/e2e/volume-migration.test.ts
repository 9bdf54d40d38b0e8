// Offline volume migration through GraphQL on simulated hosts: a stopped instance's root moves to
// another pool of its cluster, the host's copy lands in the new pool's directory, the space moves
// with it, and every refusal appends nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployed, gqlError, runJob, startHarness, type Harness } from './harness.js';

const GiB = 1024 ** 3;
const MIGRATE = `mutation($id: ID!, $to: [MigrateVolumeInput!]!, $h: ID) {
  migrateVirtualMachineWithVolume(virtualMachineId: $id, hostId: $h, migrateTo: $to) { id } }`;

describe('migrateVirtualMachineWithVolume', () => {
  let h: Harness;
  let secondPool = '';
  let tinyPool = '';
  let otherZonePool = '';

  async function pools(): Promise<Map<string, number>> {
    const { storagePools } = await h.admin.request<{ storagePools: { nodes: Array<{ id: string; allocatedBytes: number }> } }>(`query { storagePools(first: 100) { nodes { id allocatedBytes } } }`);
    return new Map(storagePools.nodes.map((p) => [p.id, p.allocatedBytes]));
  }

  async function root(id: string): Promise<{ id: string; storagePoolId: string | null }> {
    const { virtualMachine } = await h.admin.request<{ virtualMachine: { volumes: Array<{ id: string; type: string; storagePoolId: string | null }> } }>(
      `query($id: ID!) { virtualMachine(id: $id) { volumes { id type storagePoolId } } }`,
      { id },
    );
    return virtualMachine.volumes.find((v) => v.type === 'ROOT')!;
  }

  async function refused(variables: Record<string, unknown>, code: string, field?: string, client = h.admin): Promise<string> {
    const head = await h.logHead();
    const error = await gqlError(client.request(MIGRATE, variables), h);
    expect(error.extensions, error.message).toMatchObject(field === undefined ? { code } : { code, field });
    expect(await h.logHead()).toBe(head);
    return error.message;
  }

  beforeAll(async () => {
    h = await startHarness();
    const pool = async (zoneId: string, clusterId: string, name: string, path: string, capacityBytes: number) =>
      (
        await h.admin.request<{ createStoragePool: { id: string } }>(
          `mutation($z: ID!, $c: ID!, $n: String!, $p: String!, $cap: Float!) {
            createStoragePool(zoneId: $z, clusterId: $c, scope: "CLUSTER", name: $n, type: "SharedMountPoint", path: $p, capacityBytes: $cap) { id } }`,
          { z: zoneId, c: clusterId, n: name, p: path, cap: capacityBytes },
        )
      ).createStoragePool.id;
    secondPool = await pool(h.demo.zoneId, h.demo.clusterId, 'second-primary', '/mnt/second', 100 * GiB);
    tinyPool = await pool(h.demo.zoneId, h.demo.clusterId, 'tiny-primary', '/mnt/tiny', 1 * GiB);
    const { createZone } = await h.admin.request<{ createZone: { id: string } }>(`mutation { createZone(name: "far-zone", networkType: "Advanced") { id } }`);
    const { addCluster } = await h.admin.request<{ addCluster: { id: string } }>(`mutation($z: ID!) { addCluster(zoneId: $z, name: "far-cluster", hypervisor: "KVM") { id } }`, { z: createZone.id });
    otherZonePool = await pool(createZone.id, addCluster.id, 'far-primary', '/mnt/far', 100 * GiB);
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('moves a stopped instance’s root to another pool of its cluster, and its space with it', async () => {
    const vm = await deployed(h, h.admin, { name: 'movable' });
    const before = await root(vm.id);
    expect(before.storagePoolId).toBe(h.demo.storagePoolId);
    const size = vm.volumes.find((v) => v.type === 'ROOT')!.size;
    const allocated = await pools();

    // Running: refused, nothing appended.
    await refused({ id: vm.id, to: [{ volume: before.id, pool: secondPool }] }, 'INVALID_STATE');
    expect((await runJob(h, h.admin, `mutation($id: ID!) { stopVirtualMachine(id: $id) { id } }`, { id: vm.id })).status).toBe('SUCCEEDED');

    const job = await runJob(h, h.admin, MIGRATE, { id: vm.id, to: [{ volume: before.id, pool: secondPool }] });
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    expect(job.cmd).toBe('migrateVirtualMachineWithVolume');
    expect(job.result?.state).toBe('Stopped');
    expect(await root(vm.id)).toMatchObject({ id: before.id, storagePoolId: secondPool });
    // The host copied the disk into the new pool's directory.
    expect(h.simulator.diskLocation(before.id)).toBe('/mnt/second');
    const after = await pools();
    expect(after.get(h.demo.storagePoolId)).toBe(allocated.get(h.demo.storagePoolId)! - size);
    expect(after.get(secondPool)).toBe(allocated.get(secondPool)! + size);

    // It starts from there.
    const started = await runJob(h, h.admin, `mutation($id: ID!) { startVirtualMachine(id: $id) { id } }`, { id: vm.id });
    expect(started.status, JSON.stringify(started.error)).toBe('SUCCEEDED');
    expect((await root(vm.id)).storagePoolId).toBe(secondPool);
  });

  it('refuses what cannot be moved, appending nothing', async () => {
    const vm = await deployed(h, h.admin, { name: 'stuck', startVm: true });
    expect((await runJob(h, h.admin, `mutation($id: ID!) { stopVirtualMachine(id: $id) { id } }`, { id: vm.id })).status).toBe('SUCCEEDED');
    const rootId = (await root(vm.id)).id;
    const user = await h.createUser('mover', 'USER');
    await refused({ id: vm.id, to: [{ volume: rootId, pool: secondPool }] }, 'FORBIDDEN', undefined, user.client);
    await refused({ id: vm.id, to: [{ volume: rootId, pool: otherZonePool }] }, 'BAD_USER_INPUT', 'migrateTo[0].pool');
    await refused({ id: vm.id, to: [{ volume: rootId, pool: 'no-such-pool' }] }, 'BAD_USER_INPUT', 'migrateTo[0].pool');
    expect(await refused({ id: vm.id, to: [{ volume: rootId, pool: tinyPool }] }, 'INSUFFICIENT_CAPACITY', 'migrateTo[0].pool')).toContain('Storage pool tiny-primary has');
    await refused({ id: vm.id, to: [{ volume: rootId, pool: h.demo.storagePoolId }] }, 'BAD_USER_INPUT', 'migrateTo[0].pool');
    await refused({ id: vm.id, to: [{ volume: 'not-a-volume', pool: secondPool }] }, 'BAD_USER_INPUT', 'migrateTo[0].volume');
    const otherHost = h.demo.hostIds.find((id) => id !== vm.lastHostId && id !== vm.hostId)!;
    await refused({ id: vm.id, h: otherHost, to: [{ volume: rootId, pool: secondPool }] }, 'BAD_USER_INPUT', 'hostId');
  });
});
