import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectRefused, openTestContext, type TestContext } from './support.js';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite/sqlite-event-store.js';
import {
  ROOT_DOMAIN_ID,
  accounts,
  authenticate,
  bootstrapRootAdmin,
  createAccount,
} from '../../../api/control-plane/accounts.js';
import { execute, settled, type ControlPlaneContext } from '../../../api/control-plane/context.js';
import type { Caller } from '../../../api/control-plane/port.js';
import { accountDecider, accountStream, domainDecider, domainStream, hashApiKey, type AccountCommand } from '../../../domain/account/index.js';

const ADMIN_KEY = 'root-admin-key-0123456789abcdef';

describe('accounts and authentication', () => {
  let opened: TestContext;
  let store: SqliteEventStore;
  let context: ControlPlaneContext;

  beforeEach(async () => {
    opened = await openTestContext();
    ({ context, store } = opened);
  });

  afterEach(async () => {
    await opened.close();
  });

  const system = () => ({ actor: { kind: 'system', component: 'test' } as const, correlationId: randomUUID(), occurredAt: new Date().toISOString() });

  /** The domain tree has no API yet; tests build child domains the way the aggregate expects. */
  async function childDomain(parent: { id: string; path: string }, name: string): Promise<{ id: string; path: string }> {
    const id = randomUUID();
    await execute(context, domainStream(parent.id), domainDecider, { type: 'RegisterChildDomain', childDomainId: id, name }, system());
    const result = await execute(
      context,
      domainStream(id),
      domainDecider,
      { type: 'CreateDomain', domainId: id, name, parent: { domainId: parent.id, path: parent.path }, at: new Date().toISOString() },
      system(),
    );
    await settled(context, result.positions);
    return { id, path: `${parent.path}${name}/` };
  }

  async function accountCommand(accountId: string, command: AccountCommand): Promise<void> {
    const result = await execute(context, accountStream(accountId), accountDecider, command, system());
    await settled(context, result.positions);
  }

  const login = (apiKey: string): Caller => {
    const caller = authenticate(context, apiKey);
    if (!caller) throw new Error('the key was refused');
    return caller;
  };

  describe('bootstrapRootAdmin', () => {
    it('creates the ROOT domain and an admin account whose key authenticates as ROOT_ADMIN', async () => {
      const { created, caller } = await bootstrapRootAdmin(context, ADMIN_KEY);
      expect(created).toBe(true);
      expect(login(ADMIN_KEY)).toEqual(caller);
      expect(caller).toMatchObject({ role: 'ROOT_ADMIN', domainId: ROOT_DOMAIN_ID, domainPath: '/' });
      expect(accounts(context, caller, {}).nodes).toEqual([expect.objectContaining({ name: 'admin', role: 'ROOT_ADMIN', domainId: ROOT_DOMAIN_ID })]);
      const log = await store.readAll();
      expect(log.map((e) => e.type)).toEqual(['DomainCreated', 'AccountNameRegistered', 'AccountCreated', 'UserCreated']);
      expect(JSON.stringify(log)).not.toContain(ADMIN_KEY);
      expect(JSON.stringify(log)).toContain(hashApiKey(ADMIN_KEY));
    });

    it('does nothing when the ROOT domain exists, and never replaces the admin key', async () => {
      const first = await bootstrapRootAdmin(context, ADMIN_KEY);
      const head = await store.headPosition();
      const again = await bootstrapRootAdmin(context, 'another-admin-key-0123456789');
      expect(again).toEqual({ created: false, caller: first.caller });
      expect(await store.headPosition()).toBe(head);
      expect(authenticate(context, ADMIN_KEY)).toEqual(first.caller);
      expect(authenticate(context, 'another-admin-key-0123456789')).toBeUndefined();
    });

    it('converges when two bootstraps race on an empty log', async () => {
      const [a, b] = await Promise.all([bootstrapRootAdmin(context, ADMIN_KEY), bootstrapRootAdmin(context, ADMIN_KEY)]);
      expect([a.created, b.created].filter(Boolean)).toHaveLength(1);
      expect((await store.readAll()).filter((e) => e.type === 'AccountCreated')).toHaveLength(1);
      expect(login(ADMIN_KEY).role).toBe('ROOT_ADMIN');
    });

    it('refuses an unusable key before appending anything', async () => {
      await expectRefused(() => bootstrapRootAdmin(context, 'short'), 'BAD_USER_INPUT', 'apiKey');
      expect(await store.headPosition()).toBe(0);
    });
  });

  describe('createAccount', () => {
    let admin: Caller;
    beforeEach(async () => {
      admin = (await bootstrapRootAdmin(context, ADMIN_KEY)).caller;
    });

    it('returns the account with a fresh API key that authenticates; only its hash is logged', async () => {
      const account = await createAccount(context, admin, { name: 'alice', role: 'USER' });
      expect(account).toMatchObject({ name: 'alice', role: 'USER', domainId: ROOT_DOMAIN_ID, domainPath: '/', state: 'enabled' });
      expect(account.apiKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(login(account.apiKey)).toMatchObject({ accountId: account.id, role: 'USER', domainId: ROOT_DOMAIN_ID, domainPath: '/' });
      const log = JSON.stringify(await store.readAll());
      expect(log).not.toContain(account.apiKey);
      expect(log).toContain(hashApiKey(account.apiKey));
      const other = await createAccount(context, admin, { name: 'bob', role: 'USER' });
      expect(other.apiKey).not.toBe(account.apiKey);
    });

    it('refuses wrong, empty and oversized keys', async () => {
      const account = await createAccount(context, admin, { name: 'alice', role: 'USER' });
      expect(authenticate(context, `${account.apiKey}x`)).toBeUndefined();
      expect(authenticate(context, 'x'.repeat(43))).toBeUndefined();
      expect(authenticate(context, '')).toBeUndefined();
      expect(authenticate(context, 'k'.repeat(513))).toBeUndefined();
    });

    it('refuses disabled users and disabled accounts', async () => {
      const account = await createAccount(context, admin, { name: 'alice', role: 'USER' });
      const userId = login(account.apiKey).userId;
      await accountCommand(account.id, { type: 'DisableUser', userId });
      expect(authenticate(context, account.apiKey)).toBeUndefined();
      await accountCommand(account.id, { type: 'EnableUser', userId });
      expect(authenticate(context, account.apiKey)).toBeDefined();
      await accountCommand(account.id, { type: 'DisableAccount' });
      expect(authenticate(context, account.apiKey)).toBeUndefined();
    });

    it('refuses bad arguments, unknown domains and duplicate names, appending nothing', async () => {
      await createAccount(context, admin, { name: 'alice', role: 'USER' });
      const head = await store.headPosition();
      await expectRefused(() => createAccount(context, admin, { role: 'USER' }), 'BAD_USER_INPUT', 'name');
      await expectRefused(() => createAccount(context, admin, { name: 'x', role: 'GOD' }), 'BAD_USER_INPUT', 'role');
      await expectRefused(() => createAccount(context, admin, { name: 'x', role: 'USER', domainId: randomUUID() }), 'BAD_USER_INPUT', 'domainId');
      await expectRefused(() => createAccount(context, admin, { name: 'a/b', role: 'USER' }), 'BAD_USER_INPUT', 'name');
      await expectRefused(() => createAccount(context, admin, { name: 'ALICE', role: 'USER' }), 'CONFLICT', 'name');
      expect(await store.headPosition()).toBe(head);
    });

    it('keeps ROOT_ADMIN accounts in the ROOT domain', async () => {
      const acme = await childDomain({ id: ROOT_DOMAIN_ID, path: '/' }, 'acme');
      const head = await store.headPosition();
      await expectRefused(() => createAccount(context, admin, { name: 'boss', role: 'ROOT_ADMIN', domainId: acme.id }), 'BAD_USER_INPUT', 'role');
      expect(await store.headPosition()).toBe(head);
      expect((await createAccount(context, admin, { name: 'ops', role: 'ROOT_ADMIN' })).role).toBe('ROOT_ADMIN');
    });

    it('lets a domain admin create USER accounts in its subtree only; users create none', async () => {
      const acme = await childDomain({ id: ROOT_DOMAIN_ID, path: '/' }, 'acme');
      const dev = await childDomain(acme, 'dev');
      const domainAdmin = login((await createAccount(context, admin, { name: 'acme-admin', role: 'DOMAIN_ADMIN', domainId: acme.id })).apiKey);
      expect(domainAdmin).toMatchObject({ role: 'DOMAIN_ADMIN', domainPath: '/acme/' });

      const inOwn = await createAccount(context, domainAdmin, { name: 'carol', role: 'USER' });
      expect(inOwn.domainId).toBe(acme.id);
      const below = await createAccount(context, domainAdmin, { name: 'dave', role: 'USER', domainId: dev.id });
      expect(below.domainPath).toBe('/acme/dev/');

      // A domain outside its subtree is answered as one that does not exist: no path, no FORBIDDEN to confirm it.
      const outside = await expectRefused(() => createAccount(context, domainAdmin, { name: 'x', role: 'USER', domainId: ROOT_DOMAIN_ID }), 'BAD_USER_INPUT', 'domainId');
      expect(outside.message).toBe(`Unable to find domain ${JSON.stringify(ROOT_DOMAIN_ID)}`);
      await expectRefused(() => createAccount(context, domainAdmin, { name: 'x', role: 'DOMAIN_ADMIN' }), 'FORBIDDEN', 'role');
      const user = login(inOwn.apiKey);
      const error = await expectRefused(() => createAccount(context, user, { name: 'x', role: 'USER' }), 'FORBIDDEN');
      expect(error.errorCode).toBe(531);
    });
  });

  describe('accounts', () => {
    it('shows the root admin everything, a domain admin its subtree and a user itself', async () => {
      const admin = (await bootstrapRootAdmin(context, ADMIN_KEY)).caller;
      const acme = await childDomain({ id: ROOT_DOMAIN_ID, path: '/' }, 'acme');
      const dev = await childDomain(acme, 'dev');
      const domainAdmin = login((await createAccount(context, admin, { name: 'acme-admin', role: 'DOMAIN_ADMIN', domainId: acme.id })).apiKey);
      await createAccount(context, admin, { name: 'dave', role: 'USER', domainId: dev.id });
      const erin = login((await createAccount(context, admin, { name: 'erin', role: 'USER' })).apiKey);

      expect(accounts(context, admin, {}).nodes.map((a) => a.name)).toEqual(['admin', 'acme-admin', 'dave', 'erin']);
      expect(accounts(context, domainAdmin, {}).nodes.map((a) => a.name)).toEqual(['acme-admin', 'dave']);
      expect(accounts(context, erin, {}).nodes.map((a) => a.name)).toEqual(['erin']);
      expect(JSON.stringify(accounts(context, admin, {}))).not.toMatch(/apiKey/);

      const page = accounts(context, admin, { first: 2 });
      expect(page.totalCount).toBe(4);
      expect(accounts(context, admin, { first: 2, after: page.pageInfo.endCursor }).nodes.map((a) => a.name)).toEqual(['dave', 'erin']);
      await expectRefused(() => accounts(context, admin, { after: 'not-a-cursor' }), 'BAD_USER_INPUT', 'after');
    });
  });
});
