// Failures the user sees through the API: a first start the hypervisor refuses, an offering no
// host can hold, and CloudStack's delete protection (smoke test_14).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLClient } from 'graphql-request';
import {
  actionEvents,
  addSmallZone,
  deploy,
  deployed,
  gqlError,
  getVm,
  runJob,
  setConfiguration,
  startHarness,
  usageEvents,
  VM_FIELDS,
  type Harness,
  type Vm,
} from './harness.js';

const ERROR_CODES: Record<string, number> = {
  BAD_USER_INPUT: 431,
  INVALID_STATE: 431,
  NOT_FOUND: 431,
  FORBIDDEN: 531,
  UNAUTHENTICATED: 401,
  CONFLICT: 530,
  INSUFFICIENT_CAPACITY: 533,
  INTERNAL_ERROR: 530,
};

describe('failures', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
    await setConfiguration(h, 'allow.user.expunge.recover.vm', 'true');
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('a first start the host refuses: job FAILED, instance Error, usage VM.CREATE, VOLUME.CREATE, VM.DESTROY, VOLUME.DELETE', async () => {
    const zone = await addSmallZone(h, 'broken', { failOn: ['START'] });
    const user = await h.createUser('failing-start-user');
    const job = await h.waitForJob(user.client, (await deploy(h, user.client, { name: 'doomed', zoneId: zone.zoneId, templateId: zone.templateId })).id);
    expect(job.status).toBe('FAILED');
    expect(job.error).not.toBeNull();
    const { code, errorCode, message } = job.error!;
    expect(Object.keys(ERROR_CODES)).toContain(code);
    expect(errorCode).toBe(ERROR_CODES[code]);
    expect([530, 533]).toContain(errorCode);
    expect(message.length).toBeGreaterThan(0);
    expect(job.completedAt).not.toBeNull();
    expect(job.instanceId).toBeTruthy();
    const vm = await getVm(user.client, job.instanceId!);
    expect(vm?.state).toBe('Error');
    expect(vm?.hostId).toBeNull();

    const usage = (await usageEvents(user.client)).nodes;
    expect(usage.map((e) => e.type)).toEqual(['VM.CREATE', 'VOLUME.CREATE', 'VM.DESTROY', 'VOLUME.DELETE']);
    for (const event of usage) expect(event).toMatchObject({ accountId: user.id, zoneId: zone.zoneId });
    expect(usage.filter((e) => e.type.startsWith('VM.')).every((e) => e.resourceId === vm!.id && e.resourceName === 'doomed')).toBe(true);

    // The host holds nothing for it.
    const { hosts } = await h.admin.request<{ hosts: { nodes: Array<{ id: string; cpuAllocated: number; memoryAllocated: number }> } }>(
      `query($zoneId: ID) { hosts(zoneId: $zoneId) { nodes { id cpuAllocated memoryAllocated } } }`,
      { zoneId: zone.zoneId },
    );
    expect(hosts.nodes).toEqual([{ id: zone.hostId, cpuAllocated: 0, memoryAllocated: 0 }]);
  });

  it("a host's failure reaches its user as a generic message with a reference; admins read the host's words", async () => {
    const zone = await addSmallZone(h, 'failing-host', { failOn: ['START'] });
    const user = await h.createUser('failure-reader');
    const job = await h.waitForJob(user.client, (await deploy(h, user.client, { name: 'refused', zoneId: zone.zoneId, templateId: zone.templateId })).id);
    // What the agent answered: its message names the host, its detail is what the host said.
    const asAdmin = await h.waitForJob(h.admin, job.id);
    expect(asAdmin.error).toMatchObject({ code: 'INTERNAL_ERROR', errorCode: 530 });
    expect(asAdmin.error!.message).toBe(`simulated START failure on host ${zone.hostId}: failOn includes START`);
    // The user: the same code, a message that says nothing of the host but how to ask about it.
    expect(job.error).toEqual({ code: 'INTERNAL_ERROR', errorCode: 530, message: `The operation failed (reference ${job.id})` });

    const failedStart = (events: Array<{ description: string; id: string }>) => events.find((e) => e.description.startsWith('Deployment failed, instance is in Error'));
    const forAdmin = failedStart((await actionEvents(h.admin, job.instanceId!)).nodes);
    expect(forAdmin?.description).toBe(`Deployment failed, instance is in Error: simulated START failure on host ${zone.hostId}: failOn includes START`);
    const events = (await actionEvents(user.client, job.instanceId!)).nodes;
    expect(failedStart(events)?.description).toBe(`Deployment failed, instance is in Error (reference ${forAdmin!.id})`);
    const told = JSON.stringify(events);
    expect(told).not.toContain('simulated');
    expect(told).not.toContain('failOn');
    expect(told).not.toContain(zone.hostId);
  });

  it('an offering no host can hold: job FAILED with INSUFFICIENT_CAPACITY 533, instance Error', async () => {
    const user = await h.createUser('too-big-user');
    const { createServiceOffering: huge } = await h.admin.request<{ createServiceOffering: { id: string } }>(
      `mutation { createServiceOffering(name: "Huge Instance", cpuNumber: 64, cpuSpeed: 2000, memory: 262144) { id } }`,
    );
    const started = await deploy(h, user.client, { name: 'huge-1', serviceOfferingId: huge.id });
    const job = await h.waitForJob(user.client, started.id);
    expect(job.status).toBe('FAILED');
    expect(job.error).toMatchObject({ code: 'INSUFFICIENT_CAPACITY', errorCode: 533 });
    expect(job.error!.message.length).toBeGreaterThan(0);
    const vm = await getVm(user.client, job.instanceId!);
    expect(vm?.state).toBe('Error');
    expect(vm?.hostId).toBeNull();
    const usage = (await usageEvents(user.client)).nodes;
    expect(usage.map((e) => e.type)).toEqual(['VM.CREATE', 'VOLUME.CREATE', 'VM.DESTROY', 'VOLUME.DELETE']);
  });

  describe('delete protection (CloudStack test_14_destroy_vm_delete_protection)', () => {
    let user: { id: string; key: string; client: GraphQLClient };
    let vm: Vm;

    beforeAll(async () => {
      user = await h.createUser('protected-user');
      vm = await deployed(h, user.client, { name: 'protected-1', startVm: false });
    });

    it('refuses destroy with and without expunge while protected, appending nothing; destroys once unprotected', async () => {
      const c = user.client;
      expect(vm.state).toBe('Stopped');
      expect(vm.deleteProtection).toBe(false);
      const { updateVirtualMachine: updated } = await c.request<{ updateVirtualMachine: Vm }>(
        `mutation($id: ID!) { updateVirtualMachine(id: $id, deleteProtection: true) { ${VM_FIELDS} } }`,
        { id: vm.id },
      );
      expect(updated.deleteProtection).toBe(true);
      expect(updated.state).toBe('Stopped');

      const head = await h.logHead();
      const trail = (await actionEvents(c, vm.id)).totalCount;
      const usage = (await usageEvents(c)).totalCount;
      for (const expunge of [false, true]) {
        const error = await gqlError(c.request(`mutation($id: ID!, $expunge: Boolean) { destroyVirtualMachine(id: $id, expunge: $expunge) { id status } }`, { id: vm.id, expunge }));
        expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431 });
        // "Instance [id = %s, name = %s] has delete protection enabled and cannot be deleted."
        expect(error.message).toContain(vm.id);
        expect(error.message).toContain('protected-1');
        expect(error.message).toMatch(/delete protection/i);
        const after = await getVm(c, vm.id);
        expect(after?.state).toBe('Stopped');
        expect(after?.deleteProtection).toBe(true);
      }
      expect(await h.logHead()).toBe(head);
      expect((await actionEvents(c, vm.id)).totalCount).toBe(trail);
      expect((await usageEvents(c)).totalCount).toBe(usage);

      const { updateVirtualMachine: unprotected } = await c.request<{ updateVirtualMachine: Vm }>(
        `mutation($id: ID!) { updateVirtualMachine(id: $id, deleteProtection: false) { ${VM_FIELDS} } }`,
        { id: vm.id },
      );
      expect(unprotected.deleteProtection).toBe(false);
      const destroyed = await runJob(h, c, `mutation($id: ID!) { destroyVirtualMachine(id: $id, expunge: true) { id } }`, { id: vm.id });
      expect(destroyed.status).toBe('SUCCEEDED');
      expect(await getVm(c, vm.id)).toBeNull();
    });

    it('a protected instance can still be stopped, and destroy stays refused', async () => {
      // Protection blocks destroy only (§6.1), not stop.
      const c = user.client;
      const running = await deployed(h, c, { name: 'protected-2' });
      await c.request(`mutation($id: ID!) { updateVirtualMachine(id: $id, deleteProtection: true) { id } }`, { id: running.id });
      const stopped = await runJob(h, c, `mutation($id: ID!) { stopVirtualMachine(id: $id) { id } }`, { id: running.id });
      expect(stopped.status).toBe('SUCCEEDED');
      expect(stopped.result?.state).toBe('Stopped');
      const error = await gqlError(c.request(`mutation($id: ID!) { destroyVirtualMachine(id: $id) { id } }`, { id: running.id }));
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431 });
      expect((await getVm(c, running.id))?.state).toBe('Stopped');
    });
  });
});
