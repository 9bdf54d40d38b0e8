// MAC and IP uniqueness in a network under concurrency: NIC allocations decided against stale reads and
// appended with an expected revision must never hand out one MAC or one IP twice.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatIpv4,
  networkDecider,
  nicsOf,
  parseCidr,
  parseIpv4,
  type GuestNetworkType,
  type NetworkCommand,
  type NetworkEvent,
} from '../../domain/network/index.js';
import { isRejection } from '../../domain/shared/decider.js';
import { runInterleaved, stateOf } from '../unit/infrastructure/support.js';

const at = '2025-01-01T00:00:00.000Z';

interface NetShape {
  readonly networkType: GuestNetworkType;
  readonly cidr: string | null;
}

const netShape: fc.Arbitrary<NetShape> = fc.oneof(
  fc.constant<NetShape>({ networkType: 'L2', cidr: null }),
  fc.constantFrom<NetShape>(
    { networkType: 'Shared', cidr: '10.1.0.0/29' },
    { networkType: 'Shared', cidr: '10.1.0.0/28' },
    { networkType: 'Isolated', cidr: '192.168.7.0/30' },
  ),
);

function created(shape: NetShape): NetworkEvent {
  const decision = networkDecider.decide(
    {
      type: 'CreateNetwork',
      networkId: 'n1',
      zoneId: 'z1',
      name: 'net',
      networkType: shape.networkType,
      vlan: 10,
      cidr: shape.cidr,
      networkOfferingId: 'no',
      accountId: shape.networkType === 'Isolated' ? 'a1' : null,
      at,
    },
    networkDecider.initialState,
  );
  if (isRejection(decision) || decision[0] === undefined) throw new Error('network setup failed');
  return decision[0];
}

const nicId = fc.constantFrom('n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7');
// Requested IPs cover the whole /28 plus addresses just outside it, so reserved and foreign addresses occur.
const requestedIp = fc.option(fc.integer({ min: -1, max: 16 }).map((i) => formatIpv4(0x0a010000 + i)), { nil: undefined });
const requestedMac = fc.option(fc.constantFrom('02:00:00:00:00:01', '02:00:00:00:00:02', '1e:00:00:00:00:09'), { nil: undefined });

function commandFor(shape: NetShape): fc.Arbitrary<NetworkCommand> {
  const ipFor = shape.cidr === null ? fc.constant(undefined) : shape.cidr.startsWith('192.') ? fc.constant(undefined) : requestedIp;
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        type: fc.constant('AllocateNic' as const),
        nicId,
        instanceId: fc.constantFrom('vm-a', 'vm-b'),
        requestedIp: ipFor,
        requestedMac,
        // A tiny seed range makes generated MACs collide with each other and with requested ones.
        macSeed: fc.integer({ min: 0, max: 3 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ type: fc.constant('ReleaseNic' as const), nicId }) },
  );
}

/** Replays the log independently and returns the first broken invariant, if any. */
function firstViolation(shape: NetShape, events: readonly NetworkEvent[]): string | undefined {
  const cidr = shape.cidr === null ? undefined : parseCidr(shape.cidr);
  const live = new Map<string, { mac: string; ip: string | null }>();
  for (const [index, event] of events.entries()) {
    if (event.type === 'NicAddressAllocated') {
      const { nicId: id, mac, ip } = event.data;
      if (live.has(id)) return `event ${index}: ${id} allocated twice`;
      if ([...live.values()].some((nic) => nic.mac === mac)) return `event ${index}: MAC ${mac} handed out twice`;
      if (ip !== null && [...live.values()].some((nic) => nic.ip === ip)) return `event ${index}: IP ${ip} handed out twice`;
      if (cidr === undefined) {
        if (ip !== null) return `event ${index}: L2 NIC got IP ${ip}`;
      } else if (cidr.ok) {
        const address = ip === null ? undefined : parseIpv4(ip);
        if (address === undefined) return `event ${index}: missing IP`;
        const { network, broadcast } = cidr.cidr;
        if (address <= network + 1 || address >= broadcast) return `event ${index}: IP ${ip} is network, gateway, broadcast or outside`;
      }
      live.set(id, { mac, ip });
    } else if (event.type === 'NicAddressReleased') {
      if (!live.delete(event.data.nicId)) return `event ${index}: released unknown ${event.data.nicId}`;
    }
  }
  return undefined;
}

describe('network address properties', () => {
  it('never hands out a MAC or IP twice under any interleaving of optimistic appends', () => {
    fc.assert(
      fc.property(
        netShape.chain((shape) => fc.tuple(fc.constant(shape), fc.array(commandFor(shape), { minLength: 2, maxLength: 14 }), fc.array(fc.nat(), { maxLength: 100 }))),
        ([shape, commands, schedule]) => {
          const result = runInterleaved(networkDecider, [created(shape)], commands, schedule);
          expect(firstViolation(shape, result.events)).toBeUndefined();
          expect(result.outcomes).not.toContain('gave-up');
          const final = stateOf(networkDecider, result.events);
          if (final.kind !== 'network') throw new Error('network expected');
          const nics = nicsOf(final);
          expect(new Set(nics.map((n) => n.mac)).size).toBe(nics.length);
          const ips = nics.map((n) => n.ip).filter((ip) => ip !== null);
          expect(new Set(ips).size).toBe(ips.length);
          expect(final.macOwners.size).toBe(nics.length);
          expect(final.ipOwners.size).toBe(ips.length);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses for lack of addresses only when every usable address is taken', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('10.1.0.0/29', '10.1.0.0/30'),
        fc.array(fc.oneof(fc.constant('alloc' as const), fc.integer({ min: 0, max: 9 })), { maxLength: 30 }),
        (cidr, steps) => {
          const usable = parseCidr(cidr).ok ? 2 ** (32 - Number(cidr.split('/')[1])) - 3 : 0;
          let events: NetworkEvent[] = [created({ networkType: 'Shared', cidr })];
          let next = 0;
          for (const step of steps) {
            const state = stateOf(networkDecider, events);
            if (state.kind !== 'network') throw new Error('network expected');
            const command: NetworkCommand =
              step === 'alloc' ? { type: 'AllocateNic', nicId: `nic${next++}`, instanceId: 'vm', macSeed: 7 } : { type: 'ReleaseNic', nicId: `nic${step}` };
            const decision = networkDecider.decide(command, state);
            if (command.type === 'AllocateNic') {
              const full = state.ipOwners.size === usable;
              if (full) expect(isRejection(decision) && decision.code).toBe('INSUFFICIENT_CAPACITY');
              else expect(!isRejection(decision) && decision.length).toBe(1);
            }
            if (!isRejection(decision)) events = [...events, ...decision];
          }
          expect(firstViolation({ networkType: 'Shared', cidr }, events)).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('concurrent allocations of one NIC allocate it once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.array(fc.nat(), { maxLength: 30 }), (copies, schedule) => {
        const shape: NetShape = { networkType: 'Shared', cidr: '10.1.0.0/29' };
        const allocate: NetworkCommand = { type: 'AllocateNic', nicId: 'nic', instanceId: 'vm', macSeed: 1 };
        const result = runInterleaved(networkDecider, [created(shape)], Array.from({ length: copies }, () => allocate), schedule);
        expect(result.events.filter((e) => e.type === 'NicAddressAllocated')).toHaveLength(1);
      }),
    );
  });

  it('the invariant check catches the duplicate IP that appends without a revision check allow', () => {
    const shape: NetShape = { networkType: 'Shared', cidr: '10.1.0.0/29' };
    const commands: NetworkCommand[] = [
      { type: 'AllocateNic', nicId: 'a', instanceId: 'vm-a', macSeed: 1 },
      { type: 'AllocateNic', nicId: 'b', instanceId: 'vm-b', macSeed: 2 },
    ];
    const blind = runInterleaved(networkDecider, [created(shape)], commands, [0, 1, 0, 1], { checkRevision: false });
    expect(firstViolation(shape, blind.events)).toBe('event 2: IP 10.1.0.2 handed out twice');
    const sameSeed = runInterleaved(networkDecider, [created(shape)], commands.map((c) => ({ ...c, macSeed: 5 })), [0, 1, 0, 1], { checkRevision: false });
    expect(firstViolation(shape, sameSeed.events)).toBe('event 2: MAC 02:00:00:00:00:05 handed out twice');
    const checked = runInterleaved(networkDecider, [created(shape)], commands, [0, 1, 0, 1]);
    expect(firstViolation(shape, checked.events)).toBeUndefined();
    expect(checked.events.map((e) => (e.type === 'NicAddressAllocated' ? e.data.ip : e.type))).toEqual(['NetworkCreated', '10.1.0.2', '10.1.0.3']);
  });
});
