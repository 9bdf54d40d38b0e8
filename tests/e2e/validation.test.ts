// Input rules through GraphQL: names and texts without control characters, one NIC per network,
// names and addressing unique where CloudStack keeps them unique (also under concurrent creations),
// and lease values checked whether or not leases are on. Every refusal appends nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLClient } from 'graphql-request';
import { gqlError, gqlErrors, setConfiguration, startHarness, type GqlError, type Harness } from './harness.js';

describe('input rules', () => {
  let h: Harness;
  let user: { id: string; client: GraphQLClient };

  /** Runs a mutation that must be refused with `code` (and `field`), and checks the log did not move. */
  async function refused(client: GraphQLClient, operation: string, variables: Record<string, unknown>, code: string, field?: string): Promise<GqlError> {
    const head = await h.logHead();
    const error = await gqlError(client.request(operation, variables), h);
    expect(error.extensions, error.message).toMatchObject(field === undefined ? { code } : { code, field });
    expect(await h.logHead()).toBe(head);
    return error;
  }

  const DEPLOY = `mutation($z: ID!, $s: ID!, $t: ID!, $name: String, $displayName: String, $group: String, $networkIds: [ID!], $d: Int, $a: LeaseExpiryAction) {
    deployVirtualMachine(zoneId: $z, serviceOfferingId: $s, templateId: $t, name: $name, displayName: $displayName, group: $group,
      networkIds: $networkIds, leaseDuration: $d, leaseExpiryAction: $a, startVm: false) { id } }`;
  const deployVars = (extra: Record<string, unknown> = {}) => ({
    z: h.demo.zoneId,
    s: h.demo.serviceOfferingIds.small,
    t: h.demo.templateId,
    name: null,
    displayName: null,
    group: null,
    networkIds: null,
    d: null,
    a: null,
    ...extra,
  });
  const deployStopped = async (client: GraphQLClient, extra: Record<string, unknown>): Promise<string> => {
    const { deployVirtualMachine } = await client.request<{ deployVirtualMachine: { id: string } }>(DEPLOY, deployVars(extra));
    const job = await h.waitForJob(client, deployVirtualMachine.id);
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    return job.result!.id;
  };
  const UPDATE = `mutation($id: ID!, $displayName: String, $group: String, $d: Int, $a: LeaseExpiryAction) {
    updateVirtualMachine(id: $id, displayName: $displayName, group: $group, leaseDuration: $d, leaseExpiryAction: $a) { id displayName group } }`;

  beforeAll(async () => {
    h = await startHarness();
    user = await h.createUser('rules-user');
  });
  afterAll(async () => {
    await h?.stop();
  });

  describe('names and texts', () => {
    const CONTROLS = ['\u0000', '\u0007', '\u001b[2J', '\u007f', '\u009b'];

    it('refuses control characters in every name and text, naming the field', async () => {
      for (const control of CONTROLS) {
        const text = `bad${control}name`;
        await refused(h.admin, `mutation($n: String!) { createZone(name: $n) { id } }`, { n: text }, 'BAD_USER_INPUT', 'name');
        await refused(h.admin, `mutation($z: ID!, $n: String!) { addCluster(zoneId: $z, name: $n, hypervisor: "KVM") { id } }`, { z: h.demo.zoneId, n: text }, 'BAD_USER_INPUT', 'name');
        await refused(h.admin, `mutation($n: String!) { createAccount(name: $n, role: USER) { id } }`, { n: text }, 'BAD_USER_INPUT', 'name');
        await refused(h.admin, `mutation($t: String) { createServiceOffering(name: "ok", displayText: $t, cpuNumber: 1, cpuSpeed: 500, memory: 512) { id } }`, { t: text }, 'BAD_USER_INPUT', 'displayText');
        await refused(user.client, DEPLOY, deployVars({ displayName: text }), 'BAD_USER_INPUT', 'displayName');
        await refused(user.client, DEPLOY, deployVars({ group: text }), 'BAD_USER_INPUT', 'group');
      }
    });

    it('refuses updateVirtualMachine(displayName: "") and control characters, keeping the instance as it was', async () => {
      const id = await deployStopped(user.client, { name: 'named', displayName: 'Named one', group: 'web' });
      const error = await refused(user.client, UPDATE, { id, displayName: '' }, 'BAD_USER_INPUT', 'displayName');
      expect(error.message).toMatch(/Display name/);
      await refused(user.client, UPDATE, { id, displayName: 'evil\u001b[31mred' }, 'BAD_USER_INPUT', 'displayName');
      await refused(user.client, UPDATE, { id, group: 'g\u0000' }, 'BAD_USER_INPUT', 'group');
      const { virtualMachine } = await user.client.request<{ virtualMachine: { displayName: string; group: string } }>(
        `query($id: ID!) { virtualMachine(id: $id) { displayName group } }`,
        { id },
      );
      expect(virtualMachine).toEqual({ displayName: 'Named one', group: 'web' });
    });
  });

  it('refuses two NICs on one network, naming networkIds and the network', async () => {
    const { networks } = await user.client.request<{ networks: { nodes: Array<{ id: string; name: string }> } }>(
      `query($z: ID!) { networks(zoneId: $z) { nodes { id name } } }`,
      { z: h.demo.zoneId },
    );
    const network = networks.nodes[0]!.id;
    const error = await refused(user.client, DEPLOY, deployVars({ name: 'twice', networkIds: [network, network] }), 'BAD_USER_INPUT', 'networkIds');
    expect(error.message).toContain(network);
  });

  describe('lease values', () => {
    const invalid = 'Invalid leaseduration: must be a natural number (>=1) or -1, max supported value is 36500';

    it.each([false, true])('are checked on deploy and update whether leases are on or not (on: %j)', async (enabled) => {
      await setConfiguration(h, 'instance.lease.enabled', String(enabled));
      try {
        const id = await deployStopped(user.client, { name: `lease-checked-${enabled}` });
        for (const d of [-5, 0, 36_501, 99_999]) {
          const onDeploy = await refused(user.client, DEPLOY, deployVars({ name: 'bad-lease', d, a: 'STOP' }), 'BAD_USER_INPUT', 'leaseDuration');
          expect(onDeploy.message).toBe(invalid);
          const onUpdate = await refused(user.client, UPDATE, { id, d, a: 'STOP' }, 'BAD_USER_INPUT', 'leaseDuration');
          expect(onUpdate.message).toBe(invalid);
        }
      } finally {
        await setConfiguration(h, 'instance.lease.enabled', 'false');
      }
    });

    it('are checked on createServiceOffering while leases are off, with the offering rule (no -1)', async () => {
      const create = `mutation($d: Int, $a: LeaseExpiryAction) { createServiceOffering(name: "leased", cpuNumber: 1, cpuSpeed: 500, memory: 512, leaseDuration: $d, leaseExpiryAction: $a) { id leaseDuration } }`;
      for (const d of [-5, -1, 0, 99_999]) {
        const error = await refused(h.admin, create, { d, a: 'STOP' }, 'BAD_USER_INPUT', 'leaseDuration');
        expect(error.message).toBe('Invalid leaseduration: must be a natural number (>=1), max supported value is 36500');
      }
      // A valid lease is still not kept while the feature is off.
      const { createServiceOffering } = await h.admin.request<{ createServiceOffering: { leaseDuration: number | null } }>(create, { d: 30, a: 'STOP' });
      expect(createServiceOffering.leaseDuration).toBeNull();
    });
  });
});

// Keeps the import used while later sections of this file grow.
void gqlErrors;
