import { describe, expect, it } from 'vitest';
import {
  formatIpv4,
  guestMac,
  netmask,
  networkDecider,
  networkStream,
  normalizeMac,
  parseCidr,
  parseIpv4,
  type CheckNicAllocationCommand,
  type CreateNetworkCommand,
  type NetworkEvent,
} from '../../../domain/network/index.js';
import { stateOf } from './support.js';
import { given } from '../../support/given.js';

const at = '2025-01-01T00:00:00.000Z';
const createShared: CreateNetworkCommand = {
  type: 'CreateNetwork',
  networkId: 'n1',
  zoneId: 'z1',
  name: 'demo-shared',
  networkType: 'Shared',
  vlan: 200,
  cidr: '10.1.0.0/29',
  networkOfferingId: 'no-shared',
  at,
};
type CreatedData = Extract<NetworkEvent, { type: 'NetworkCreated' }>['data'];
const sharedData: CreatedData = {
    networkId: 'n1',
    zoneId: 'z1',
    name: 'demo-shared',
    networkType: 'Shared',
    vlan: 200,
    cidr: '10.1.0.0/29',
    gateway: '10.1.0.1',
    netmask: '255.255.255.248',
    networkOfferingId: 'no-shared',
    accountId: null,
    created: at,
};
const sharedCreated: NetworkEvent = { type: 'NetworkCreated', data: sharedData };
const l2Created: NetworkEvent = {
  type: 'NetworkCreated',
  data: { ...sharedData, networkType: 'L2', name: 'demo-l2', vlan: 100, cidr: null, gateway: null, netmask: null },
};
const check = (nicId: string, instanceId: string, extra: Partial<CheckNicAllocationCommand> = {}): CheckNicAllocationCommand => ({
  type: 'CheckNicAllocation',
  nicId,
  instanceId,
  macSeed: 0x0a0b0c0d,
  ...extra,
});
const allocated = (nicId: string, instanceId: string, mac: string, ip: string | null): NetworkEvent => ({
  type: 'NicAddressAllocated',
  data: { networkId: 'n1', nicId, instanceId, mac, ip },
});

describe('addressing', () => {
  it('parses and formats IPv4', () => {
    expect(parseIpv4('10.1.0.255')).toBe(0x0a0100ff);
    expect(formatIpv4(0xc0a80001)).toBe('192.168.0.1');
    for (const bad of ['10.1.0', '10.1.0.256', '10.01.0.1', 'a.b.c.d', '1.2.3.4.5', '']) expect(parseIpv4(bad)).toBeUndefined();
  });
  it('parses CIDRs and refuses host bits and tiny or huge prefixes', () => {
    const parsed = parseCidr('10.1.0.0/24');
    expect(parsed).toEqual({ ok: true, cidr: { network: 0x0a010000, prefix: 24, broadcast: 0x0a0100ff } });
    expect(parsed.ok && netmask(parsed.cidr)).toBe('255.255.255.0');
    expect(parseCidr('10.1.0.5/24')).toEqual({ ok: false, reason: '10.1.0.5/24 has host bits set; the network is 10.1.0.0/24' });
    expect(parseCidr('10.1.0.0/31').ok).toBe(false);
    expect(parseCidr('10.0.0.0/7').ok).toBe(false);
    expect(parseCidr('10.1.0.0').ok).toBe(false);
  });
  it('builds 02:00 MACs from seed + sequence modulo 2^32', () => {
    expect(guestMac(0x0a0b0c0d, 0)).toBe('02:00:0a:0b:0c:0d');
    expect(guestMac(0x0a0b0c0d, 3)).toBe('02:00:0a:0b:0c:10');
    expect(guestMac(0xffffffff, 1)).toBe('02:00:00:00:00:00');
  });
  it('normalises unicast MACs and refuses multicast ones', () => {
    expect(normalizeMac('02:AB:cd:00:11:22')).toBe('02:ab:cd:00:11:22');
    expect(normalizeMac('01:00:5e:00:00:01')).toBeUndefined();
    expect(normalizeMac('02-00-00-00-00-01')).toBeUndefined();
  });
});

describe('network', () => {
  it('names its stream network-<id>', () => {
    expect(networkStream('n1')).toBe('network-n1');
  });

  describe('CreateNetwork', () => {
    it('creates a shared network with the first address as gateway', () => {
      given(networkDecider).when(createShared).then([sharedCreated]);
    });
    it('accepts an explicit gateway inside the CIDR', () => {
      given(networkDecider)
        .when({ ...createShared, gateway: '10.1.0.6' })
        .then([{ type: 'NetworkCreated', data: { ...sharedData, gateway: '10.1.0.6' } }]);
    });
    it('creates an L2 network without addressing', () => {
      given(networkDecider)
        .when({ ...createShared, name: 'demo-l2', networkType: 'L2', vlan: 100, cidr: undefined })
        .then([l2Created]);
    });
    it('gives an isolated network the default CIDR and an owner', () => {
      given(networkDecider)
        .when({ ...createShared, networkType: 'Isolated', vlan: null, cidr: null, accountId: 'a1' })
        .then([
          {
            type: 'NetworkCreated',
            data: { ...sharedData, networkType: 'Isolated', vlan: null, cidr: '10.1.1.0/24', gateway: '10.1.1.1', netmask: '255.255.255.0', accountId: 'a1' },
          },
        ]);
    });
    it.each([
      [{ networkId: '' }, 'networkId'],
      [{ zoneId: '' }, 'zoneId'],
      [{ name: '' }, 'name'],
      [{ networkType: 'VPC' as 'L2' }, 'type'],
      [{ networkOfferingId: '' }, 'networkOfferingId'],
      [{ accountId: '' }, 'accountId'],
      [{ vlan: 0 }, 'vlan'],
      [{ vlan: 4095 }, 'vlan'],
      [{ at: 'x' }, 'at'],
      [{ vlan: null }, 'vlan'],
      [{ cidr: null }, 'cidr'],
      [{ cidr: '10.1.0.3/29' }, 'cidr'],
      [{ cidr: '10.1.0.0/31' }, 'cidr'],
      [{ gateway: '10.1.0.7' }, 'gateway'],
      [{ gateway: '10.1.0.0' }, 'gateway'],
      [{ gateway: '10.2.0.1' }, 'gateway'],
      [{ gateway: 'gw' }, 'gateway'],
      [{ networkType: 'L2' as const }, 'cidr'],
      [{ networkType: 'L2' as const, cidr: null, gateway: '10.1.0.1' }, 'gateway'],
      [{ networkType: 'Isolated' as const, accountId: null }, 'accountId'],
    ] as const)('rejects %o', (change, field) => {
      given(networkDecider).when({ ...createShared, ...change } as CreateNetworkCommand).then('BAD_USER_INPUT', { field });
    });
    it('rejects an existing network', () => {
      given(networkDecider, [sharedCreated]).when(createShared).then('CONFLICT', { field: 'networkId' });
    });
  });

  // Allocation itself is claimed on the addresses' own streams (nic-addresses.test.ts); the network
  // stream checks the command and what an older log allocated on it.
  describe('CheckNicAllocation', () => {
    it('appends nothing for a sound request', () => {
      given(networkDecider, [sharedCreated]).when(check('nic1', 'vm1', { requestedIp: '10.1.0.6', requestedMac: '1E:00:00:00:00:01' })).then([]);
      given(networkDecider, [l2Created]).when(check('nic1', 'vm1')).then([]);
    });
    it('is a no-op for a NIC an older log allocated here to the same instance, and refuses it for another', () => {
      given(networkDecider, [sharedCreated, allocated('nic1', 'vm1', '02:00:0a:0b:0c:0d', '10.1.0.2')]).when(check('nic1', 'vm1')).then([]);
      given(networkDecider, [sharedCreated, allocated('nic1', 'vm1', '02:00:0a:0b:0c:0d', '10.1.0.2')]).when(check('nic1', 'vm2')).then('CONFLICT', { field: 'nicId' });
    });
    it('refuses a requested IP an older log holds here, outside the CIDR, reserved or malformed', () => {
      const history = [sharedCreated, allocated('nic1', 'vm1', '02:00:0a:0b:0c:0d', '10.1.0.2')];
      for (const ip of ['10.1.0.2', '10.1.0.8', '10.1.0.0', '10.1.0.1', '10.1.0.7', '10.1.0']) {
        given(networkDecider, history).when(check('nic2', 'vm2', { requestedIp: ip })).then('BAD_USER_INPUT', { field: 'ipAddress' });
      }
    });
    it('refuses a requested IP on an L2 network', () => {
      given(networkDecider, [l2Created]).when(check('nic1', 'vm1', { requestedIp: '10.0.0.2' })).then('BAD_USER_INPUT', { field: 'ipAddress' });
    });
    it('refuses a requested MAC an older log holds here, or an invalid one', () => {
      const history = [sharedCreated, allocated('nic1', 'vm1', '02:00:0a:0b:0c:0d', '10.1.0.2')];
      given(networkDecider, history).when(check('nic2', 'vm2', { requestedMac: '02:00:0A:0B:0C:0D' })).then('CONFLICT', { field: 'macAddress' });
      given(networkDecider, history).when(check('nic2', 'vm2', { requestedMac: '03:00:00:00:00:01' })).then('BAD_USER_INPUT', { field: 'macAddress' });
    });
    it.each([
      [{ nicId: '' }, 'nicId'],
      [{ instanceId: '' }, 'instanceId'],
      [{ macSeed: -1 }, 'macSeed'],
      [{ macSeed: 2 ** 32 }, 'macSeed'],
      [{ macSeed: 0.5 }, 'macSeed'],
    ] as const)('rejects %o', (change, field) => {
      given(networkDecider, [sharedCreated]).when({ ...check('nic1', 'vm1'), ...change }).then('BAD_USER_INPUT', { field });
    });
    it('rejects a missing network', () => {
      given(networkDecider).when(check('nic1', 'vm1')).then('NOT_FOUND', { field: 'networkId' });
    });
  });

  describe('ReleaseNic (an older log\'s NICs)', () => {
    it('releases the addresses so they can be handed out again', () => {
      const history = [sharedCreated, allocated('nic1', 'vm1', '02:00:0a:0b:0c:0d', '10.1.0.2')];
      const state = given(networkDecider, history)
        .when({ type: 'ReleaseNic', nicId: 'nic1' })
        .then([{ type: 'NicAddressReleased', data: { networkId: 'n1', nicId: 'nic1', instanceId: 'vm1', mac: '02:00:0a:0b:0c:0d', ip: '10.1.0.2' } }]);
      expect(state.kind === 'network' && [state.nics.toObject(), state.macOwners.toObject(), state.ipOwners.toObject()]).toEqual([{}, {}, {}]);
      const after = [...history, { type: 'NicAddressReleased', data: { networkId: 'n1', nicId: 'nic1', instanceId: 'vm1', mac: '02:00:0a:0b:0c:0d', ip: '10.1.0.2' } } as NetworkEvent];
      given(networkDecider, after).when(check('nic2', 'vm2', { requestedIp: '10.1.0.2', requestedMac: '02:00:0a:0b:0c:0d' })).then([]);
    });
    it('is a no-op for an unknown NIC', () => {
      given(networkDecider, [sharedCreated]).when({ type: 'ReleaseNic', nicId: 'nic9' }).then([]);
    });
    it('rejects an empty NIC id and a missing network', () => {
      given(networkDecider, [sharedCreated]).when({ type: 'ReleaseNic', nicId: '' }).then('BAD_USER_INPUT', { field: 'nicId' });
      given(networkDecider).when({ type: 'ReleaseNic', nicId: 'nic1' }).then('NOT_FOUND');
    });
  });

  describe('DeleteNetwork', () => {
    const deleted: NetworkEvent = { type: 'NetworkDeleted', data: { networkId: 'n1' } };
    it('deletes an unused network; repeats are no-ops and other commands find no network', () => {
      const state = given(networkDecider, [sharedCreated]).when({ type: 'DeleteNetwork' }).then([deleted]);
      expect(state.kind === 'network' && state.deleted).toBe(true);
      given(networkDecider, [sharedCreated, deleted]).when({ type: 'DeleteNetwork' }).then([]);
      given(networkDecider, [sharedCreated, deleted]).when(check('nic1', 'vm1')).then('NOT_FOUND', { field: 'networkId' });
    });
    it('refuses a network with NICs', () => {
      given(networkDecider, [sharedCreated, allocated('nic1', 'vm1', '02:00:0a:0b:0c:0d', '10.1.0.2')]).when({ type: 'DeleteNetwork' }).then('INVALID_STATE');
    });
    it('rejects a missing network', () => {
      given(networkDecider).when({ type: 'DeleteNetwork' }).then('NOT_FOUND');
    });
  });

  it('keeps IPs of released L2 NICs out of the IP index', () => {
    const state = stateOf(networkDecider, [
      l2Created,
      { type: 'NicAddressAllocated', data: { networkId: 'n1', nicId: 'a', instanceId: 'vm', mac: '02:00:00:00:00:01', ip: null } },
      { type: 'NicAddressReleased', data: { networkId: 'n1', nicId: 'a', instanceId: 'vm', mac: '02:00:00:00:00:01', ip: null } },
    ]);
    expect(state.kind === 'network' && [state.nics.toObject(), state.macOwners.toObject(), state.ipOwners.toObject()]).toEqual([{}, {}, {}]);
  });
});
