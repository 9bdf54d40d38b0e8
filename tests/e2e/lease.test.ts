// Instance leases through the API (behaviour §3.3–§3.6): while `instance.lease.enabled` is off (the
// default) no lease is applied whatever a deployment or its offering asks, `leased` cannot be
// listed, and the lease arguments of an update count for nothing (their values are checked all the
// same); while it is on, a deployment's lease is checked and applied, its own or its offering's, and
// an update redefines or disables it. What happens at expiry: lease-expiry.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLClient } from 'graphql-request';
import { actionEvents, gqlError, setConfiguration, startHarness, type Harness } from './harness.js';

interface LeasedVm {
  id: string;
  leaseDuration: number | null;
  leaseExpiryAction: string | null;
  leaseExpiryDate: string | null;
}

describe('instance leases', () => {
  let h: Harness;
  let user: { id: string; client: GraphQLClient };
  let leasedOffering: string;

  const deployLeased = async (client: GraphQLClient, variables: Record<string, unknown>): Promise<LeasedVm> => {
    const { deployVirtualMachine } = await client.request<{ deployVirtualMachine: { id: string } }>(
      `mutation($z: ID!, $s: ID!, $t: ID!, $name: String, $d: Int, $a: LeaseExpiryAction) {
        deployVirtualMachine(zoneId: $z, serviceOfferingId: $s, templateId: $t, name: $name, leaseDuration: $d, leaseExpiryAction: $a, startVm: false) { id } }`,
      { z: h.demo.zoneId, s: h.demo.serviceOfferingIds.small, t: h.demo.templateId, d: null, a: null, ...variables },
    );
    const job = await h.waitForJob(client, deployVirtualMachine.id);
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    const { virtualMachine } = await client.request<{ virtualMachine: LeasedVm }>(
      `query($id: ID!) { virtualMachine(id: $id) { id leaseDuration leaseExpiryAction leaseExpiryDate } }`,
      { id: job.result!.id },
    );
    return virtualMachine;
  };
  const noLease = { leaseDuration: null, leaseExpiryAction: null, leaseExpiryDate: null };
  const leasedList = (client: GraphQLClient) =>
    client.request<{ virtualMachines: { nodes: Array<{ id: string }> } }>(`{ virtualMachines(leased: true, first: 100) { nodes { id } } }`);

  beforeAll(async () => {
    h = await startHarness();
    user = await h.createUser('lease-user');
    // An offering with a lease can only be made while the feature is on.
    await setConfiguration(h, 'instance.lease.enabled', 'true');
    const { createServiceOffering } = await h.admin.request<{ createServiceOffering: { id: string } }>(
      `mutation { createServiceOffering(name: "leased-small", cpuNumber: 1, cpuSpeed: 500, memory: 512, leaseDuration: 30, leaseExpiryAction: STOP) { id } }`,
    );
    leasedOffering = createServiceOffering.id;
    await setConfiguration(h, 'instance.lease.enabled', 'false');
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('while the feature is off: no lease applied, none listed, none changed', async () => {
    expect(await deployLeased(user.client, { name: 'asks-for-one', d: 5, a: 'DESTROY' })).toMatchObject(noLease);
    expect(await deployLeased(user.client, { name: 'inherits-none', s: leasedOffering })).toMatchObject(noLease);
    // A value that could never be a lease is refused all the same (tests/e2e/validation.test.ts has the rest).
    const nonsense = await gqlError(deployLeased(user.client, { name: 'nonsense', d: -7 }), h);
    expect(nonsense.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431, field: 'leaseDuration' });

    const head = await h.logHead();
    const listed = await gqlError(leasedList(user.client));
    expect(listed.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431, field: 'leased' });
    expect(listed.message).toContain('Instance Lease feature is disabled');
    expect(await h.logHead()).toBe(head);

    const vm = await deployLeased(user.client, { name: 'updated' });
    const { updateVirtualMachine } = await user.client.request<{ updateVirtualMachine: LeasedVm & { displayName: string } }>(
      `mutation($id: ID!) { updateVirtualMachine(id: $id, displayName: "renamed", leaseDuration: 10, leaseExpiryAction: STOP) { id displayName leaseDuration leaseExpiryAction leaseExpiryDate } }`,
      { id: vm.id },
    );
    expect(updateVirtualMachine).toMatchObject({ displayName: 'renamed', ...noLease });
  });

  it("while the feature is on: the deployment's lease is checked, then its own or its offering's applied", async () => {
    await setConfiguration(h, 'instance.lease.enabled', 'true');
    try {
      const head = await h.logHead();
      for (const [d, a, field] of [[20, null, 'leaseExpiryAction'], [0, 'STOP', 'leaseDuration'], [36_501, 'STOP', 'leaseDuration']] as const) {
        const error = await gqlError(deployLeased(user.client, { name: `bad-lease-${d}`, d, a }), h);
        expect(error.extensions, `${d} ${a}`).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431, field });
      }
      expect(await h.logHead()).toBe(head);

      const own = await deployLeased(user.client, { name: 'own-lease', d: 20, a: 'DESTROY', s: leasedOffering });
      expect(own).toMatchObject({ leaseDuration: 20, leaseExpiryAction: 'DESTROY' });
      const inherited = await deployLeased(user.client, { name: 'inherited', s: leasedOffering });
      expect(inherited).toMatchObject({ leaseDuration: 30, leaseExpiryAction: 'STOP' });
      const days = (Date.parse(inherited.leaseExpiryDate!) - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(29.9);
      expect(days).toBeLessThan(30.1);
      expect(await deployLeased(user.client, { name: 'opted-out', d: -1, s: leasedOffering })).toMatchObject(noLease);

      const listed = (await leasedList(user.client)).virtualMachines.nodes.map((n) => n.id);
      expect(listed).toEqual(expect.arrayContaining([own.id, inherited.id]));
      expect(listed).toHaveLength(2);

    } finally {
      await setConfiguration(h, 'instance.lease.enabled', 'false');
    }
  });

  const updateLease = (client: GraphQLClient, id: string, d: number | null, a: string | null) =>
    client.request<{ updateVirtualMachine: LeasedVm }>(
      `mutation($id: ID!, $d: Int, $a: LeaseExpiryAction) { updateVirtualMachine(id: $id, leaseDuration: $d, leaseExpiryAction: $a) { id leaseDuration leaseExpiryAction leaseExpiryDate } }`,
      { id, d, a },
    );

  it('while the feature is on: an update redefines the lease from now, or disables it for good (§3.5)', async () => {
    await setConfiguration(h, 'instance.lease.enabled', 'true');
    try {
      const vm = await deployLeased(user.client, { name: 'to-extend', d: 5, a: 'STOP' });
      const head = await h.logHead();
      const needsBoth = await gqlError(updateLease(user.client, vm.id, 40, null));
      expect(needsBoth).toMatchObject({ message: 'Provide values for both: leaseduration and leaseexpiryaction', extensions: { code: 'BAD_USER_INPUT', field: 'leaseExpiryAction' } });
      expect(await h.logHead()).toBe(head);
      // A lone action asks for nothing.
      expect((await updateLease(user.client, vm.id, null, 'DESTROY')).updateVirtualMachine).toMatchObject({ leaseDuration: 5, leaseExpiryAction: 'STOP' });

      const extended = (await updateLease(user.client, vm.id, 40, 'DESTROY')).updateVirtualMachine;
      expect(extended).toMatchObject({ leaseDuration: 40, leaseExpiryAction: 'DESTROY' });
      const days = (Date.parse(extended.leaseExpiryDate!) - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(39.9);
      expect(days).toBeLessThan(40.1);
      const shortened = (await updateLease(user.client, vm.id, 2, 'STOP')).updateVirtualMachine;
      expect(shortened).toMatchObject({ leaseDuration: 2, leaseExpiryAction: 'STOP' });

      expect((await updateLease(user.client, vm.id, -1, null)).updateVirtualMachine).toMatchObject(noLease);
      const disabled = (await actionEvents(user.client, vm.id, 'VM.LEASE.DISABLED')).nodes;
      expect(disabled.map((e) => e.description)).toEqual(['Disabling lease on the instance']);
      expect((await leasedList(user.client)).virtualMachines.nodes.map((n) => n.id)).not.toContain(vm.id);

      const final = await gqlError(updateLease(user.client, vm.id, 10, 'STOP'));
      expect(final).toMatchObject({ message: `Lease can't be applied on instance with id: ${vm.id}, it doesn't have active lease`, extensions: { code: 'INVALID_STATE', field: 'leaseDuration' } });
      const never = await deployLeased(user.client, { name: 'never-leased' });
      const none = await gqlError(updateLease(user.client, never.id, 10, 'STOP'));
      expect(none.message).toBe(`Lease can't be applied on instance with id: ${never.id}, it doesn't have lease associated during deployment`);
    } finally {
      await setConfiguration(h, 'instance.lease.enabled', 'false');
    }
  });
});
