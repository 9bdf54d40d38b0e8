// Accounts are isolated: a user neither sees nor touches another account's instances, jobs, events
// or usage (NOT_FOUND, as for what does not exist), and the root admin's operations are FORBIDDEN
// to users and domain admins. vmledger's API has no createDomain, so a domain admin can only be
// created in the ROOT domain, whose subtree is everything: the "subtree only" rule cannot be shown
// through the API, only that a domain admin sees across accounts yet is no root admin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLClient } from 'graphql-request';
import { ROOT_ADMIN_ACCOUNT_ID, ROOT_DOMAIN_ID } from '../../api/control-plane/accounts.js';
import {
  actionEvents,
  deploy,
  deployed,
  gqlError,
  gqlErrors,
  getVm,
  runJob,
  setConfiguration,
  startHarness,
  usageEvents,
  VM_FIELDS,
  type Harness,
  type Vm,
} from './harness.js';

type Account = { id: string; key: string; client: GraphQLClient };

describe('isolation between accounts', () => {
  let h: Harness;
  let a: Account;
  let b: Account;
  let vmA: Vm;
  let deployJobA: string;
  let vmB: Vm;

  beforeAll(async () => {
    h = await startHarness();
    // With this key users may recover and expunge their own instances: B's refusals below must come
    // from isolation, not from a missing permission.
    await setConfiguration(h, 'allow.user.expunge.recover.vm', 'true');
    a = await h.createUser('tenant-a');
    b = await h.createUser('tenant-b');
    const { deployVirtualMachine } = await a.client.request<{ deployVirtualMachine: { id: string } }>(
      `mutation($z: ID!, $s: ID!, $t: ID!) { deployVirtualMachine(zoneId: $z, serviceOfferingId: $s, templateId: $t, name: "secret-a") { id } }`,
      { z: h.demo.zoneId, s: h.demo.serviceOfferingIds.small, t: h.demo.templateId },
    );
    deployJobA = deployVirtualMachine.id;
    const done = await h.waitForJob(a.client, deployJobA);
    expect(done.status).toBe('SUCCEEDED');
    vmA = done.result!;
    vmB = await deployed(h, b.client, { name: 'own-b' });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("B does not see A's instance, job, history or usage", async () => {
    const list = async (variables: Record<string, unknown>) =>
      (
        await b.client.request<{ virtualMachines: { nodes: Array<{ id: string }>; totalCount: number } }>(
          `query($id: ID, $accountId: ID, $keyword: String) { virtualMachines(id: $id, accountId: $accountId, keyword: $keyword, first: 100) { nodes { id } totalCount } }`,
          variables,
        )
      ).virtualMachines;
    const all = await list({});
    expect(all.nodes.map((n) => n.id)).toEqual([vmB.id]);
    expect(all.totalCount).toBe(1);
    expect((await list({ id: vmA.id })).nodes).toEqual([]);
    expect((await list({ accountId: a.id })).nodes).toEqual([]);
    expect((await list({ keyword: 'secret' })).nodes).toEqual([]);
    expect(await getVm(b.client, vmA.id)).toBeNull();
    // …while A does, so the nulls above are isolation, not absence.
    expect((await getVm(a.client, vmA.id))?.name).toBe('secret-a');

    const { asyncJob } = await b.client.request<{ asyncJob: unknown }>(`query($id: ID!) { asyncJob(id: $id) { id } }`, { id: deployJobA });
    expect(asyncJob).toBeNull();
    const { virtualMachineAsOf } = await b.client.request<{ virtualMachineAsOf: unknown }>(
      `query($id: ID!, $at: DateTime!) { virtualMachineAsOf(id: $id, at: $at) { id } }`,
      { id: vmA.id, at: new Date().toISOString() },
    );
    expect(virtualMachineAsOf).toBeNull();

    const usageB = (await usageEvents(b.client)).nodes;
    expect(usageB.length).toBeGreaterThan(0);
    expect(usageB.every((e) => e.accountId === b.id)).toBe(true);
    expect(usageB.some((e) => e.resourceId === vmA.id)).toBe(false);
    expect((await usageEvents(b.client, a.id)).nodes).toEqual([]);
    expect((await usageEvents(a.client)).nodes.some((e) => e.resourceId === vmA.id)).toBe(true);

    const eventsB = (await actionEvents(b.client)).nodes;
    expect(eventsB.length).toBeGreaterThan(0);
    expect(eventsB.every((e) => e.accountId === b.id)).toBe(true);
    expect(eventsB.some((e) => e.resourceId === vmA.id)).toBe(false);
    expect((await actionEvents(b.client, vmA.id)).nodes).toEqual([]);
    expect((await actionEvents(a.client, vmA.id)).nodes.length).toBeGreaterThan(0);

    const { accounts } = await b.client.request<{ accounts: { nodes: Array<{ id: string }> } }>(`{ accounts { nodes { id } } }`);
    expect(accounts.nodes.map((n) => n.id)).toEqual([b.id]);
  });

  it("placement (hostId, lastHostId, instanceName) is the admins': null to a USER wherever its instance reaches it", async () => {
    const placement = (vm: Pick<Vm, 'hostId' | 'lastHostId' | 'instanceName'> | null | undefined) =>
      vm && { hostId: vm.hostId, lastHostId: vm.lastHostId, instanceName: vm.instanceName };
    const hidden = { hostId: null, lastHostId: null, instanceName: null };
    const vm = await deployed(h, a.client, { name: 'placed-a' });
    expect(placement(vm)).toEqual(hidden);
    // The root admin and a domain admin see where it runs, so the nulls are hiding, not absence.
    const seen = await getVm(h.admin, vm.id);
    expect(h.demo.hostIds).toContain(seen?.hostId);
    expect(seen?.instanceName).toMatch(/^i-/);
    const domainAdmin = await h.createUser('placement-domain-admin', 'DOMAIN_ADMIN');
    expect(placement(await getVm(domainAdmin.client, vm.id))).toEqual(placement(seen));

    const c = a.client;
    expect(placement(await getVm(c, vm.id))).toEqual(hidden);
    const { virtualMachines } = await c.request<{ virtualMachines: { nodes: Vm[] } }>(`{ virtualMachines(first: 100) { nodes { ${VM_FIELDS} } } }`);
    expect(virtualMachines.nodes.length).toBeGreaterThan(1);
    for (const node of virtualMachines.nodes) expect(placement(node)).toEqual(hidden);
    expect(placement((await h.waitForJob(c, deployJobA)).result)).toEqual(hidden);

    const stopped = await runJob(h, c, `mutation($id: ID!) { stopVirtualMachine(id: $id) { id } }`, { id: vm.id });
    expect(stopped.result?.state).toBe('Stopped');
    expect(placement(stopped.result)).toEqual(hidden);
    expect((await getVm(h.admin, vm.id))?.lastHostId).toBe(seen?.hostId);
    const { virtualMachineAsOf } = await c.request<{ virtualMachineAsOf: Vm }>(
      `query($id: ID!, $at: DateTime!) { virtualMachineAsOf(id: $id, at: $at) { ${VM_FIELDS} } }`,
      { id: vm.id, at: new Date().toISOString() },
    );
    expect(placement(virtualMachineAsOf)).toEqual(hidden);
    const { updateVirtualMachine } = await c.request<{ updateVirtualMachine: Vm }>(
      `mutation($id: ID!) { updateVirtualMachine(id: $id, displayName: "placed") { ${VM_FIELDS} } }`,
      { id: vm.id },
    );
    expect(placement(updateVirtualMachine)).toEqual(hidden);
    const { changeServiceForVirtualMachine } = await c.request<{ changeServiceForVirtualMachine: Vm }>(
      `mutation($id: ID!, $s: ID!) { changeServiceForVirtualMachine(id: $id, serviceOfferingId: $s) { ${VM_FIELDS} } }`,
      { id: vm.id, s: h.demo.serviceOfferingIds.medium },
    );
    expect(placement(changeServiceForVirtualMachine)).toEqual(hidden);
    await runJob(h, c, `mutation($id: ID!) { destroyVirtualMachine(id: $id) { id } }`, { id: vm.id });
    const { recoverVirtualMachine } = await c.request<{ recoverVirtualMachine: Vm }>(`mutation($id: ID!) { recoverVirtualMachine(id: $id) { ${VM_FIELDS} } }`, { id: vm.id });
    expect(placement(recoverVirtualMachine)).toEqual(hidden);

    // Nor do the audit trail's descriptions name the host to the user; the admin reads them whole.
    const descriptions = async (client: typeof c) =>
      (await client.request<{ events: { nodes: Array<{ description: string }> } }>(`query($r: ID) { events(resourceId: $r, first: 100) { nodes { description } } }`, { r: vm.id })).events.nodes.map(
        (e) => e.description,
      );
    expect((await descriptions(h.admin)).join('\n')).toContain(seen!.hostId!);
    const told = await descriptions(c);
    expect(told.join('\n')).not.toContain(seen!.hostId!);
    expect(told).toContain('Instance started on a host');

    // Nor may a user ask which of its instances run on a host it has learnt of.
    const hostOfA = (await getVm(h.admin, vmA.id))?.hostId;
    const byHost = `query($host: ID) { virtualMachines(hostId: $host) { totalCount } }`;
    const refused = await gqlError(c.request(byHost, { host: hostOfA }));
    expect(refused.extensions).toMatchObject({ code: 'FORBIDDEN', errorCode: 531, field: 'hostId' });
    expect((await h.admin.request<{ virtualMachines: { totalCount: number } }>(byHost, { host: hostOfA })).virtualMachines.totalCount).toBeGreaterThan(0);
  });

  it("every mutation by B on A's instance is NOT_FOUND and appends nothing", async () => {
    const id = vmA.id;
    const mutations: Array<[string, string, Record<string, unknown>]> = [
      ['start', `mutation($id: ID!) { startVirtualMachine(id: $id) { id } }`, { id }],
      ['stop', `mutation($id: ID!) { stopVirtualMachine(id: $id) { id } }`, { id }],
      ['stop forced', `mutation($id: ID!) { stopVirtualMachine(id: $id, forced: true) { id } }`, { id }],
      ['reboot', `mutation($id: ID!) { rebootVirtualMachine(id: $id) { id } }`, { id }],
      ['destroy', `mutation($id: ID!) { destroyVirtualMachine(id: $id) { id } }`, { id }],
      ['destroy expunge', `mutation($id: ID!) { destroyVirtualMachine(id: $id, expunge: true) { id } }`, { id }],
      ['update', `mutation($id: ID!) { updateVirtualMachine(id: $id, displayName: "pwned") { id } }`, { id }],
      ['update protection', `mutation($id: ID!) { updateVirtualMachine(id: $id, deleteProtection: true) { id } }`, { id }],
      ['recover', `mutation($id: ID!) { recoverVirtualMachine(id: $id) { id } }`, { id }],
      ['expunge', `mutation($id: ID!) { expungeVirtualMachine(id: $id) }`, { id }],
      ['scale', `mutation($id: ID!, $s: ID!) { scaleVirtualMachine(id: $id, serviceOfferingId: $s) { id } }`, { id, s: h.demo.serviceOfferingIds.medium }],
      ['changeService', `mutation($id: ID!, $s: ID!) { changeServiceForVirtualMachine(id: $id, serviceOfferingId: $s) { id } }`, { id, s: h.demo.serviceOfferingIds.medium }],
      ['restore', `mutation($id: ID!) { restoreVirtualMachine(virtualMachineId: $id) { id } }`, { id }],
    ];
    const head = await h.logHead();
    for (const [name, mutation, variables] of mutations) {
      const error = await gqlError(b.client.request(mutation, variables));
      expect(error.extensions, name).toMatchObject({ code: 'NOT_FOUND', errorCode: 431 });
      expect(error.message, name).toContain(id);
      expect(error.message, name).not.toContain('secret-a');
    }
    expect(await h.logHead()).toBe(head);
    const after = await getVm(a.client, id);
    expect(after).toMatchObject({ state: 'Running', displayName: vmA.displayName, deleteProtection: false });
    // The same refusal as for an id that does not exist at all.
    const missing = await gqlError(b.client.request(`mutation { stopVirtualMachine(id: "00000000-0000-4000-8000-000000000000") { id } }`));
    expect(missing.extensions).toMatchObject({ code: 'NOT_FOUND', errorCode: 431 });
  });

  it("B cannot deploy onto A's isolated network, which it cannot see", async () => {
    const { createNetwork: isolated } = await h.admin.request<{ createNetwork: { id: string } }>(
      `mutation($z: ID!, $a: ID) { createNetwork(zoneId: $z, name: "tenant-a-private", type: Isolated, cidr: "10.9.0.0/24", accountId: $a) { id } }`,
      { z: h.demo.zoneId, a: a.id },
    );
    const networkList = `{ networks(first: 50) { nodes { id } } }`;
    type Networks = { networks: { nodes: Array<{ id: string }> } };
    expect((await a.client.request<Networks>(networkList)).networks.nodes.map((n) => n.id)).toContain(isolated.id);
    expect((await b.client.request<Networks>(networkList)).networks.nodes.map((n) => n.id)).not.toContain(isolated.id);

    const head = await h.logHead();
    const errors = await gqlErrors(
      b.client.request(
        `mutation($z: ID!, $s: ID!, $t: ID!, $n: [ID!]) { deployVirtualMachine(zoneId: $z, serviceOfferingId: $s, templateId: $t, networkIds: $n, name: "intruder") { id status } }`,
        { z: h.demo.zoneId, s: h.demo.serviceOfferingIds.small, t: h.demo.templateId, n: [isolated.id] },
      ),
      h,
    );
    // As for a network that does not exist (API.md: NOT_FOUND covers "not visible to the caller").
    expect(['BAD_USER_INPUT', 'NOT_FOUND']).toContain(errors[0]!.extensions?.['code']);
    expect(errors[0]!.extensions?.['errorCode']).toBe(431);
    expect(await h.logHead()).toBe(head);
    // A may.
    const { deployVirtualMachine } = await a.client.request<{ deployVirtualMachine: { id: string } }>(
      `mutation($z: ID!, $s: ID!, $t: ID!, $n: [ID!]) { deployVirtualMachine(zoneId: $z, serviceOfferingId: $s, templateId: $t, networkIds: $n, name: "on-private", startVm: false) { id } }`,
      { z: h.demo.zoneId, s: h.demo.serviceOfferingIds.small, t: h.demo.templateId, n: [isolated.id] },
    );
    expect((await h.waitForJob(a.client, deployVirtualMachine.id)).status).toBe('SUCCEEDED');
  });

  it("a deployment that names no network gets one its owner may use, never another account's", async () => {
    // A zone whose oldest network is A's own: before any zone-wide network exists, it is all there is.
    const admin = h.admin;
    const { createZone } = await admin.request<{ createZone: { id: string } }>(`mutation { createZone(name: "owned-first", networkType: "Advanced") { id } }`);
    const zoneId = createZone.id;
    const network = async (variables: Record<string, unknown>) =>
      (
        await admin.request<{ createNetwork: { id: string } }>(
          `mutation($z: ID!, $name: String!, $type: GuestNetworkType!, $vlan: Int, $cidr: String, $a: ID) {
            createNetwork(zoneId: $z, name: $name, type: $type, vlan: $vlan, cidr: $cidr, accountId: $a) { id } }`,
          { z: zoneId, vlan: null, cidr: null, a: null, ...variables },
        )
      ).createNetwork.id;
    const privateA = await network({ name: 'a-first', type: 'Isolated', cidr: '10.20.0.0/24', a: a.id });
    const { registerTemplate } = await admin.request<{ registerTemplate: { id: string } }>(
      `mutation($z: ID) { registerTemplate(zoneId: $z, name: "owned-first-linux", osType: "Debian GNU/Linux 12 (64-bit)", url: "https://example.invalid/d.qcow2", size: 2147483648, isPublic: true) { id } }`,
      { z: zoneId },
    );
    const inZone = { zoneId, templateId: registerTemplate.id, startVm: false };
    const nicNetworks = (vm: Vm) => vm.nics.map((n) => n.networkId);

    const head = await h.logHead();
    const refused = await gqlError(deploy(h, b.client, { ...inZone, name: 'no-network-for-b' }), h);
    expect(refused.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431, field: 'networkIds' });
    expect(await h.logHead()).toBe(head);
    expect(nicNetworks(await deployed(h, a.client, { ...inZone, name: 'a-default' }))).toEqual([privateA]);

    const shared = await network({ name: 'zone-wide', type: 'L2', vlan: 310 });
    expect(nicNetworks(await deployed(h, b.client, { ...inZone, name: 'b-default' }))).toEqual([shared]);
    // The root admin deploying for B, by account name: B's default, not the zone's oldest network.
    const forB = await deployed(h, admin, { ...inZone, name: 'for-b', account: 'tenant-b' });
    expect(forB.accountId).toBe(b.id);
    expect(nicNetworks(forB)).toEqual([shared]);
    // Nor may the root admin put B's instance on A's network by naming it: B could not use it.
    const misplaced = await gqlError(
      admin.request(
        `mutation($z: ID!, $s: ID!, $t: ID!, $n: [ID!], $account: String) { deployVirtualMachine(zoneId: $z, serviceOfferingId: $s, templateId: $t, networkIds: $n, account: $account, startVm: false) { id } }`,
        { z: zoneId, s: h.demo.serviceOfferingIds.small, t: registerTemplate.id, n: [privateA], account: 'tenant-b' },
      ),
      h,
    );
    expect(misplaced.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431, field: 'networkIds[0]' });
  });

  it("an admin's deployment or restore for B takes only a template B may use", async () => {
    const { registerTemplate } = await h.admin.request<{ registerTemplate: { id: string } }>(
      `mutation { registerTemplate(name: "root-only", osType: "Debian GNU/Linux 12 (64-bit)", url: "https://example.invalid/r.qcow2", size: 2147483648, isPublic: false) { id } }`,
    );
    const rootOnly = registerTemplate.id;
    const head = await h.logHead();
    const forB = await gqlError(deploy(h, h.admin, { name: 'b-on-root-only', account: 'tenant-b', templateId: rootOnly, startVm: false }), h);
    expect(forB.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431, field: 'templateId' });
    const restore = await gqlError(
      h.admin.request(`mutation($id: ID!, $t: ID) { restoreVirtualMachine(virtualMachineId: $id, templateId: $t) { id } }`, { id: vmB.id, t: rootOnly }),
      h,
    );
    expect(restore.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431, field: 'templateId' });
    // Exactly as B itself is told.
    expect(restore.message).toBe((await gqlError(deploy(h, b.client, { templateId: rootOnly, startVm: false }), h)).message);
    expect(await h.logHead()).toBe(head);
    // The root admin's own instances may use it.
    expect((await deployed(h, h.admin, { name: 'admin-on-root-only', templateId: rootOnly, startVm: false })).templateId).toBe(rootOnly);
  });

  it('only an admin deploys for another account', async () => {
    const head = await h.logHead();
    const refused = await gqlError(deploy(h, b.client, { name: 'for-a', account: 'tenant-a', startVm: false }), h);
    expect(refused.extensions).toMatchObject({ code: 'FORBIDDEN', errorCode: 531, field: 'account' });
    const unknown = await gqlError(deploy(h, h.admin, { name: 'for-nobody', account: 'no-such-account', startVm: false }), h);
    expect(unknown.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431, field: 'account' });
    expect(await h.logHead()).toBe(head);
    // By id works as well as by name.
    expect((await deployed(h, h.admin, { name: 'for-a-by-id', account: a.id, startVm: false })).accountId).toBe(a.id);
  });

  it('a USER may name its own account, by name or id, but no other', async () => {
    const byName = await deployed(h, b.client, { name: 'b-names-itself', account: 'tenant-b', startVm: false });
    expect(byName.accountId).toBe(b.id);
    const byId = await deployed(h, b.client, { name: 'b-names-its-id', account: b.id, startVm: false });
    expect(byId.accountId).toBe(b.id);
    const { deployVirtualMachine } = await b.client.request<{ deployVirtualMachine: { id: string } }>(
      `mutation($z: ID!, $s: ID!, $t: ID!, $d: ID) { deployVirtualMachine(zoneId: $z, serviceOfferingId: $s, templateId: $t, name: "b-in-its-domain", account: "tenant-b", domainId: $d, startVm: false) { id } }`,
      { z: h.demo.zoneId, s: h.demo.serviceOfferingIds.small, t: h.demo.templateId, d: ROOT_DOMAIN_ID },
    );
    expect((await h.waitForJob(b.client, deployVirtualMachine.id)).result?.accountId).toBe(b.id);
    // Another account, existing or not, is refused alike.
    const head = await h.logHead();
    for (const account of ['tenant-a', a.id, 'no-such-account']) {
      const refused = await gqlError(deploy(h, b.client, { name: 'b-for-other', account, startVm: false }), h);
      expect(refused.extensions, account).toMatchObject({ code: 'FORBIDDEN', errorCode: 531, field: 'account' });
      expect(refused.message, account).toBe('Only admins may deploy for another account');
    }
    expect(await h.logHead()).toBe(head);
  });

  it('a USER cannot deploy from a private template it cannot see', async () => {
    const { registerTemplate: hidden } = await h.admin.request<{ registerTemplate: { id: string; isPublic: boolean } }>(
      `mutation($z: ID) { registerTemplate(zoneId: $z, name: "admin-only", osType: "Debian GNU/Linux 12 (64-bit)", url: "https://example.invalid/admin.qcow2", size: 2147483648, isPublic: false) { id isPublic } }`,
      { z: h.demo.zoneId },
    );
    expect(hidden.isPublic).toBe(false);
    const { templates } = await b.client.request<{ templates: { nodes: Array<{ id: string }> } }>(`{ templates(first: 50) { nodes { id } } }`);
    expect(templates.nodes.map((n) => n.id)).not.toContain(hidden.id);

    const head = await h.logHead();
    const errors = await gqlErrors(
      b.client.request(
        `mutation($z: ID!, $s: ID!, $t: ID!) { deployVirtualMachine(zoneId: $z, serviceOfferingId: $s, templateId: $t, name: "from-hidden") { id status } }`,
        { z: h.demo.zoneId, s: h.demo.serviceOfferingIds.small, t: hidden.id },
      ),
      h,
    );
    expect(['BAD_USER_INPUT', 'NOT_FOUND']).toContain(errors[0]!.extensions?.['code']);
    expect(errors[0]!.extensions?.['errorCode']).toBe(431);
    expect(await h.logHead()).toBe(head);
  });

  it("a USER gets FORBIDDEN 531 from the root admin's operations", async () => {
    const hostOfB = (await getVm(h.admin, vmB.id))?.hostId;
    const head = await h.logHead();
    const forbidden: Array<[string, string, Record<string, unknown>]> = [
      ['createZone', `mutation { createZone(name: "rogue-zone") { id } }`, {}],
      ['addCluster', `mutation($z: ID!) { addCluster(zoneId: $z, name: "rogue", hypervisor: "KVM") { id } }`, { z: h.demo.zoneId }],
      ['addHost', `mutation($c: ID!) { addHost(clusterId: $c, name: "rogue-host", driver: "simulator") { id } }`, { c: h.demo.clusterId }],
      ['updateConfiguration', `mutation { updateConfiguration(name: "allow.user.expunge.recover.vm", value: "false") { name value } }`, {}],
      ['createServiceOffering', `mutation { createServiceOffering(name: "rogue", cpuNumber: 1, cpuSpeed: 100, memory: 128) { id } }`, {}],
      ['createAccount', `mutation { createAccount(name: "rogue", role: ROOT_ADMIN) { id apiKey } }`, {}],
      ['migrateVirtualMachine', `mutation($id: ID!) { migrateVirtualMachine(virtualMachineId: $id) { id } }`, { id: vmB.id }],
      ['migrateVirtualMachine to a host', `mutation($id: ID!, $host: ID) { migrateVirtualMachine(virtualMachineId: $id, hostId: $host) { id } }`, { id: vmB.id, host: h.demo.hostIds.find((x) => x !== hostOfB) }],
      ['hosts', `{ hosts { nodes { id } } }`, {}],
      ['configurations', `{ configurations { nodes { name } } }`, {}],
    ];
    for (const [name, operation, variables] of forbidden) {
      const error = await gqlError(b.client.request(operation, variables));
      expect(error.extensions, name).toMatchObject({ code: 'FORBIDDEN', errorCode: 531 });
    }
    expect(await h.logHead()).toBe(head);
    expect((await getVm(h.admin, vmB.id))?.hostId).toBe(hostOfB);
  });

  it('a DOMAIN_ADMIN of the ROOT domain sees across accounts but is not the root admin', async () => {
    const domainAdmin = await h.createUser('root-domain-admin', 'DOMAIN_ADMIN');
    const { virtualMachines } = await domainAdmin.client.request<{ virtualMachines: { nodes: Array<{ id: string }> } }>(`{ virtualMachines(first: 100) { nodes { id } } }`);
    const ids = virtualMachines.nodes.map((n) => n.id);
    expect(ids).toContain(vmA.id);
    expect(ids).toContain(vmB.id);
    for (const operation of [`mutation { createZone(name: "da-zone") { id } }`, `mutation { updateConfiguration(name: "expunge.delay", value: "1") { name } }`]) {
      const errors = await gqlErrors(domainAdmin.client.request(operation));
      expect(errors[0]!.extensions).toMatchObject({ code: 'FORBIDDEN', errorCode: 531 });
    }
    // It may open USER accounts in its subtree, but not admins.
    const { createAccount } = await domainAdmin.client.request<{ createAccount: { role: string; apiKey: string } }>(`mutation { createAccount(name: "da-user", role: USER) { role apiKey } }`);
    expect(createAccount.role).toBe('USER');
    expect(createAccount.apiKey.length).toBeGreaterThan(20);
    const refused = await gqlError(domainAdmin.client.request(`mutation { createAccount(name: "da-admin", role: DOMAIN_ADMIN) { id } }`));
    expect(refused.extensions).toMatchObject({ code: 'FORBIDDEN', errorCode: 531 });
  });

  it("a DOMAIN_ADMIN of the ROOT domain neither acts on the root admin's instances nor deploys for it", async () => {
    const domainAdmin = await h.createUser('root-domain-admin-2', 'DOMAIN_ADMIN');
    const rootVm = await deployed(h, h.admin, { name: 'root-admins-own', startVm: false });
    // Any root admin's, not only the first one's.
    const secondRoot = await h.createUser('second-root-admin', 'ROOT_ADMIN');
    // It sees the instance (its domain is ROOT), so the refusal is FORBIDDEN rather than NOT_FOUND.
    expect((await getVm(domainAdmin.client, rootVm.id))?.id).toBe(rootVm.id);

    const id = rootVm.id;
    const mutations: Array<[string, string, Record<string, unknown>]> = [
      ['update', `mutation($id: ID!) { updateVirtualMachine(id: $id, displayName: "taken-over") { id } }`, { id }],
      ['start', `mutation($id: ID!) { startVirtualMachine(id: $id) { id } }`, { id }],
      ['destroy', `mutation($id: ID!) { destroyVirtualMachine(id: $id, expunge: true) { id } }`, { id }],
      ['restore', `mutation($id: ID!) { restoreVirtualMachine(virtualMachineId: $id) { id } }`, { id }],
      ['changeService', `mutation($id: ID!, $s: ID!) { changeServiceForVirtualMachine(id: $id, serviceOfferingId: $s) { id } }`, { id, s: h.demo.serviceOfferingIds.medium }],
    ];
    const head = await h.logHead();
    for (const [name, mutation, variables] of mutations) {
      const error = await gqlError(domainAdmin.client.request(mutation, variables), h);
      expect(error.extensions, name).toMatchObject({ code: 'FORBIDDEN', errorCode: 531 });
      expect(error.message, name).toContain(id);
    }
    for (const account of ['admin', ROOT_ADMIN_ACCOUNT_ID, 'second-root-admin', secondRoot.id]) {
      const error = await gqlError(deploy(h, domainAdmin.client, { name: 'for-root', account, startVm: false }), h);
      expect(error.extensions, account).toMatchObject({ code: 'FORBIDDEN', errorCode: 531, field: 'account' });
    }
    expect(await h.logHead()).toBe(head);
    expect(await getVm(h.admin, id)).toMatchObject({ displayName: rootVm.displayName, state: 'Stopped' });

    // Its own domain's users' instances stay within its reach.
    const { updateVirtualMachine } = await domainAdmin.client.request<{ updateVirtualMachine: { displayName: string } }>(
      `mutation($id: ID!) { updateVirtualMachine(id: $id, displayName: "renamed-by-da") { displayName } }`,
      { id: vmB.id },
    );
    expect(updateVirtualMachine.displayName).toBe('renamed-by-da');
    expect((await deployed(h, domainAdmin.client, { name: 'da-for-b', account: 'tenant-b', startVm: false })).accountId).toBe(b.id);
  });
});
