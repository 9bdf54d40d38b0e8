// The affinity group aggregate (behaviour §6.3) given/when/then: creation and its refusals, deletion,
// and the placement check that keeps concurrent starts of strict members apart (or together).
import { describe, expect, it } from 'vitest';
import { affinityGroupDecider, type AffinityGroupCommand, type AffinityGroupEvent, type AffinityGroupType } from '../../../domain/affinity/index.js';
import { given } from '../../support/given.js';

const AT = '2026-05-01T10:00:00.000Z';
const named = (type: AffinityGroupType) => ({ groupId: 'ag-1', name: 'web', type, accountId: 'acct-1', domainId: 'dom-1' });
const created = (type: AffinityGroupType): AffinityGroupEvent => ({ type: 'AffinityGroupCreated', data: { ...named(type), description: null, created: AT } });
const placed = (type: AffinityGroupType, instanceId: string, hostId: string, enforced = true): AffinityGroupEvent => ({
  type: 'AffinityMemberPlaced',
  data: { ...named(type), instanceId, hostId, enforced },
});
const create = (groupType: string, name = 'web'): AffinityGroupCommand => ({
  type: 'CreateAffinityGroup',
  groupId: 'ag-1',
  name,
  groupType,
  description: null,
  accountId: 'acct-1',
  domainId: 'dom-1',
  at: AT,
});
const place = (instanceId: string, hostId: string, enforce = true): AffinityGroupCommand => ({ type: 'PlaceMember', groupId: 'ag-1', instanceId, hostId, enforce });
const settle = (instanceId: string, hostId: string | null): AffinityGroupCommand => ({ type: 'SettleMember', groupId: 'ag-1', instanceId, hostId });

describe('affinity group', () => {
  describe('creation', () => {
    it('records a group of one of CloudStack’s types', () => {
      given(affinityGroupDecider).when(create('non-strict host anti-affinity')).then([created('non-strict host anti-affinity')]);
    });
    it('refuses an unknown type with CloudStack’s message', () => {
      given(affinityGroupDecider)
        .when(create('anti-affinity'))
        .then('BAD_USER_INPUT', {
          field: 'type',
          message: 'Unable to create affinity group, invalid affinity group type: anti-affinity. Valid values are host affinity,host anti-affinity,non-strict host affinity,non-strict host anti-affinity',
        });
    });
    it('refuses an empty name and a control character', () => {
      given(affinityGroupDecider).when(create('host affinity', '')).then('BAD_USER_INPUT', { field: 'name' });
      given(affinityGroupDecider).when(create('host affinity', 'we\u0007b')).then('BAD_USER_INPUT', { field: 'name' });
    });
    it('is idempotent for the same group', () => {
      given(affinityGroupDecider, [created('host affinity')]).when(create('host affinity')).then([]);
    });
  });

  describe('deletion', () => {
    it('deletes once; a deleted group is not found and its placements are gone', () => {
      const after = given(affinityGroupDecider, [created('host anti-affinity'), placed('host anti-affinity', 'vm-1', 'h1')])
        .when({ type: 'DeleteAffinityGroup', groupId: 'ag-1', at: AT })
        .then([{ type: 'AffinityGroupDeleted', data: named('host anti-affinity') }]);
      expect(after).toMatchObject({ deleted: true, placements: {} });
      given(affinityGroupDecider, [created('host anti-affinity'), { type: 'AffinityGroupDeleted', data: named('host anti-affinity') }])
        .when({ type: 'DeleteAffinityGroup', groupId: 'ag-1', at: AT })
        .then('NOT_FOUND', { message: 'Unable to find affinity group ag-1' });
    });
    it('a deleted or unknown group constrains no placement', () => {
      given(affinityGroupDecider).when(place('vm-1', 'h1')).then([]);
      given(affinityGroupDecider, [created('host anti-affinity'), placed('host anti-affinity', 'vm-1', 'h1'), { type: 'AffinityGroupDeleted', data: named('host anti-affinity') }])
        .when(place('vm-2', 'h1'))
        .then([]);
    });
  });

  describe('host anti-affinity placement', () => {
    const history = [created('host anti-affinity'), placed('host anti-affinity', 'vm-1', 'h1')];
    it('refuses a host another member holds, naming the group', () => {
      given(affinityGroupDecider, history)
        .when(place('vm-2', 'h1'))
        .then('INSUFFICIENT_CAPACITY', { field: 'hostId', message: 'host h1 breaks host anti-affinity group web: member(s) vm-1 are placed there' });
    });
    it('takes a free host, and the same member again on its own host', () => {
      given(affinityGroupDecider, history).when(place('vm-2', 'h2')).then([placed('host anti-affinity', 'vm-2', 'h2')]);
      given(affinityGroupDecider, history).when(place('vm-1', 'h1')).then([]);
    });
    it('records an explicit host without checking it (the admin’s hostId bypasses groups)', () => {
      given(affinityGroupDecider, history).when(place('vm-2', 'h1', false)).then([placed('host anti-affinity', 'vm-2', 'h1', false)]);
    });
    it('a stopped member (settled on no host) frees its host', () => {
      const after = given(affinityGroupDecider, history)
        .when(settle('vm-1', null))
        .then([{ type: 'AffinityMemberSettled', data: { ...named('host anti-affinity'), instanceId: 'vm-1', hostId: null } }]);
      expect(affinityGroupDecider.decide(place('vm-2', 'h1'), after)).toHaveLength(1);
    });
    it('a migrating member holds both hosts until it settles on one', () => {
      const migrating = [...history, placed('host anti-affinity', 'vm-1', 'h2')];
      given(affinityGroupDecider, migrating).when(place('vm-2', 'h2')).then('INSUFFICIENT_CAPACITY');
      given(affinityGroupDecider, [...migrating, { type: 'AffinityMemberSettled', data: { ...named('host anti-affinity'), instanceId: 'vm-1', hostId: 'h2' } }])
        .when(place('vm-2', 'h1'))
        .then([placed('host anti-affinity', 'vm-2', 'h1')]);
    });
    it('a refused host reservation gives the placement back', () => {
      given(affinityGroupDecider, history)
        .when({ type: 'UnplaceMember', groupId: 'ag-1', instanceId: 'vm-1', hostId: 'h1' })
        .then([{ type: 'AffinityMemberUnplaced', data: { ...named('host anti-affinity'), instanceId: 'vm-1', hostId: 'h1' } }]);
    });
  });

  describe('host affinity placement', () => {
    it('any host while no member is placed; then only the members’ host', () => {
      given(affinityGroupDecider, [created('host affinity')]).when(place('vm-1', 'h3')).then([placed('host affinity', 'vm-1', 'h3')]);
      const history = [created('host affinity'), placed('host affinity', 'vm-1', 'h3')];
      given(affinityGroupDecider, history).when(place('vm-2', 'h3')).then([placed('host affinity', 'vm-2', 'h3')]);
      given(affinityGroupDecider, history)
        .when(place('vm-2', 'h1'))
        .then('INSUFFICIENT_CAPACITY', { message: 'host h1 breaks host affinity group web: its member(s) vm-1 are placed elsewhere' });
    });
  });

  describe('non-strict groups', () => {
    it('keep no placements: they only order hosts', () => {
      given(affinityGroupDecider, [created('non-strict host anti-affinity')]).when(place('vm-1', 'h1')).then([]);
      given(affinityGroupDecider, [created('non-strict host affinity')]).when(settle('vm-1', 'h1')).then([]);
    });
  });
});
