// MAC and IP uniqueness in a network under concurrency: each address is claimed on its own stream,
// found through a read model that may lag, by two processes at once; the expected revision of the
// address's stream must never let one MAC or one IP be handed out twice.
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandRejectedError } from '../../adapters/eventstore/command-handler.js';
import { Commander } from '../../adapters/eventstore/commander.js';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { formatIpv4, networkDecider, networkStream, parseCidr, parseIpv4, type GuestNetworkType, type NetworkEvent } from '../../domain/network/index.js';
import { isRejection } from '../../domain/shared/decider.js';
import { infrastructureProjections } from '../../projections/infrastructure/index.js';
import { ReadModel } from '../../projections/read-model.js';
import { allocateNicAddress, readModelHints as hints, releaseNicAddress, type NicAllocation } from '../../sagas/nic-addresses.js';

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

type Step = ({ readonly type: 'AllocateNic' } & Omit<NicAllocation, 'networkId'>) | { readonly type: 'ReleaseNic'; readonly nicId: string };

function commandFor(shape: NetShape): fc.Arbitrary<Step> {
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
  /** A network on a fresh log, with its read model, and two commanders: two processes sharing the log. */
  async function world(shape: NetShape) {
    const dir = mkdtempSync(join(tmpdir(), 'vmledger-nic-prop-'));
    const store = SqliteEventStore.open(join(dir, 'events.sqlite'), { pollIntervalMs: 5 });
    const model = await ReadModel.open({ store, projections: infrastructureProjections, directory: ':memory:' });
    const event = created(shape);
    await store.append(networkStream('n1'), [{ id: randomUUID(), type: event.type, data: event.data, metadata: { occurredAt: at } }], 'no_stream');
    const processes = [new Commander(store), new Commander(store)] as const;
    const close = async () => {
      await model.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    };
    return { store, model, processes, close };
  }
  const envelope = { actor: { kind: 'system' as const, component: 'test' }, correlationId: 'c', occurredAt: at };

  /** The NICs' records in log order: the allocations and releases the read model sees. */
  async function nicRecords(store: SqliteEventStore): Promise<NetworkEvent[]> {
    const all = await store.readAll();
    return all.filter((e) => e.stream.startsWith('networknic-')).map((e) => ({ type: e.type, data: e.data }) as NetworkEvent);
  }

  it('never hands out a MAC or IP twice when two processes allocate and release at once', async () => {
    await fc.assert(
      fc.asyncProperty(
        netShape.chain((shape) => fc.tuple(fc.constant(shape), fc.array(fc.tuple(commandFor(shape), fc.constantFrom(0, 1)), { minLength: 2, maxLength: 10 }))),
        async ([shape, commands]) => {
          const { store, model, processes, close } = await world(shape);
          try {
            // All at once: each process's commands race the other's through the store.
            await Promise.allSettled(
              commands.map(([command, by]) =>
                command.type === 'AllocateNic'
                  ? allocateNicAddress(processes[by], hints(store, model), { networkId: 'n1', ...command }, envelope)
                  : releaseNicAddress(processes[by], { networkId: 'n1', nicId: command.nicId }, envelope),
              ),
            );
            const records = await nicRecords(store);
            expect(firstViolation(shape, records)).toBeUndefined();
            // Every NIC still allocated holds its addresses on their streams, and nothing else is held.
            const live = new Map<string, { mac: string; ip: string | null }>();
            for (const record of records) {
              if (record.type === 'NicAddressAllocated') live.set(record.data.nicId, record.data);
              else if (record.type === 'NicAddressReleased') live.delete(record.data.nicId);
            }
            const held = new Map<string, string>();
            for (const e of await store.readAll()) {
              if (e.type === 'NetworkAddressClaimed') held.set((e.data as { address: string }).address, (e.data as { nicId: string }).nicId);
              if (e.type === 'NetworkAddressReleased') held.delete((e.data as { address: string }).address);
            }
            const expected = new Map<string, string>();
            for (const [id, nic] of live) {
              expected.set(nic.mac, id);
              if (nic.ip !== null) expected.set(nic.ip, id);
            }
            expect(held).toEqual(expected);
          } finally {
            await close();
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('refuses for lack of addresses only when every usable address is taken', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('10.1.0.0/29', '10.1.0.0/30'),
        fc.array(fc.oneof(fc.constant('alloc' as const), fc.integer({ min: 0, max: 9 })), { maxLength: 16 }),
        async (cidr, steps) => {
          const usable = 2 ** (32 - Number(cidr.split('/')[1])) - 3;
          const { store, model, processes, close } = await world({ networkType: 'Shared', cidr });
          try {
            const live = new Set<string>();
            let next = 0;
            for (const step of steps) {
              if (step === 'alloc') {
                const nicId = `nic${next++}`;
                const outcome = await allocateNicAddress(processes[0], hints(store, model), { networkId: 'n1', nicId, instanceId: 'vm', macSeed: 7 }, envelope).then(
                  () => 'allocated',
                  (error: unknown) => (error instanceof CommandRejectedError ? error.rejection.code : error),
                );
                expect(outcome).toBe(live.size === usable ? 'INSUFFICIENT_CAPACITY' : 'allocated');
                if (outcome === 'allocated') live.add(nicId);
              } else {
                await releaseNicAddress(processes[0], { networkId: 'n1', nicId: `nic${step}` }, envelope);
                live.delete(`nic${step}`);
              }
            }
            expect(firstViolation({ networkType: 'Shared', cidr }, await nicRecords(store))).toBeUndefined();
          } finally {
            await close();
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('concurrent allocations of one NIC allocate it once, and leave no other address held', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 5 }), async (copies) => {
        const { store, model, processes, close } = await world({ networkType: 'Shared', cidr: '10.1.0.0/29' });
        try {
          const results = await Promise.all(
            Array.from({ length: copies }, (_, i) => allocateNicAddress(processes[i % 2]!, hints(store, model), { networkId: 'n1', nicId: 'nic', instanceId: 'vm', macSeed: i }, envelope)),
          );
          expect(new Set(results.map((r) => `${r.mac} ${r.ip}`)).size).toBe(1);
          const records = await nicRecords(store);
          expect(records.filter((e) => e.type === 'NicAddressAllocated')).toHaveLength(1);
          const held = new Set<string>();
          for (const e of await store.readAll()) {
            if (e.type === 'NetworkAddressClaimed') held.add((e.data as { address: string }).address);
            if (e.type === 'NetworkAddressReleased') held.delete((e.data as { address: string }).address);
          }
          expect([...held].sort()).toEqual([results[0]!.ip, results[0]!.mac].sort());
        } finally {
          await close();
        }
      }),
      { numRuns: 15 },
    );
  });

  it('the invariant check catches an IP or a MAC handed out twice', () => {
    const shape: NetShape = { networkType: 'Shared', cidr: '10.1.0.0/29' };
    const allocated = (nicId: string, mac: string, ip: string): NetworkEvent => ({ type: 'NicAddressAllocated', data: { networkId: 'n1', nicId, instanceId: 'vm', mac, ip } });
    expect(firstViolation(shape, [allocated('a', '02:00:00:00:00:01', '10.1.0.2'), allocated('b', '02:00:00:00:00:02', '10.1.0.2')])).toBe('event 1: IP 10.1.0.2 handed out twice');
    expect(firstViolation(shape, [allocated('a', '02:00:00:00:00:05', '10.1.0.2'), allocated('b', '02:00:00:00:00:05', '10.1.0.3')])).toBe('event 1: MAC 02:00:00:00:00:05 handed out twice');
  });
});
