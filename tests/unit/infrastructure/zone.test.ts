import { describe, expect, it } from 'vitest';
import { REGION_STREAM, regionDecider, zoneDecider, zoneStream, type RegionCommand, type NetworkClaim, type RegionEvent, type ZoneCommand, type ZoneEvent } from '../../../domain/zone/index.js';
import { runInterleaved, seededRandom } from './support.js';
import { given } from '../../support/given.js';

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
      expect(state).toEqual({
        kind: 'zone',
        zoneId: 'z1',
        name: 'demo-zone',
        networkType: 'Advanced',
        created: at,
        allocationState: 'Enabled',
        clusters: {},
        names: { host: {}, storagePool: {} },
        networks: {},
      });
    });
    it('keeps a Basic network type', () => {
      given(zoneDecider)
        .when({ type: 'CreateZone', zoneId: 'z2', name: 'b', networkType: 'Basic', at })
        .then([{ type: 'ZoneCreated', data: { zoneId: 'z2', name: 'b', networkType: 'Basic', created: at } }]);
    });
    it('rejects an empty name', () => {
      given(zoneDecider).when({ type: 'CreateZone', zoneId: 'z1', name: '  ', at }).then('BAD_USER_INPUT', { field: 'name' });
    });
    it('rejects an empty id', () => {
      given(zoneDecider).when({ type: 'CreateZone', zoneId: '', name: 'z', at }).then('BAD_USER_INPUT', { field: 'zoneId' });
    });
    it('rejects an unknown network type', () => {
      given(zoneDecider)
        .when({ type: 'CreateZone', zoneId: 'z1', name: 'z', networkType: 'Fancy' as 'Basic', at })
        .then('BAD_USER_INPUT', { field: 'networkType' });
    });
    it('rejects a malformed timestamp', () => {
      given(zoneDecider).when({ type: 'CreateZone', zoneId: 'z1', name: 'z', at: 'yesterday' }).then('BAD_USER_INPUT', { field: 'at' });
    });
    it('rejects creating an existing zone', () => {
      given(zoneDecider, [zoneCreated]).when({ type: 'CreateZone', zoneId: 'z1', name: 'demo-zone', at }).then('CONFLICT', { field: 'zoneId' });
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
        .then('CONFLICT', { field: 'clusterId' });
    });
    it('rejects a duplicate name, case-insensitively', () => {
      given(zoneDecider, [zoneCreated, clusterAdded])
        .when({ type: 'AddCluster', clusterId: 'c2', name: 'DEMO-cluster', hypervisor: 'VMware', at })
        .then('CONFLICT', { field: 'name' });
    });
    it('rejects an unknown hypervisor', () => {
      given(zoneDecider, [zoneCreated])
        .when({ type: 'AddCluster', clusterId: 'c2', name: 'x', hypervisor: 'Bochs' as 'KVM', at })
        .then('BAD_USER_INPUT', { field: 'hypervisor' });
    });
    it('rejects a missing name', () => {
      given(zoneDecider, [zoneCreated]).when({ type: 'AddCluster', clusterId: 'c2', name: '', hypervisor: 'KVM', at }).then('BAD_USER_INPUT', { field: 'name' });
    });
    it('rejects a missing cluster id', () => {
      given(zoneDecider, [zoneCreated]).when({ type: 'AddCluster', clusterId: '', name: 'x', hypervisor: 'KVM', at }).then('BAD_USER_INPUT', { field: 'clusterId' });
    });
    it('rejects a malformed timestamp', () => {
      given(zoneDecider, [zoneCreated]).when({ type: 'AddCluster', clusterId: 'c2', name: 'x', hypervisor: 'KVM', at: '' }).then('BAD_USER_INPUT', { field: 'at' });
    });
    it('rejects a cluster in a zone that does not exist', () => {
      given(zoneDecider).when({ type: 'AddCluster', clusterId: 'c1', name: 'x', hypervisor: 'KVM', at }).then('NOT_FOUND', { field: 'zoneId' });
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

  describe('ClaimName (hosts and storage pools)', () => {
    const hostClaimed: ZoneEvent = { type: 'NameClaimed', data: { zoneId: 'z1', kind: 'host', id: 'h1', name: 'kvm-1' } };

    it('claims a host name in the zone', () => {
      const state = given(zoneDecider, [zoneCreated]).when({ type: 'ClaimName', kind: 'host', id: 'h1', name: 'kvm-1' }).then([hostClaimed]);
      expect(state.kind === 'zone' && state.names.host).toEqual({ 'kvm-1': { id: 'h1', name: 'kvm-1' } });
    });
    it('is a no-op when the same thing claims its name again', () => {
      given(zoneDecider, [zoneCreated, hostClaimed]).when({ type: 'ClaimName', kind: 'host', id: 'h1', name: 'kvm-1' }).then([]);
    });
    it('refuses a name another host holds, case-insensitively, as CONFLICT on name', () => {
      given(zoneDecider, [zoneCreated, hostClaimed])
        .when({ type: 'ClaimName', kind: 'host', id: 'h2', name: 'KVM-1' })
        .then('CONFLICT', { field: 'name', message: 'A host named KVM-1 already exists in zone demo-zone' });
    });
    it('keeps host and pool names apart, and refuses a duplicate pool name', () => {
      const poolClaimed = given(zoneDecider, [zoneCreated, hostClaimed])
        .when({ type: 'ClaimName', kind: 'storagePool', id: 'p1', name: 'kvm-1' })
        .then([{ type: 'NameClaimed', data: { zoneId: 'z1', kind: 'storagePool', id: 'p1', name: 'kvm-1' } }]);
      expect(poolClaimed.kind === 'zone' && Object.keys(poolClaimed.names.storagePool)).toEqual(['kvm-1']);
      given(zoneDecider, [zoneCreated, { type: 'NameClaimed', data: { zoneId: 'z1', kind: 'storagePool', id: 'p1', name: 'nfs' } }])
        .when({ type: 'ClaimName', kind: 'storagePool', id: 'p2', name: 'NFS' })
        .then('CONFLICT', { field: 'name' });
    });
    it('refuses a second name for one thing, a bad name and a missing zone', () => {
      given(zoneDecider, [zoneCreated, hostClaimed]).when({ type: 'ClaimName', kind: 'host', id: 'h1', name: 'kvm-2' }).then('CONFLICT', { field: 'id' });
      given(zoneDecider, [zoneCreated]).when({ type: 'ClaimName', kind: 'host', id: 'h1', name: 'kvm\u001b' }).then('BAD_USER_INPUT', { field: 'name' });
      given(zoneDecider).when({ type: 'ClaimName', kind: 'host', id: 'h1', name: 'kvm-1' }).then('NOT_FOUND', { field: 'zoneId' });
    });
    it('gives a name back, after which another may take it; releasing twice is a no-op', () => {
      const released: ZoneEvent = { type: 'NameReleased', data: { zoneId: 'z1', kind: 'host', id: 'h1', name: 'kvm-1' } };
      given(zoneDecider, [zoneCreated, hostClaimed]).when({ type: 'ReleaseName', kind: 'host', id: 'h1' }).then([released]);
      given(zoneDecider, [zoneCreated, hostClaimed, released]).when({ type: 'ReleaseName', kind: 'host', id: 'h1' }).then([]);
      given(zoneDecider, [zoneCreated, hostClaimed, released])
        .when({ type: 'ClaimName', kind: 'host', id: 'h2', name: 'kvm-1' })
        .then([{ type: 'NameClaimed', data: { zoneId: 'z1', kind: 'host', id: 'h2', name: 'kvm-1' } }]);
    });
  });

  describe('ClaimNetworkAddressing', () => {
    const l2: NetworkClaim = { networkId: 'n1', name: 'l2', vlan: 100, sharedCidr: null };
    const shared: NetworkClaim = { networkId: 'n2', name: 'shared', vlan: 200, sharedCidr: '10.1.0.0/24' };
    const claimed = (claim: NetworkClaim): ZoneEvent => ({ type: 'NetworkAddressingClaimed', data: { zoneId: 'z1', ...claim } });

    it('claims a VLAN, and a shared network its CIDR', () => {
      const state = given(zoneDecider, [zoneCreated, claimed(l2)]).when({ type: 'ClaimNetworkAddressing', ...shared }).then([claimed(shared)]);
      expect(state.kind === 'zone' && state.networks).toEqual({ n1: l2, n2: shared });
    });
    it('refuses a VLAN another network of the zone uses, as CloudStack does (BAD_USER_INPUT on vlan)', () => {
      given(zoneDecider, [zoneCreated, claimed(l2)])
        .when({ type: 'ClaimNetworkAddressing', networkId: 'n3', name: 'l2-again', vlan: 100, sharedCidr: null })
        .then('BAD_USER_INPUT', { field: 'vlan', message: /^Network with vlan 100 already exists or overlaps with other network vlans in zone demo-zone/ });
      given(zoneDecider, [zoneCreated, claimed(shared)]).when({ type: 'ClaimNetworkAddressing', networkId: 'n3', name: 's', vlan: 200, sharedCidr: '10.2.0.0/24' }).then('BAD_USER_INPUT', { field: 'vlan' });
    });
    it.each(['10.1.0.0/24', '10.1.0.128/25', '10.0.0.0/8', '10.1.0.252/30'])('refuses a shared CIDR %s overlapping another shared network', (cidr) => {
      given(zoneDecider, [zoneCreated, claimed(shared)])
        .when({ type: 'ClaimNetworkAddressing', networkId: 'n3', name: 'overlap', vlan: 300, sharedCidr: cidr })
        .then('BAD_USER_INPUT', { field: 'cidr', message: /10\.1\.0\.0\/24/ });
    });
    it('lets networks without a VLAN, and disjoint CIDRs, coexist', () => {
      const noVlan: NetworkClaim = { networkId: 'n3', name: 'isolated', vlan: null, sharedCidr: null };
      given(zoneDecider, [zoneCreated, claimed(noVlan)]).when({ type: 'ClaimNetworkAddressing', ...noVlan, networkId: 'n4' }).then([claimed({ ...noVlan, networkId: 'n4' })]);
      given(zoneDecider, [zoneCreated, claimed(shared)])
        .when({ type: 'ClaimNetworkAddressing', networkId: 'n5', name: 'next', vlan: 201, sharedCidr: '10.1.1.0/24' })
        .then([claimed({ networkId: 'n5', name: 'next', vlan: 201, sharedCidr: '10.1.1.0/24' })]);
    });
    it('is a no-op when repeated, refuses other addressing for the same network, and releases', () => {
      given(zoneDecider, [zoneCreated, claimed(l2)]).when({ type: 'ClaimNetworkAddressing', ...l2 }).then([]);
      given(zoneDecider, [zoneCreated, claimed(l2)]).when({ type: 'ClaimNetworkAddressing', ...l2, vlan: 101 }).then('CONFLICT', { field: 'networkId' });
      const released: ZoneEvent = { type: 'NetworkAddressingReleased', data: { zoneId: 'z1', ...l2 } };
      given(zoneDecider, [zoneCreated, claimed(l2)]).when({ type: 'ReleaseNetworkAddressing', networkId: 'n1' }).then([released]);
      given(zoneDecider, [zoneCreated, claimed(l2), released]).when({ type: 'ClaimNetworkAddressing', ...l2, networkId: 'n9' }).then([claimed({ ...l2, networkId: 'n9' })]);
    });
  });

  describe('concurrent claims', () => {
    it.each([1, 2, 3, 4, 5])('of one host name or one VLAN: exactly one wins under any interleaving (seed %i)', (seed) => {
      const random = seededRandom(seed);
      const schedule = Array.from({ length: 40 }, () => Math.floor(random() * 8));
      const hosts: ZoneCommand[] = Array.from({ length: 8 }, (_, i) => ({ type: 'ClaimName', kind: 'host', id: `h${i}`, name: 'contested' }));
      const byName = runInterleaved(zoneDecider, [zoneCreated], hosts, schedule);
      expect(byName.outcomes.filter((o) => o === 'appended')).toHaveLength(1);
      expect(byName.outcomes.filter((o) => o === 'rejected')).toHaveLength(7);
      const vlans: ZoneCommand[] = Array.from({ length: 8 }, (_, i) => ({ type: 'ClaimNetworkAddressing', networkId: `n${i}`, name: `n${i}`, vlan: 42, sharedCidr: null }));
      expect(runInterleaved(zoneDecider, [zoneCreated], vlans, schedule).outcomes.filter((o) => o === 'appended')).toHaveLength(1);
      // Without the expected revision, every writer would have appended its claim.
      expect(runInterleaved(zoneDecider, [zoneCreated], hosts, Array.from({ length: 8 }, (_, i) => i), { checkRevision: false }).outcomes.filter((o) => o === 'appended').length).toBeGreaterThan(1);
    });
  });
});

describe('region', () => {
  const registered: RegionEvent = { type: 'ZoneNameRegistered', data: { zoneId: 'z1', name: 'Zone-A' } };

  it('names its stream region-local', () => {
    expect(REGION_STREAM).toBe('region-local');
  });
  it('registers a zone name', () => {
    const state = given(regionDecider).when({ type: 'RegisterZoneName', zoneId: 'z1', name: 'Zone-A' }).then([registered]);
    expect(state.zoneNames).toEqual({ 'zone-a': { zoneId: 'z1', name: 'Zone-A' } });
  });
  it("refuses a name another zone holds, case-insensitively, with CloudStack's words", () => {
    given(regionDecider, [registered])
      .when({ type: 'RegisterZoneName', zoneId: 'z2', name: 'zone-a' })
      .then('CONFLICT', { field: 'name', message: /A zone with that name already exists\. Please specify a unique zone name\./ });
  });
  it('is a no-op for the same zone, refuses it a second name, and refuses bad names', () => {
    given(regionDecider, [registered]).when({ type: 'RegisterZoneName', zoneId: 'z1', name: 'Zone-A' }).then([]);
    given(regionDecider, [registered]).when({ type: 'RegisterZoneName', zoneId: 'z1', name: 'Zone-B' }).then('CONFLICT', { field: 'zoneId' });
    given(regionDecider).when({ type: 'RegisterZoneName', zoneId: 'z1', name: 'a\u0000' }).then('BAD_USER_INPUT', { field: 'name' });
  });
  it('gives a name back', () => {
    const released: RegionEvent = { type: 'ZoneNameReleased', data: { zoneId: 'z1', name: 'Zone-A' } };
    given(regionDecider, [registered]).when({ type: 'ReleaseZoneName', zoneId: 'z1' }).then([released]);
    given(regionDecider, [registered, released]).when({ type: 'ReleaseZoneName', zoneId: 'z1' }).then([]);
    given(regionDecider, [registered, released]).when({ type: 'RegisterZoneName', zoneId: 'z2', name: 'zone-a' }).then([{ type: 'ZoneNameRegistered', data: { zoneId: 'z2', name: 'zone-a' } }]);
  });
  it('lets one of many concurrent registrations of a name through', () => {
    const commands: RegionCommand[] = Array.from({ length: 6 }, (_, i) => ({ type: 'RegisterZoneName', zoneId: `z${i}`, name: 'same' }));
    const result = runInterleaved(regionDecider, [], commands, [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
    expect(result.outcomes.filter((o) => o === 'appended')).toHaveLength(1);
  });
});
