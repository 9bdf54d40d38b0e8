// A domain admin below ROOT reaches its subtree and nothing else: what lies outside looks exactly like
// what does not exist (no FORBIDDEN that would confirm an account or domain, no name or path in a
// message), and what it started inside is its own, even a deployment that failed before its instance
// was recorded. API.md has no createDomain; the harness appends the sub-domain as an operator would.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLClient } from 'graphql-request';
import { ROOT_DOMAIN_ID } from '../../api/control-plane/accounts.js';
import { JOB_FIELDS, deploy, deployed, gqlError, startHarness, type Harness, type Job } from './harness.js';

type Account = { id: string; key: string; client: GraphQLClient };

describe('a domain admin of a sub-domain', () => {
  let h: Harness;
  let outsider: Account;
  let subDomainId: string;
  let subAdmin: Account;
  let subUser: Account;

  beforeAll(async () => {
    h = await startHarness();
    outsider = await h.createUser('outside-root');
    subDomainId = await h.createSubDomain('sub');
    subAdmin = await h.createUser('sub-admin', 'DOMAIN_ADMIN', subDomainId);
    subUser = await h.createUser('sub-user', 'USER', subDomainId);
  });
  afterAll(async () => {
    await h?.stop();
  });

  const deployFor = (account: string, domainId: string | null) =>
    subAdmin.client.request(
      `mutation($z: ID!, $s: ID!, $t: ID!, $a: String, $d: ID) { deployVirtualMachine(zoneId: $z, serviceOfferingId: $s, templateId: $t, account: $a, domainId: $d, startVm: false) { id } }`,
      { z: h.demo.zoneId, s: h.demo.serviceOfferingIds.small, t: h.demo.templateId, a: account, d: domainId },
    );

  it('deploys for an account of its subtree, by name or id', async () => {
    const byName = await deployed(h, subAdmin.client, { name: 'for-sub-user', account: 'sub-user', startVm: false });
    expect(byName.accountId).toBe(subUser.id);
    const byId = await deployed(h, subAdmin.client, { name: 'for-sub-user-2', account: subUser.id, startVm: false });
    expect(byId.accountId).toBe(subUser.id);
  });

  it('finds no account outside its subtree, whether it exists or not', async () => {
    const head = await h.logHead();
    const attempts: Array<[string, string, string | null]> = [
      ['an unknown id', randomUUID(), null],
      ["another domain's account, by id", outsider.id, null],
      ["another domain's account, by name", 'outside-root', ROOT_DOMAIN_ID],
      ['an unknown name in another domain', 'no-such-account', ROOT_DOMAIN_ID],
      // An account of its own subtree named with another domain is not that account either.
      ['its own account under a wrong domain', subUser.id, ROOT_DOMAIN_ID],
    ];
    for (const [what, account, domainId] of attempts) {
      const error = await gqlError(deployFor(account, domainId), h);
      expect(error.extensions, what).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431, field: 'account' });
      expect(error.message, what).toBe(`Unable to find account ${JSON.stringify(account)} in domain ${domainId ?? subDomainId}`);
    }
    expect(await h.logHead()).toBe(head);
  });

  it('finds no domain outside its subtree to open an account in', async () => {
    const head = await h.logHead();
    for (const domainId of [randomUUID(), ROOT_DOMAIN_ID]) {
      const error = await gqlError(subAdmin.client.request(`mutation($d: ID) { createAccount(name: "probe", role: USER, domainId: $d) { id } }`, { d: domainId }));
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431, field: 'domainId' });
      expect(error.message).toBe(`Unable to find domain ${JSON.stringify(domainId)}`);
    }
    expect(await h.logHead()).toBe(head);
  });

  it('sees the job of its own deployment that failed before the instance was recorded, and a retry finds it', async () => {
    // A shared /30 holds one guest address; once it is taken, the next deployment's job fails on it.
    const { createNetwork } = await h.admin.request<{ createNetwork: { id: string } }>(
      `mutation($z: ID!) { createNetwork(zoneId: $z, name: "tiny", type: Shared, vlan: 901, cidr: "10.99.0.0/30") { id } }`,
      { z: h.demo.zoneId },
    );
    const deployOnTiny = (client: GraphQLClient, name: string, clientToken: string | null) =>
      client.request<{ deployVirtualMachine: Job }>(
        `mutation($z: ID!, $s: ID!, $t: ID!, $n: [ID!], $name: String, $token: String) {
          deployVirtualMachine(zoneId: $z, serviceOfferingId: $s, templateId: $t, networkIds: $n, name: $name, startVm: false, clientToken: $token) { ${JOB_FIELDS} } }`,
        { z: h.demo.zoneId, s: h.demo.serviceOfferingIds.small, t: h.demo.templateId, n: [createNetwork.id], name, token: clientToken },
      );
    for (let i = 0; i < 4; i++) {
      const { deployVirtualMachine: job } = await deployOnTiny(subUser.client, `fill-${i}`, null);
      if ((await h.waitForJob(subUser.client, job.id)).status === 'FAILED') break;
    }

    const first = (await deployOnTiny(subAdmin.client, 'no-room', 'once')).deployVirtualMachine;
    const failed = await h.waitForJob(subAdmin.client, first.id);
    expect(failed.status).toBe('FAILED');
    expect(failed.error?.code).toBe('INSUFFICIENT_CAPACITY');
    const head = await h.logHead();
    const retried = (await deployOnTiny(subAdmin.client, 'no-room', 'once')).deployVirtualMachine;
    expect(retried.id).toBe(first.id);
    expect(retried.status).toBe('FAILED');
    expect(await h.logHead()).toBe(head);
    // Still nobody else's to see.
    const { asyncJob } = await outsider.client.request<{ asyncJob: Job | null }>(`query($id: ID!) { asyncJob(id: $id) { id } }`, { id: first.id });
    expect(asyncJob).toBeNull();
  });

  it("does not see a ROOT-domain account's instance or job", async () => {
    const job = await h.waitForJob(outsider.client, (await deploy(h, outsider.client, { name: 'outside-vm', startVm: false })).id);
    expect(job.status).toBe('SUCCEEDED');
    const { asyncJob } = await subAdmin.client.request<{ asyncJob: Job | null }>(`query($id: ID!) { asyncJob(id: $id) { id } }`, { id: job.id });
    expect(asyncJob).toBeNull();
    const { virtualMachine } = await subAdmin.client.request<{ virtualMachine: { id: string } | null }>(`query($id: ID!) { virtualMachine(id: $id) { id } }`, { id: job.instanceId });
    expect(virtualMachine).toBeNull();
  });

});
