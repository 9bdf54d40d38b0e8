// Volatile root disks through GraphQL on simulated hosts: an instance of an `isVolatile` offering
// gets a new root volume from its template on a stop/start and on a reboot, with VOLUME.DELETE and
// VOLUME.CREATE usage, and its pool holds one root's space throughout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployed, runJob, startHarness, usageEvents, type Harness } from './harness.js';

describe('volatile root disks', () => {
  let h: Harness;
  let volatileOffering = '';

  beforeAll(async () => {
    h = await startHarness();
    const { createServiceOffering } = await h.admin.request<{ createServiceOffering: { id: string; isVolatile: boolean } }>(
      `mutation { createServiceOffering(name: "volatile-small", cpuNumber: 1, cpuSpeed: 500, memory: 512, isVolatile: true) { id isVolatile } }`,
    );
    expect(createServiceOffering.isVolatile).toBe(true);
    volatileOffering = createServiceOffering.id;
  });

  afterAll(async () => {
    await h?.stop();
  });

  async function root(id: string): Promise<{ id: string; state: string; storagePoolId: string | null; size: number }> {
    const { virtualMachine } = await h.admin.request<{ virtualMachine: { volumes: Array<{ id: string; type: string; state: string; storagePoolId: string | null; size: number }> } }>(
      `query($id: ID!) { virtualMachine(id: $id) { volumes { id type state storagePoolId size } } }`,
      { id },
    );
    return virtualMachine.volumes.find((v) => v.type === 'ROOT')!;
  }

  async function allocated(): Promise<number> {
    const { storagePools } = await h.admin.request<{ storagePools: { nodes: Array<{ id: string; allocatedBytes: number }> } }>(`query { storagePools { nodes { id allocatedBytes } } }`);
    return storagePools.nodes.find((p) => p.id === h.demo.storagePoolId)!.allocatedBytes;
  }

  it('replaces the root on stop/start and on reboot, with VOLUME.DELETE and VOLUME.CREATE, holding one root in the pool', async () => {
    const before = await allocated();
    const vm = await deployed(h, h.admin, { serviceOfferingId: volatileOffering, name: 'volatile-1' });
    const first = await root(vm.id);
    expect(first).toMatchObject({ state: 'Ready', storagePoolId: h.demo.storagePoolId });
    expect(await allocated()).toBe(before + first.size);

    expect((await runJob(h, h.admin, `mutation($id: ID!) { stopVirtualMachine(id: $id) { id } }`, { id: vm.id })).status).toBe('SUCCEEDED');
    // Stopped, it keeps its root until it starts again.
    expect((await root(vm.id)).id).toBe(first.id);
    const started = await runJob(h, h.admin, `mutation($id: ID!) { startVirtualMachine(id: $id) { id } }`, { id: vm.id });
    expect(started.status, JSON.stringify(started.error)).toBe('SUCCEEDED');
    const second = await root(vm.id);
    expect(second.id).not.toBe(first.id);
    expect(second).toMatchObject({ state: 'Ready', storagePoolId: h.demo.storagePoolId, size: first.size });

    const rebooted = await runJob(h, h.admin, `mutation($id: ID!) { rebootVirtualMachine(id: $id) { id } }`, { id: vm.id });
    expect(rebooted.status, JSON.stringify(rebooted.error)).toBe('SUCCEEDED');
    expect(rebooted.result?.state).toBe('Running');
    const third = await root(vm.id);
    expect([first.id, second.id]).not.toContain(third.id);
    expect(await allocated()).toBe(before + first.size);

    const usage = (await usageEvents(h.admin)).nodes.filter((e) => e.type.startsWith('VOLUME.') && [first.id, second.id, third.id].includes(e.resourceId));
    expect(usage.map((e) => `${e.type} ${e.resourceId}`)).toEqual([
      `VOLUME.CREATE ${first.id}`,
      `VOLUME.CREATE ${second.id}`,
      `VOLUME.DELETE ${first.id}`,
      `VOLUME.CREATE ${third.id}`,
      `VOLUME.DELETE ${second.id}`,
    ]);
  });
});
