import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handleCommand } from '../../../adapters/eventstore/command-handler.js';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite/sqlite-event-store.js';
import type { Decider, DomainEvent } from '../../../domain/shared/decider.js';
import {
  accountDecider,
  accountStream,
  domainDecider,
  domainStream,
  hashApiKey,
  type Role,
} from '../../../domain/account/index.js';
import {
  accountProjections,
  findCallerByApiKeyHash,
  getAccount,
  getDomain,
  listAccounts,
  listDomains,
  listUsers,
} from '../../../projections/accounts/index.js';
import { InvalidPageRequestError } from '../../../projections/pagination.js';
import { ReadModel } from '../../../projections/read-model.js';

const T0 = Date.UTC(2025, 0, 1);
const time = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const key = (name: string) => `key-${name}-0123456789abcdef`;

describe('account read models', () => {
  let dir: string;
  let store: SqliteEventStore;
  let model: ReadModel;
  const models: ReadModel[] = [];
  let tick = 0;
  const now = () => time(++tick);

  const openModel = async () => {
    const opened = await ReadModel.open({ store, projections: accountProjections, directory: ':memory:' });
    models.push(opened);
    return opened;
  };
  const exec = async <C, S, E extends DomainEvent>(stream: string, decider: Decider<C, S, E>, command: NoInfer<C>) => {
    const envelope = { actor: { kind: 'system', component: 'test' } as const, correlationId: randomUUID(), occurredAt: time(tick) };
    return handleCommand(store, { stream, decider, command, envelope, newEventId: randomUUID });
  };
  const synced = async (readModel: ReadModel = model) => {
    expect(await readModel.waitForPosition(await store.headPosition(), 5000)).toBe(true);
    return readModel.db;
  };

  // The production sequence: claim the name in the parent's stream, then create the child's stream.
  const paths: Record<string, string> = {};
  const createDomain = async (domainId: string, name: string, parentId: string | null) => {
    const parent = parentId === null ? null : { domainId: parentId, path: paths[parentId]! };
    if (parentId !== null) await exec(domainStream(parentId), domainDecider, { type: 'RegisterChildDomain', childDomainId: domainId, name });
    await exec(domainStream(domainId), domainDecider, { type: 'CreateDomain', domainId, name, parent, at: now() });
    paths[domainId] = parent === null ? '/' : `${parent.path}${name}/`;
  };
  const createAccount = async (accountId: string, name: string, role: Role, domainId: string, apiKey = key(name)) => {
    await exec(domainStream(domainId), domainDecider, { type: 'RegisterAccountName', accountId, name });
    await exec(accountStream(accountId), accountDecider, {
      type: 'CreateAccount',
      accountId,
      domainId,
      domainPath: paths[domainId]!,
      name,
      role,
      user: { userId: `u-${name}`, username: name, apiKey },
      at: now(),
    });
  };
  const seed = async () => {
    await createDomain('d0', 'ROOT', null);
    await createDomain('d1', 'acme', 'd0');
    await createDomain('d2', 'dev', 'd1');
    await createDomain('d3', 'acmex', 'd0');
    await createAccount('a0', 'admin', 'ROOT_ADMIN', 'd0');
    await createAccount('a1', 'alice', 'USER', 'd1');
    await createAccount('a2', 'bob', 'DOMAIN_ADMIN', 'd2');
    await createAccount('a3', 'carol', 'USER', 'd3');
  };

  beforeEach(async () => {
    tick = 0;
    dir = mkdtempSync(join(tmpdir(), 'vmledger-accounts-rm-'));
    store = SqliteEventStore.open(join(dir, 'events.sqlite'), { pollIntervalMs: 10 });
    model = await openModel();
  });
  afterEach(async () => {
    for (const m of models.splice(0)) await m.close().catch(() => undefined);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the domain tree and subtrees by path', async () => {
    await seed();
    const db = await synced();
    expect(listDomains(db).nodes).toEqual([
      { id: 'd0', name: 'ROOT', path: '/', parentId: null, created: time(1) },
      { id: 'd1', name: 'acme', path: '/acme/', parentId: 'd0', created: time(2) },
      { id: 'd2', name: 'dev', path: '/acme/dev/', parentId: 'd1', created: time(3) },
      { id: 'd3', name: 'acmex', path: '/acmex/', parentId: 'd0', created: time(4) },
    ]);
    expect(listDomains(db, { path: '/acme/' }).nodes.map((d) => d.id)).toEqual(['d1', 'd2']);
    expect(getDomain(db, 'd2')?.path).toBe('/acme/dev/');
  });

  it('lists accounts by id and by domain subtree, with their state', async () => {
    await seed();
    await exec(accountStream('a3'), accountDecider, { type: 'DisableAccount' });
    const db = await synced();

    expect(getAccount(db, 'a1')).toEqual({
      id: 'a1',
      name: 'alice',
      role: 'USER',
      domainId: 'd1',
      domainPath: '/acme/',
      state: 'enabled',
      created: time(6),
    });
    expect(getAccount(db, 'a3')?.state).toBe('disabled');
    expect(getAccount(db, 'nope')).toBeUndefined();
    expect(listAccounts(db).nodes.map((a) => a.name)).toEqual(['admin', 'alice', 'bob', 'carol']);
    // '/acme/' must not reach '/acmex/': paths end in a slash for exactly this reason.
    expect(listAccounts(db, { domainPath: '/acme/' }).nodes.map((a) => a.id)).toEqual(['a1', 'a2']);
    expect(listAccounts(db, { domainPath: '/' }).totalCount).toBe(4);
    expect(listAccounts(db, { ids: ['a3', 'a0', 'missing'] }).nodes.map((a) => a.id)).toEqual(['a0', 'a3']);
    expect(listAccounts(db, { ids: ['a3', 'a2'], domainPath: '/acme/' }).nodes.map((a) => a.id)).toEqual(['a2']);
    expect(listAccounts(db, { ids: [] })).toEqual({ nodes: [], pageInfo: { hasNextPage: false, endCursor: null }, totalCount: 0 });
  });

  it('pages accounts and refuses foreign cursors', async () => {
    await seed();
    const db = await synced();
    const first = listAccounts(db, { first: 3 });
    expect([first.nodes.map((a) => a.id), first.pageInfo.hasNextPage, first.totalCount]).toEqual([['a0', 'a1', 'a2'], true, 4]);
    const rest = listAccounts(db, { first: 3, after: first.pageInfo.endCursor });
    expect([rest.nodes.map((a) => a.id), rest.pageInfo.hasNextPage]).toEqual([['a3'], false]);
    expect(() => listAccounts(db, { after: '%%%' })).toThrow(InvalidPageRequestError);
    expect(() => listAccounts(db, { first: -1 })).toThrow(InvalidPageRequestError);
  });

  it('finds the caller of an API key, following rotation and disabling', async () => {
    await seed();
    await exec(accountStream('a1'), accountDecider, { type: 'AddUser', userId: 'u-alice-2', username: 'alice-ci', apiKey: key('alice-ci'), at: now() });
    await exec(accountStream('a1'), accountDecider, { type: 'RegisterUserKeys', userId: 'u-alice', apiKey: key('alice-rotated') });
    await exec(accountStream('a1'), accountDecider, { type: 'DisableUser', userId: 'u-alice-2' });
    await exec(accountStream('a2'), accountDecider, { type: 'DisableAccount' });
    const db = await synced();

    expect(findCallerByApiKeyHash(db, hashApiKey(key('alice-rotated')))).toEqual({
      userId: 'u-alice',
      accountId: 'a1',
      role: 'USER',
      domainId: 'd1',
      domainPath: '/acme/',
      accountState: 'enabled',
      userState: 'enabled',
    });
    expect(findCallerByApiKeyHash(db, hashApiKey(key('alice')))).toBeUndefined();
    expect(findCallerByApiKeyHash(db, hashApiKey(key('alice-ci')))).toMatchObject({ userId: 'u-alice-2', userState: 'disabled', accountState: 'enabled' });
    expect(findCallerByApiKeyHash(db, hashApiKey(key('bob')))).toMatchObject({ role: 'DOMAIN_ADMIN', domainPath: '/acme/dev/', accountState: 'disabled' });
    expect(findCallerByApiKeyHash(db, hashApiKey(key('admin')))).toMatchObject({ userId: 'u-admin', role: 'ROOT_ADMIN', domainPath: '/' });
    expect(listUsers(db, 'a1')).toEqual([
      { id: 'u-alice', accountId: 'a1', username: 'alice', state: 'enabled', created: time(6) },
      { id: 'u-alice-2', accountId: 'a1', username: 'alice-ci', state: 'disabled', created: time(9) },
    ]);
    expect(JSON.stringify(listUsers(db, 'a1'))).not.toContain(hashApiKey(key('alice-rotated')));
  });

  it('authenticates no one with a key two users share', async () => {
    await seed();
    await createAccount('a4', 'dave', 'USER', 'd3', key('carol'));
    const db = await synced();
    expect(findCallerByApiKeyHash(db, hashApiKey(key('carol')))).toBeUndefined();
    expect(findCallerByApiKeyHash(db, hashApiKey(key('alice')))?.userId).toBe('u-alice');
  });

  it('rebuilds to identical query results from the same log', async () => {
    await seed();
    await exec(accountStream('a1'), accountDecider, { type: 'RegisterUserKeys', userId: 'u-alice', apiKey: key('alice-2') });
    await exec(accountStream('a3'), accountDecider, { type: 'DisableAccount' });
    const everything = (db: Database) => ({
      domains: listDomains(db),
      accounts: listAccounts(db, { first: 2 }),
      subtree: listAccounts(db, { domainPath: '/acme/' }),
      users: listUsers(db, 'a1'),
      caller: findCallerByApiKeyHash(db, hashApiKey(key('alice-2'))),
    });
    const original = everything(await synced());
    const rebuilt = everything(await synced(await openModel()));
    expect(rebuilt).toEqual(original);
    expect(original.caller?.accountId).toBe('a1');
  });
});
