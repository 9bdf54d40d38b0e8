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

  describe('unique names and addressing', () => {
    const ZONE = `mutation($n: String!) { createZone(name: $n) { id } }`;

    it('refuses a duplicate zone, host or pool name (CONFLICT) and a VLAN or shared CIDR in use (BAD_USER_INPUT)', async () => {
      const { zones } = await h.admin.request<{ zones: { nodes: Array<{ name: string }> } }>(`{ zones { nodes { name } } }`);
      const demoZone = zones.nodes[0]!.name;
      expect((await refused(h.admin, ZONE, { n: demoZone.toUpperCase() }, 'CONFLICT', 'name')).extensions).toMatchObject({ errorCode: 530 });
      const { hosts } = await h.admin.request<{ hosts: { nodes: Array<{ name: string }> } }>(`query($z: ID) { hosts(zoneId: $z) { nodes { name } } }`, { z: h.demo.zoneId });
      await refused(
        h.admin,
        `mutation($c: ID!, $n: String!) { addHost(clusterId: $c, name: $n, driver: "simulator") { id } }`,
        { c: h.demo.clusterId, n: hosts.nodes[0]!.name },
        'CONFLICT',
        'name',
      );
      const { storagePools } = await h.admin.request<{ storagePools: { nodes: Array<{ name: string }> } }>(`query($z: ID) { storagePools(zoneId: $z) { nodes { name } } }`, { z: h.demo.zoneId });
      await refused(
        h.admin,
        `mutation($z: ID!, $n: String!) { createStoragePool(zoneId: $z, name: $n, type: "NFS", url: "nfs://10.0.0.9/export") { id } }`,
        { z: h.demo.zoneId, n: storagePools.nodes[0]!.name },
        'CONFLICT',
        'name',
      );
      const NETWORK = `mutation($z: ID!, $type: GuestNetworkType!, $vlan: Int, $cidr: String) { createNetwork(zoneId: $z, name: "again", type: $type, vlan: $vlan, cidr: $cidr) { id } }`;
      const { networks } = await h.admin.request<{ networks: { nodes: Array<{ vlan: number | null; cidr: string | null; type: string }> } }>(
        `query($z: ID) { networks(zoneId: $z) { nodes { vlan cidr type } } }`,
        { z: h.demo.zoneId },
      );
      const shared = networks.nodes.find((n) => n.type === 'Shared')!;
      const vlan = await refused(h.admin, NETWORK, { z: h.demo.zoneId, type: 'L2', vlan: shared.vlan, cidr: null }, 'BAD_USER_INPUT', 'vlan');
      expect(vlan.message).toContain(`vlan ${shared.vlan}`);
      const cidr = await refused(h.admin, NETWORK, { z: h.demo.zoneId, type: 'Shared', vlan: 3999, cidr: shared.cidr }, 'BAD_USER_INPUT', 'cidr');
      expect(cidr.message).toContain(shared.cidr!);
    });

    it('lets exactly one of ten concurrent createZone calls with one name through; the others are CONFLICT', async () => {
      const head = await h.logHead();
      const attempts = await Promise.allSettled(Array.from({ length: 10 }, () => h.admin.request(ZONE, { n: 'raced-zone' })));
      expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
      for (const attempt of attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected')) {
        const [error] = await gqlErrors(Promise.reject(attempt.reason));
        expect(error!.extensions).toMatchObject({ code: 'CONFLICT', errorCode: 530, field: 'name' });
      }
      const { zones } = await h.admin.request<{ zones: { nodes: Array<{ name: string }> } }>(`{ zones(first: 100) { nodes { name } } }`);
      expect(zones.nodes.filter((z) => z.name === 'raced-zone')).toHaveLength(1);
      // The losers appended nothing: the log grew by what one createZone appends (its claim and its zone).
      expect((await h.logHead()) - head).toBe(2);
    });
  });
});
