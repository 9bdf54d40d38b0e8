import { describe, expect, it } from 'vitest';
import { zoneDecider, zoneStream, type ZoneEvent } from '../../../domain/zone/index.js';
import { given } from './support.js';

const at = '2025-01-01T00:00:00.000Z';
const zoneCreated: ZoneEvent = { type: 'ZoneCreated', data: { zoneId: 'z1', name: 'demo-zone', networkType: 'Advanced', created: at } };
const clusterAdded: ZoneEvent = {
  type: 'ClusterAdded',
  data: { zoneId: 'z1', clusterId: 'c1', name: 'demo-cluster', hypervisor: 'KVM', created: at },
};

describe('zone', () => {
  it('names its stream zone-<id>', () => {
    expect(zoneStream('z1')).toBe('zone-z1');
  });

  describe('CreateZone', () => {
    it('creates an Advanced zone by default', () => {
      const state = given(zoneDecider).when({ type: 'CreateZone', zoneId: 'z1', name: 'demo-zone', at }).then([zoneCreated]);
      expect(state).toEqual({ kind: 'zone', zoneId: 'z1', name: 'demo-zone', networkType: 'Advanced', created: at, allocationState: 'Enabled', clusters: {} });
    });
    it('keeps a Basic network type', () => {
      given(zoneDecider)
        .when({ type: 'CreateZone', zoneId: 'z2', name: 'b', networkType: 'Basic', at })
        .then([{ type: 'ZoneCreated', data: { zoneId: 'z2', name: 'b', networkType: 'Basic', created: at } }]);
    });
    it('rejects an empty name', () => {
      given(zoneDecider).when({ type: 'CreateZone', zoneId: 'z1', name: '  ', at }).then('BAD_USER_INPUT', 'name');
    });
    it('rejects an empty id', () => {
      given(zoneDecider).when({ type: 'CreateZone', zoneId: '', name: 'z', at }).then('BAD_USER_INPUT', 'zoneId');
    });
    it('rejects an unknown network type', () => {
      given(zoneDecider)
        .when({ type: 'CreateZone', zoneId: 'z1', name: 'z', networkType: 'Fancy' as 'Basic', at })
        .then('BAD_USER_INPUT', 'networkType');
    });
    it('rejects a malformed timestamp', () => {
      given(zoneDecider).when({ type: 'CreateZone', zoneId: 'z1', name: 'z', at: 'yesterday' }).then('BAD_USER_INPUT', 'at');
    });
    it('rejects creating an existing zone', () => {
      given(zoneDecider, [zoneCreated]).when({ type: 'CreateZone', zoneId: 'z1', name: 'demo-zone', at }).then('CONFLICT', 'zoneId');
    });
  });

  describe('AddCluster', () => {
    it('adds a cluster to the zone', () => {
      const state = given(zoneDecider, [zoneCreated])
        .when({ type: 'AddCluster', clusterId: 'c1', name: 'demo-cluster', hypervisor: 'KVM', at })
        .then([clusterAdded]);
      expect(state.kind === 'zone' && state.clusters['c1']).toEqual({ clusterId: 'c1', zoneId: 'z1', name: 'demo-cluster', hypervisor: 'KVM', created: at });
    });
    it('is a no-op when retried with the same id and contents', () => {
      given(zoneDecider, [zoneCreated, clusterAdded])
        .when({ type: 'AddCluster', clusterId: 'c1', name: 'demo-cluster', hypervisor: 'KVM', at })
        .then([]);
    });
    it('rejects the same id with different contents', () => {
      given(zoneDecider, [zoneCreated, clusterAdded])
        .when({ type: 'AddCluster', clusterId: 'c1', name: 'other', hypervisor: 'KVM', at })
        .then('CONFLICT', 'clusterId');
    });
    it('rejects a duplicate name, case-insensitively', () => {
      given(zoneDecider, [zoneCreated, clusterAdded])
        .when({ type: 'AddCluster', clusterId: 'c2', name: 'DEMO-cluster', hypervisor: 'VMware', at })
        .then('CONFLICT', 'name');
    });
    it('rejects an unknown hypervisor', () => {
      given(zoneDecider, [zoneCreated])
        .when({ type: 'AddCluster', clusterId: 'c2', name: 'x', hypervisor: 'Bochs' as 'KVM', at })
        .then('BAD_USER_INPUT', 'hypervisor');
    });
    it('rejects a missing name', () => {
      given(zoneDecider, [zoneCreated]).when({ type: 'AddCluster', clusterId: 'c2', name: '', hypervisor: 'KVM', at }).then('BAD_USER_INPUT', 'name');
    });
    it('rejects a missing cluster id', () => {
      given(zoneDecider, [zoneCreated]).when({ type: 'AddCluster', clusterId: '', name: 'x', hypervisor: 'KVM', at }).then('BAD_USER_INPUT', 'clusterId');
    });
    it('rejects a malformed timestamp', () => {
      given(zoneDecider, [zoneCreated]).when({ type: 'AddCluster', clusterId: 'c2', name: 'x', hypervisor: 'KVM', at: '' }).then('BAD_USER_INPUT', 'at');
    });
    it('rejects a cluster in a zone that does not exist', () => {
      given(zoneDecider).when({ type: 'AddCluster', clusterId: 'c1', name: 'x', hypervisor: 'KVM', at }).then('NOT_FOUND', 'zoneId');
    });
  });

  describe('DisableZone / EnableZone', () => {
    const disabled: ZoneEvent = { type: 'ZoneDisabled', data: { zoneId: 'z1' } };
    it('disables an enabled zone', () => {
      const state = given(zoneDecider, [zoneCreated]).when({ type: 'DisableZone' }).then([disabled]);
      expect(state.kind === 'zone' && state.allocationState).toBe('Disabled');
    });
    it('does nothing when already disabled', () => {
      given(zoneDecider, [zoneCreated, disabled]).when({ type: 'DisableZone' }).then([]);
    });
    it('enables a disabled zone', () => {
      const state = given(zoneDecider, [zoneCreated, disabled]).when({ type: 'EnableZone' }).then([{ type: 'ZoneEnabled', data: { zoneId: 'z1' } }]);
      expect(state.kind === 'zone' && state.allocationState).toBe('Enabled');
    });
    it('does nothing when already enabled', () => {
      given(zoneDecider, [zoneCreated]).when({ type: 'EnableZone' }).then([]);
    });
    it('rejects both on a missing zone', () => {
      given(zoneDecider).when({ type: 'DisableZone' }).then('NOT_FOUND');
      given(zoneDecider).when({ type: 'EnableZone' }).then('NOT_FOUND');
    });
  });
});
