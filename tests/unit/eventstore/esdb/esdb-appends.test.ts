import { randomUUID } from 'node:crypto';
import { jsonEvent } from '@eventstore/db-client';
import { afterEach, describe, expect, it } from 'vitest';
import { EsdbEventStore } from '../../../../adapters/eventstore/esdb/esdb-event-store.js';
import { StreamDeletedError, WrongExpectedRevisionError, type EventData } from '../../../../adapters/eventstore/port.js';
import { checkLogChains } from '../../../../api/audit/chain-check.js';
import { FakeEsdbServer, notLeader, unavailable } from './fake-esdb.js';

// Appends against a scripted EventStoreDB (fake-esdb.ts): what only that server can do to a writer.
describe('EsdbEventStore appends', () => {
  const stores: EsdbEventStore[] = [];
  const open = (server: FakeEsdbServer) => {
    const store = EsdbEventStore.withClient(server.client(), { retryDelayMs: () => 0 });
    stores.push(store);
    return store;
  };
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });
  const event = (type = 'A'): EventData => ({ id: randomUUID(), type, data: { type } });
  /** Another writer's append, straight to the server: e.g. the same command retried by another instance. */
  const elsewhere = (server: FakeEsdbServer, stream: string, events: EventData[], expected: bigint | 'any') =>
    server.append(stream, events.map((e) => jsonEvent({ id: e.id, type: e.type, data: e.data as never })), expected);

  describe("'any' and 'stream_exists' (issue 20 item 5)", () => {
    for (const expected of ['any', 'stream_exists'] as const) {
      it(`stores a ${expected} batch once when an identical append lands between the adapter's calls`, async () => {
        // Wherever the other writer's identical append falls among the adapter's round trips, the
        // batch is in the stream once: the repeat check and the tip come from one read.
        for (let landsBefore = 1; landsBefore <= 4; landsBefore++) {
          const server = new FakeEsdbServer('23.10');
          const store = open(server);
          const stream = `dup-${landsBefore}`;
          await store.append(stream, [event('First')], 'no_stream');
          const batch = [event('Retried')];
          server.beforeCall(landsBefore, () => elsewhere(server, stream, batch, 0n));
          const result = await store.append(stream, batch, expected);
          const stored = server.streamRecords(stream).map((r) => r.id);
          expect(stored, `other writer before call ${landsBefore}`).toEqual([expect.any(String), batch[0]!.id]);
          expect(result.revision).toBe(1);
        }
      });
    }

    it("never refuses an 'any' append, however often other writers get in first", async () => {
      const server = new FakeEsdbServer('23.10');
      const store = open(server);
      await store.append('busy-1', [event('First')], 'no_stream');
      // Before each of the adapter's next 30 appends, another writer moves the stream on.
      for (let i = 0; i < 30; i++) server.beforeNext('append', () => elsewhere(server, 'busy-1', [event('Other')], 'any'));
      const result = await store.append('busy-1', [event('Mine')], 'any');
      const stored = await store.readStream('busy-1');
      expect(stored.at(-1)!.type).toBe('Mine');
      expect(result.revision).toBe(stored.at(-1)!.revision);
      expect(stored.filter((e) => e.type === 'Mine')).toHaveLength(1);
    });

    it("still refuses 'stream_exists' on a missing stream", async () => {
      const store = open(new FakeEsdbServer('23.10'));
      const error = await store.append('missing-1', [event()], 'stream_exists').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WrongExpectedRevisionError);
      expect((error as WrongExpectedRevisionError).actual).toBe('no_stream');
    });
  });

  describe('deleted streams (issue 20 item 6)', () => {
    it('reports a hard-deleted stream as StreamDeletedError on read and on every append', async () => {
      const server = new FakeEsdbServer('23.10');
      const store = open(server);
      await store.append('gone-1', [event()], 'no_stream');
      server.hardDelete('gone-1');
      const read = await store.readStream('gone-1').catch((e: unknown) => e);
      expect(read).toBeInstanceOf(StreamDeletedError);
      expect((read as StreamDeletedError).stream).toBe('gone-1');
      for (const expected of ['no_stream', 'any', 'stream_exists', 0] as const) {
        const error = await store.append('gone-1', [event()], expected).catch((e: unknown) => e);
        expect(error, String(expected)).toBeInstanceOf(StreamDeletedError);
      }
    });

    it('reads a soft-deleted stream as empty and refuses to write into it, writing nothing', async () => {
      const server = new FakeEsdbServer('23.10');
      const store = open(server);
      await store.append('soft-1', [event('A'), event('B')], 'no_stream');
      server.softDelete('soft-1');
      expect(await store.readStream('soft-1')).toEqual([]);
      for (const expected of ['no_stream', 'any', 'stream_exists'] as const) {
        const error = await store.append('soft-1', [event('C')], expected).catch((e: unknown) => e);
        expect(error, expected).toBeInstanceOf(StreamDeletedError);
        expect((error as StreamDeletedError).stream).toBe('soft-1');
      }
      // Nothing was written at revision 2 sealed as revision 0.
      expect(server.streamRecords('soft-1')).toHaveLength(2);
      expect((await checkLogChains(store, { gapFreePositions: false })).problems).toEqual([]);
    });

    it('seals appends to a stream that starts past revision 0 (recreated after a soft delete) at their real revisions', async () => {
      const server = new FakeEsdbServer('23.10');
      const store = open(server);
      await store.append('again-1', [event('A'), event('B')], 'no_stream');
      server.softDelete('again-1');
      elsewhere(server, 'again-1', [event('Restored')], 'any'); // someone else brings it back, at revision 2
      const [restored] = await store.readStream('again-1');
      expect(restored!.revision).toBe(2);
      expect((await store.append('again-1', [event('C')], 2)).revision).toBe(3);
      expect((await store.append('again-1', [event('D')], 'any')).revision).toBe(4);
      const [c, d] = await store.readStream('again-1', { fromRevision: 3 });
      expect([c!.revision, d!.revision]).toEqual([3, 4]);
      const link = (e: typeof c) => e!.metadata.hashChain as { hash: string; previous: string };
      expect(link(d).previous).toBe(link(c).hash);
    });
  });

  describe('round trips and what a committed append reports (issue 20 item 7)', () => {
    it('reports a committed append as committed when reading its positions back fails once', async () => {
      const server = new FakeEsdbServer('23.10');
      const store = open(server);
      server.beforeNext('append', () => server.failNext('readStream', unavailable()));
      const result = await store.append('committed-1', [event('A'), event('B')], 'no_stream');
      const stored = await store.readStream('committed-1');
      expect(result).toEqual({ revision: 1, positions: stored.map((e) => e.position) });
    });

    it('appends at an exact revision it has just read or written in two round trips: the append and its read-back', async () => {
      const server = new FakeEsdbServer('23.10');
      const store = open(server);
      await store.append('trips-1', [event('A')], 'no_stream');
      server.calls.length = 0;
      await store.append('trips-1', [event('B')], 0);
      expect(server.calls).toEqual(['append', 'readStream']);
      await store.readStream('trips-1');
      server.calls.length = 0;
      await store.append('trips-1', [event('C')], 1);
      expect(server.calls).toEqual(['append', 'readStream']);
      const chain = await checkLogChains(store, { gapFreePositions: false });
      expect(chain.problems).toEqual([]);
    });

    it('refuses a server older than 22.6, which does not report where a stream\'s events are in the log', async () => {
      const store = open(new FakeEsdbServer('21.10'));
      const error = await store.append('old-1', [event()], 'no_stream').catch((e: unknown) => e);
      expect((error as Error).message).toMatch(/EventStoreDB 21\.10\.9\.0 is not supported: vmledger needs 22\.6 or later/);
      await expect(store.readAll()).rejects.toThrow(/not supported/);
    });

    it('keeps a not-leader answer an error of the append, not a refusal of its expected revision', async () => {
      const server = new FakeEsdbServer('23.10');
      const store = open(server);
      server.failNext('append', notLeader());
      const error = await store.append('leader-1', [event()], 'no_stream').catch((e: unknown) => e);
      expect(error).not.toBeInstanceOf(WrongExpectedRevisionError);
      expect(server.streamRecords('leader-1')).toEqual([]);
    });
  });
});
