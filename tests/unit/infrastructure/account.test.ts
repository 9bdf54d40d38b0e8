import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  accountDecider,
  accountStream,
  apiKeyMatches,
  domainDecider,
  domainStream,
  hashApiKey,
  isInDomainSubtree,
  mayActFor,
  namedInstanceIds,
  type AccountCommand,
  type AccountEvent,
  type DomainEventType,
  type Role,
} from '../../../domain/account/index.js';
import { stateOf } from './support.js';
import { given } from '../../support/given.js';

const at = '2025-01-01T00:00:00.000Z';
const KEY = 'k-0123456789abcdef';
const KEY2 = 'k-fedcba9876543210';
const hash = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex');

describe('API key hashes', () => {
  it('are SHA-256 of the key', () => {
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
  it('checks keys against stored hashes', () => {
    expect(apiKeyMatches(KEY, hashApiKey(KEY))).toBe(true);
    expect(apiKeyMatches(KEY2, hashApiKey(KEY))).toBe(false);
  });
});

describe('domain', () => {
  const rootCreated: DomainEventType = { type: 'DomainCreated', data: { domainId: 'd0', name: 'ROOT', parentId: null, path: '/', created: at } };

  it('names its stream domain-<id>', () => {
    expect(domainStream('d0')).toBe('domain-d0');
  });

  describe('CreateDomain', () => {
    it('creates ROOT and children with their paths', () => {
      given(domainDecider).when({ type: 'CreateDomain', domainId: 'd0', name: 'ROOT', parent: null, at }).then([rootCreated]);
      given(domainDecider)
        .when({ type: 'CreateDomain', domainId: 'd2', name: 'eng', parent: { domainId: 'd1', path: '/acme/' }, at })
        .then([{ type: 'DomainCreated', data: { domainId: 'd2', name: 'eng', parentId: 'd1', path: '/acme/eng/', created: at } }]);
    });
    it('rejects invalid names, a parentless non-ROOT domain, bad times and duplicates', () => {
      const child = { type: 'CreateDomain', domainId: 'd1', name: 'acme', parent: { domainId: 'd0', path: '/' }, at } as const;
      given(domainDecider).when({ ...child, name: '' }).then('BAD_USER_INPUT', { field: 'name' });
      given(domainDecider).when({ ...child, name: 'a/b' }).then('BAD_USER_INPUT', { field: 'name' });
      given(domainDecider).when({ ...child, domainId: '' }).then('BAD_USER_INPUT', { field: 'domainId' });
      given(domainDecider).when({ ...child, at: '' }).then('BAD_USER_INPUT', { field: 'at' });
      given(domainDecider).when({ ...child, parent: null }).then('BAD_USER_INPUT', { field: 'parentDomainId' });
      given(domainDecider, [rootCreated]).when({ type: 'CreateDomain', domainId: 'd0', name: 'ROOT', parent: null, at }).then('CONFLICT', { field: 'domainId' });
    });
  });

  describe('RegisterChildDomain', () => {
    const registered: DomainEventType = { type: 'ChildDomainRegistered', data: { domainId: 'd0', childDomainId: 'd1', name: 'Acme' } };
    it('claims a child name once', () => {
      const state = given(domainDecider, [rootCreated]).when({ type: 'RegisterChildDomain', childDomainId: 'd1', name: 'Acme' }).then([registered]);
      expect(state.kind === 'domain' && state.childDomains).toEqual({ acme: { id: 'd1', name: 'Acme' } });
      given(domainDecider, [rootCreated, registered]).when({ type: 'RegisterChildDomain', childDomainId: 'd1', name: 'Acme' }).then([]);
    });
    it('refuses a taken name (case-insensitive) or a second name for the same child', () => {
      given(domainDecider, [rootCreated, registered]).when({ type: 'RegisterChildDomain', childDomainId: 'd9', name: 'ACME' }).then('CONFLICT', { field: 'name' });
      given(domainDecider, [rootCreated, registered]).when({ type: 'RegisterChildDomain', childDomainId: 'd1', name: 'other' }).then('CONFLICT', { field: 'name' });
    });
    it('rejects invalid input and a missing parent', () => {
      given(domainDecider, [rootCreated]).when({ type: 'RegisterChildDomain', childDomainId: '', name: 'x' }).then('BAD_USER_INPUT', { field: 'childDomainId' });
      given(domainDecider, [rootCreated]).when({ type: 'RegisterChildDomain', childDomainId: 'd1', name: 'a/b' }).then('BAD_USER_INPUT', { field: 'name' });
      given(domainDecider).when({ type: 'RegisterChildDomain', childDomainId: 'd1', name: 'x' }).then('NOT_FOUND', { field: 'domainId' });
    });
  });

  describe('RegisterAccountName / ReleaseAccountName', () => {
    const claimed: DomainEventType = { type: 'AccountNameRegistered', data: { domainId: 'd0', accountId: 'a1', name: 'Alice' } };
    it('claims, repeats idempotently, and releases an account name', () => {
      given(domainDecider, [rootCreated]).when({ type: 'RegisterAccountName', accountId: 'a1', name: 'Alice' }).then([claimed]);
      given(domainDecider, [rootCreated, claimed]).when({ type: 'RegisterAccountName', accountId: 'a1', name: 'Alice' }).then([]);
      const state = given(domainDecider, [rootCreated, claimed])
        .when({ type: 'ReleaseAccountName', accountId: 'a1' })
        .then([{ type: 'AccountNameReleased', data: { domainId: 'd0', accountId: 'a1', name: 'Alice' } }]);
      expect(state.kind === 'domain' && state.accountNames).toEqual({});
      given(domainDecider, [rootCreated]).when({ type: 'ReleaseAccountName', accountId: 'a1' }).then([]);
    });
    it('refuses a name another account holds', () => {
      given(domainDecider, [rootCreated, claimed])
        .when({ type: 'RegisterAccountName', accountId: 'a2', name: 'alice' })
        .then('CONFLICT', { field: 'name', message: 'An account named alice already exists in domain /' });
    });
    it('rejects invalid input and a missing domain', () => {
      given(domainDecider, [rootCreated]).when({ type: 'RegisterAccountName', accountId: '', name: 'x' }).then('BAD_USER_INPUT', { field: 'accountId' });
      given(domainDecider, [rootCreated]).when({ type: 'RegisterAccountName', accountId: 'a1', name: ' x' }).then('BAD_USER_INPUT', { field: 'name' });
      given(domainDecider, [rootCreated]).when({ type: 'ReleaseAccountName', accountId: '' }).then('BAD_USER_INPUT', { field: 'accountId' });
      given(domainDecider).when({ type: 'RegisterAccountName', accountId: 'a1', name: 'x' }).then('NOT_FOUND');
      given(domainDecider).when({ type: 'ReleaseAccountName', accountId: 'a1' }).then('NOT_FOUND');
    });
  });

  it('tells whether a path lies in a subtree', () => {
    expect(isInDomainSubtree('/', '/acme/eng/')).toBe(true);
    expect(isInDomainSubtree('/acme/', '/acme/eng/')).toBe(true);
    expect(isInDomainSubtree('/acme/', '/acmecorp/')).toBe(false);
  });
});

describe('account', () => {
  const create: Extract<AccountCommand, { type: 'CreateAccount' }> = {
    type: 'CreateAccount',
    accountId: 'a1',
    domainId: 'd1',
    domainPath: '/acme/',
    name: 'alice',
    role: 'USER',
    user: { userId: 'u1', username: 'alice', apiKey: KEY },
    at,
  };
  const accountCreated: AccountEvent = {
    type: 'AccountCreated',
    data: { accountId: 'a1', domainId: 'd1', domainPath: '/acme/', name: 'alice', role: 'USER', created: at },
  };
  const userCreated: AccountEvent = {
    type: 'UserCreated',
    data: { accountId: 'a1', userId: 'u1', username: 'alice', apiKeyHash: hash(KEY), created: at },
  };
  const base = [accountCreated, userCreated];
  const nameReserved = (instanceId: string, name: string): AccountEvent => ({ type: 'InstanceNameReserved', data: { accountId: 'a1', instanceId, name } });

  it('names its stream account-<id>', () => {
    expect(accountStream('a1')).toBe('account-a1');
  });

  describe('CreateAccount', () => {
    it('creates the account and its first user with only the key hash', () => {
      const state = given(accountDecider).when(create).then(base);
      expect(JSON.stringify([accountCreated, userCreated, state])).not.toContain(KEY);
      expect(state.kind === 'account' && [state.state, state.users['u1']?.state]).toEqual(['enabled', 'enabled']);
    });
    it('creates a root admin in ROOT', () => {
      given(accountDecider)
        .when({ ...create, role: 'ROOT_ADMIN', domainPath: '/', domainId: 'd0' })
        .then([
          { type: 'AccountCreated', data: { accountId: 'a1', domainId: 'd0', domainPath: '/', name: 'alice', role: 'ROOT_ADMIN', created: at } },
          userCreated,
        ]);
    });
    it.each([
      [{ accountId: '' }, 'accountId'],
      [{ domainId: '' }, 'domainId'],
      [{ domainPath: 'acme' }, 'domainId'],
      [{ name: '' }, 'name'],
      [{ name: 'a/b' }, 'name'],
      [{ role: 'GOD' as 'USER' }, 'role'],
      [{ at: '' }, 'at'],
      [{ role: 'ROOT_ADMIN' as const }, 'role'],
      [{ user: { userId: '', username: 'alice', apiKey: KEY } }, 'userId'],
      [{ user: { userId: 'u1', username: '', apiKey: KEY } }, 'username'],
      [{ user: { userId: 'u1', username: 'alice', apiKey: 'short' } }, 'apiKey'],
      [{ user: { userId: 'u1', username: 'alice', apiKey: 'has space in the key' } }, 'apiKey'],
    ] as const)('rejects %o', (change, field) => {
      given(accountDecider).when({ ...create, ...change } as AccountCommand).then('BAD_USER_INPUT', { field });
    });
    it('rejects an existing account', () => {
      given(accountDecider, base).when(create).then('CONFLICT', { field: 'accountId' });
    });
  });

  describe('users', () => {
    const bobCreated: AccountEvent = { type: 'UserCreated', data: { accountId: 'a1', userId: 'u2', username: 'bob', apiKeyHash: hash(KEY2), created: at } };
    it('adds a user; a retried add is a no-op', () => {
      given(accountDecider, base).when({ type: 'AddUser', userId: 'u2', username: 'bob', apiKey: KEY2, at }).then([bobCreated]);
      given(accountDecider, [...base, bobCreated]).when({ type: 'AddUser', userId: 'u2', username: 'bob', apiKey: KEY2, at }).then([]);
    });
    it('refuses duplicate usernames and reused user ids', () => {
      given(accountDecider, base).when({ type: 'AddUser', userId: 'u2', username: 'ALICE', apiKey: KEY2, at }).then('CONFLICT', { field: 'username' });
      given(accountDecider, base).when({ type: 'AddUser', userId: 'u1', username: 'bob', apiKey: KEY2, at }).then('CONFLICT', { field: 'userId' });
    });
    it('rejects bad input and a missing account', () => {
      given(accountDecider, base).when({ type: 'AddUser', userId: 'u2', username: 'bob', apiKey: KEY2, at: '' }).then('BAD_USER_INPUT', { field: 'at' });
      given(accountDecider, base).when({ type: 'AddUser', userId: 'u2', username: 'bob', apiKey: 'x', at }).then('BAD_USER_INPUT', { field: 'apiKey' });
      given(accountDecider).when({ type: 'AddUser', userId: 'u2', username: 'bob', apiKey: KEY2, at }).then('NOT_FOUND', { field: 'accountId' });
    });
    it('rotates an API key; the same key is a no-op', () => {
      const state = given(accountDecider, base)
        .when({ type: 'RegisterUserKeys', userId: 'u1', apiKey: KEY2 })
        .then([{ type: 'UserApiKeyRotated', data: { accountId: 'a1', userId: 'u1', apiKeyHash: hash(KEY2) } }]);
      expect(state.kind === 'account' && state.users['u1']?.apiKeyHash).toBe(hash(KEY2));
      given(accountDecider, base).when({ type: 'RegisterUserKeys', userId: 'u1', apiKey: KEY }).then([]);
      given(accountDecider, base).when({ type: 'RegisterUserKeys', userId: 'u9', apiKey: KEY2 }).then('NOT_FOUND', { field: 'id' });
      given(accountDecider, base).when({ type: 'RegisterUserKeys', userId: 'u1', apiKey: 'tiny' }).then('BAD_USER_INPUT', { field: 'apiKey' });
    });
    it('disables and enables users', () => {
      const disabled: AccountEvent = { type: 'UserDisabled', data: { accountId: 'a1', userId: 'u1' } };
      const state = given(accountDecider, base).when({ type: 'DisableUser', userId: 'u1' }).then([disabled]);
      expect(state.kind === 'account' && state.users['u1']?.state).toBe('disabled');
      given(accountDecider, [...base, disabled]).when({ type: 'DisableUser', userId: 'u1' }).then([]);
      given(accountDecider, [...base, disabled]).when({ type: 'EnableUser', userId: 'u1' }).then([{ type: 'UserEnabled', data: { accountId: 'a1', userId: 'u1' } }]);
      given(accountDecider, base).when({ type: 'EnableUser', userId: 'u1' }).then([]);
      given(accountDecider, base).when({ type: 'DisableUser', userId: 'u9' }).then('NOT_FOUND', { field: 'id' });
      given(accountDecider, base).when({ type: 'EnableUser', userId: 'u9' }).then('NOT_FOUND', { field: 'id' });
    });
  });

  describe('DisableAccount / EnableAccount', () => {
    const disabled: AccountEvent = { type: 'AccountDisabled', data: { accountId: 'a1' } };
    it('disables and enables, with no-op repeats', () => {
      const state = given(accountDecider, base).when({ type: 'DisableAccount' }).then([disabled]);
      expect(state.kind === 'account' && state.state).toBe('disabled');
      given(accountDecider, [...base, disabled]).when({ type: 'DisableAccount' }).then([]);
      given(accountDecider, [...base, disabled]).when({ type: 'EnableAccount' }).then([{ type: 'AccountEnabled', data: { accountId: 'a1' } }]);
      given(accountDecider, base).when({ type: 'EnableAccount' }).then([]);
    });
    it('rejects a missing account', () => {
      given(accountDecider).when({ type: 'DisableAccount' }).then('NOT_FOUND');
      given(accountDecider).when({ type: 'EnableAccount' }).then('NOT_FOUND');
    });
  });

  describe('affinity group names', () => {
    const reserved = (groupId: string, name: string): AccountEvent => ({ type: 'AffinityGroupNameReserved', data: { accountId: 'a1', groupId, name } });
    it('reserves a name per account, refusing one in use whatever its case with CloudStack’s message', () => {
      given(accountDecider, base).when({ type: 'ReserveAffinityGroupName', groupId: 'ag1', name: 'web' }).then([reserved('ag1', 'web')]);
      given(accountDecider, [...base, reserved('ag1', 'web')]).when({ type: 'ReserveAffinityGroupName', groupId: 'ag1', name: 'web' }).then([]);
      given(accountDecider, [...base, reserved('ag1', 'web')])
        .when({ type: 'ReserveAffinityGroupName', groupId: 'ag2', name: 'Web' })
        .then('BAD_USER_INPUT', { field: 'name', message: 'Unable to create affinity group, a group with name Web already exists.' });
    });
    it('gives a name back for another group to take', () => {
      const state = given(accountDecider, [...base, reserved('ag1', 'web')])
        .when({ type: 'ReleaseAffinityGroupName', groupId: 'ag1' })
        .then([{ type: 'AffinityGroupNameReleased', data: { accountId: 'a1', groupId: 'ag1', name: 'web' } }]);
      expect(accountDecider.decide({ type: 'ReserveAffinityGroupName', groupId: 'ag2', name: 'web' }, state)).toHaveLength(1);
      given(accountDecider, base).when({ type: 'ReleaseAffinityGroupName', groupId: 'ag9' }).then([]);
    });
  });

  describe('instance names an older log reserved on the account stream', () => {
    it('refuses a name such a reservation holds for another instance, case-insensitively; its own holder or a free name passes', () => {
      given(accountDecider, [...base, nameReserved('vm1', 'web-1')])
        .when({ type: 'CheckInstanceName', instanceId: 'vm2', name: 'WEB-1' })
        .then('CONFLICT', { field: 'name', message: 'Instance name WEB-1 is not unique in account alice' });
      given(accountDecider, [...base, nameReserved('vm1', 'web-1')]).when({ type: 'CheckInstanceName', instanceId: 'vm1', name: 'web-1' }).then([]);
      given(accountDecider, base).when({ type: 'CheckInstanceName', instanceId: 'vm2', name: 'web-1' }).then([]);
    });
    it('a rename recorded there freed the old name', () => {
      given(accountDecider, [...base, nameReserved('vm1', 'web-1'), nameReserved('vm1', 'web-2')]).when({ type: 'CheckInstanceName', instanceId: 'vm2', name: 'web-1' }).then([]);
    });
    it('releases such a name so another instance can take it; unknown instances are no-ops', () => {
      const released: AccountEvent = { type: 'InstanceNameReleased', data: { accountId: 'a1', instanceId: 'vm1', name: 'web-1' } };
      given(accountDecider, [...base, nameReserved('vm1', 'web-1')]).when({ type: 'ReleaseInstanceName', instanceId: 'vm1' }).then([released]);
      given(accountDecider, [...base, nameReserved('vm1', 'web-1'), released]).when({ type: 'CheckInstanceName', instanceId: 'vm2', name: 'web-1' }).then([]);
      given(accountDecider, base).when({ type: 'ReleaseInstanceName', instanceId: 'vm1' }).then([]);
    });
    it('rejects bad input and a missing account', () => {
      given(accountDecider, base).when({ type: 'CheckInstanceName', instanceId: '', name: 'x' }).then('BAD_USER_INPUT', { field: 'instanceId' });
      given(accountDecider, base).when({ type: 'CheckInstanceName', instanceId: 'vm1', name: '' }).then('BAD_USER_INPUT', { field: 'name' });
      given(accountDecider, base).when({ type: 'ReleaseInstanceName', instanceId: '' }).then('BAD_USER_INPUT', { field: 'instanceId' });
      given(accountDecider).when({ type: 'CheckInstanceName', instanceId: 'vm1', name: 'x' }).then('NOT_FOUND');
      given(accountDecider).when({ type: 'ReleaseInstanceName', instanceId: 'vm1' }).then('NOT_FOUND');
    });
  });

  it('folds a history into users and names', () => {
    const state = stateOf(accountDecider, [...base, nameReserved('vm1', 'a'), nameReserved('vm2', 'b')]);
    expect(state.kind === 'account' && [...namedInstanceIds(state)].sort()).toEqual(['vm1', 'vm2']);
  });
});

describe('who may act for whose account (mayActFor)', () => {
  const party = (accountId: string, role: Role, domainPath: string) => ({ accountId, role, domainPath });
  const root = party('root', 'ROOT_ADMIN', '/');
  const otherRoot = party('root-2', 'ROOT_ADMIN', '/');
  const rootDomainAdmin = party('da', 'DOMAIN_ADMIN', '/');
  const subDomainAdmin = party('sub-da', 'DOMAIN_ADMIN', '/sub/');
  const user = party('u', 'USER', '/');
  const subUser = party('sub-u', 'USER', '/sub/');

  it('the root admin acts for everyone, another root admin included', () => {
    for (const owner of [otherRoot, rootDomainAdmin, user, subUser]) expect(mayActFor(root, owner)).toBe(true);
  });
  it('everyone acts for its own account', () => {
    for (const caller of [rootDomainAdmin, subDomainAdmin, user]) expect(mayActFor(caller, caller)).toBe(true);
  });
  it('a domain admin acts for the accounts of its subtree, but never for a root admin', () => {
    expect(mayActFor(rootDomainAdmin, user)).toBe(true);
    expect(mayActFor(rootDomainAdmin, subUser)).toBe(true);
    expect(mayActFor(subDomainAdmin, subUser)).toBe(true);
    expect(mayActFor(subDomainAdmin, user)).toBe(false);
    expect(mayActFor(rootDomainAdmin, root)).toBe(false);
    expect(mayActFor(rootDomainAdmin, otherRoot)).toBe(false);
  });
  it('a user acts for no other account', () => {
    expect(mayActFor(user, subUser)).toBe(false);
    expect(mayActFor(user, rootDomainAdmin)).toBe(false);
  });
});
