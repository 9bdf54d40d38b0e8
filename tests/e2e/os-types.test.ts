// The guest OS type catalogue (CloudStack's listOsTypes): listed to every caller with the paging of
// every list, the OS an instance takes from its template, and the ids updateVirtualMachine and the
// descriptions registerTemplate accept, anything else refused with the argument named and nothing appended.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLClient } from 'graphql-request';
import { deployed, gqlError, startHarness, type Harness } from './harness.js';

type OsType = { id: string; description: string; osCategoryName: string };
type Page = { nodes: OsType[]; totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null } };

const OS_TYPES = `query($id: ID, $description: String, $keyword: String, $first: Int, $after: String) {
  osTypes(id: $id, description: $description, keyword: $keyword, first: $first, after: $after) {
    nodes { id description osCategoryName } totalCount pageInfo { hasNextPage endCursor } } }`;

describe('OS types', () => {
  let h: Harness;
  let user: GraphQLClient;
  const list = async (client: GraphQLClient, variables: Record<string, unknown> = {}) =>
    (await client.request<{ osTypes: Page }>(OS_TYPES, variables)).osTypes;
  const described = async (description: string) => {
    const nodes = (await list(user, { description })).nodes.filter((os) => os.description === description);
    expect(nodes, description).toHaveLength(1);
    return nodes[0]!;
  };

  beforeAll(async () => {
    h = await startHarness();
    user = (await h.createUser('os-user')).client;
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('lists the common guests to every caller, pages through them and filters them', async () => {
    const all = await list(user, { first: 500 });
    const descriptions = all.nodes.map((os) => os.description);
    for (const expected of [
      'Debian GNU/Linux 12 (64-bit)', 'Ubuntu 22.04 LTS', 'Ubuntu 24.04 LTS', 'CentOS 8', 'Rocky Linux 9', 'Red Hat Enterprise Linux 9',
      'Windows Server 2019 (64-bit)', 'Windows Server 2022 (64-bit)', 'Other Linux (64-bit)',
    ]) {
      expect(descriptions).toContain(expected);
    }
    expect(all.totalCount).toBe(all.nodes.length);
    expect(new Set(all.nodes.map((os) => os.id)).size).toBe(all.nodes.length);
    expect(await list(h.admin, { first: 500 })).toEqual(all);

    // Two at a time, the pages make up the whole list, in the same order.
    const paged: OsType[] = [];
    let after: string | null = null;
    for (;;) {
      const page: Page = await list(user, { first: 2, after });
      expect(page.totalCount).toBe(all.totalCount);
      paged.push(...page.nodes);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(paged).toEqual(all.nodes);

    const ubuntu = await list(user, { keyword: 'ubuntu' });
    expect(ubuntu.nodes.map((os) => os.description)).toEqual(['Ubuntu 20.04 LTS', 'Ubuntu 22.04 LTS', 'Ubuntu 24.04 LTS']);
    expect(ubuntu.nodes.every((os) => os.osCategoryName === 'Ubuntu')).toBe(true);
    expect((await list(user, { description: 'Windows Server', keyword: '2022' })).nodes.map((os) => os.description)).toEqual(['Windows Server 2022 (64-bit)']);
    const debian = await described('Debian GNU/Linux 12 (64-bit)');
    expect((await list(user, { id: debian.id })).nodes).toEqual([debian]);
    expect((await list(user, { id: 'bogus' })).totalCount).toBe(0);

    const badCursor = await gqlError(user.request(OS_TYPES, { after: 'not-a-cursor' }));
    expect(badCursor.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it("gives an instance its template's OS type, and the template names it", async () => {
    const debian = await described('Debian GNU/Linux 12 (64-bit)');
    const { templates } = await user.request<{ templates: { nodes: Array<{ id: string; osType: string; osTypeId: string | null }> } }>(`{ templates { nodes { id osType osTypeId } } }`);
    expect(templates.nodes.find((t) => t.id === h.demo.templateId)).toMatchObject({ osType: debian.description, osTypeId: debian.id });
    const vm = await deployed(h, user, { name: 'os-from-template', startVm: false });
    const { virtualMachine } = await user.request<{ virtualMachine: { osTypeId: string } }>(`query($id: ID!) { virtualMachine(id: $id) { osTypeId } }`, { id: vm.id });
    expect(virtualMachine.osTypeId).toBe(debian.id);
  });

  it('updateVirtualMachine records a known OS type and refuses an unknown or empty one, naming osTypeId', async () => {
    const vm = await deployed(h, user, { name: 'os-updated', startVm: false });
    const update = `mutation($id: ID!, $os: ID, $name: String) { updateVirtualMachine(id: $id, osTypeId: $os, displayName: $name) { osTypeId displayName } }`;
    const head = await h.logHead();
    for (const os of ['bogus', '', 'Ubuntu 24.04 LTS']) {
      const error = await gqlError(user.request(update, { id: vm.id, os, name: 'renamed' }));
      expect(error.extensions, JSON.stringify(os)).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431, field: 'osTypeId' });
      expect(error.message).toContain(JSON.stringify(os));
    }
    expect(await h.logHead()).toBe(head);

    const ubuntu = await described('Ubuntu 24.04 LTS');
    const { updateVirtualMachine } = await user.request<{ updateVirtualMachine: { osTypeId: string; displayName: string } }>(update, { id: vm.id, os: ubuntu.id, name: 'renamed' });
    expect(updateVirtualMachine).toEqual({ osTypeId: ubuntu.id, displayName: 'renamed' });
  });

  it('registerTemplate takes an OS type by its description and refuses any other, naming osType', async () => {
    const register = `mutation($os: String!) { registerTemplate(name: "os-check", osType: $os, url: "https://example.invalid/t.qcow2", size: 2147483648) { osType osTypeId } }`;
    const debian = await described('Debian GNU/Linux 12 (64-bit)');
    const head = await h.logHead();
    for (const os of ['bogus', '', 'Debian', debian.id]) {
      const error = await gqlError(h.admin.request(register, { os }));
      expect(error.extensions, JSON.stringify(os)).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431, field: 'osType' });
    }
    expect(await h.logHead()).toBe(head);
    const rocky = await described('Rocky Linux 9');
    const { registerTemplate } = await h.admin.request<{ registerTemplate: { osType: string; osTypeId: string } }>(register, { os: rocky.description });
    expect(registerTemplate).toEqual({ osType: rocky.description, osTypeId: rocky.id });
  });
});
