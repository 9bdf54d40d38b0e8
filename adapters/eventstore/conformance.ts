// The one conformance suite every EventStore implementation passes. Each test writes only to streams
// of its own random category, so the suite also runs against a shared, non-empty EventStoreDB.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidAppendError,
  MAX_APPEND_BYTES,
  WrongExpectedRevisionError,
  type EventData,
  type EventStore,
  type RecordedEvent,
  type SubscriptionMessage,
  type Subscription,
} from './port.js';
import { GENESIS_HASH, HASH_CHAIN_KEY, chainContent, linkHash } from './hash-chain.js';

export interface ConformanceTarget {
  readonly store: EventStore;
  /** SQLite numbers events 1, 2, 3…; EventStoreDB positions are byte offsets: only monotonic. */
  readonly gapFreePositions: boolean;
  readonly dispose: () => Promise<void>;
}

export function describeEventStoreConformance(label: string, open: () => Promise<ConformanceTarget>): void {
  describe(`event store conformance: ${label}`, () => {
    let target: ConformanceTarget;
    let store: EventStore;
    beforeAll(async () => {
      target = await open();
      store = target.store;
    });
    afterAll(async () => {
      await target?.dispose();
    });

    describe('expected revisions', () => {
      it('creates a stream with no_stream and numbers its events from 0', async () => {
        const stream = newStream();
        const result = await store.append(stream, [event('A'), event('B'), event('C')], 'no_stream');
        expect(result.revision).toBe(2);
        expect(result.positions).toHaveLength(3);
        expectIncreasing(result.positions);
        const read = await store.readStream(stream);
        expect(read.map((e) => [e.revision, e.type, e.position])).toEqual([
          [0, 'A', result.positions[0]],
          [1, 'B', result.positions[1]],
          [2, 'C', result.positions[2]],
        ]);
      });

      it('refuses no_stream on an existing stream and reports the actual revision', async () => {
        const stream = newStream();
        await store.append(stream, [event('A'), event('B')], 'no_stream');
        const error = await store.append(stream, [event('C')], 'no_stream').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect((error as WrongExpectedRevisionError).actual).toBe(1);
        expect((error as WrongExpectedRevisionError).stream).toBe(stream);
        expect(await store.readStream(stream)).toHaveLength(2);
      });

      it('appends at the exact revision and refuses a stale or future one', async () => {
        const stream = newStream();
        await store.append(stream, [event('A')], 'no_stream');
        expect((await store.append(stream, [event('B')], 0)).revision).toBe(1);
        for (const stale of [0, 2, 7]) {
          const error = await store.append(stream, [event('X')], stale).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(WrongExpectedRevisionError);
          expect((error as WrongExpectedRevisionError).actual).toBe(1);
        }
        expect((await store.readStream(stream)).map((e) => e.type)).toEqual(['A', 'B']);
      });

      it('refuses an exact revision on a missing stream with actual no_stream', async () => {
        const error = await store.append(newStream(), [event('A')], 0).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect((error as WrongExpectedRevisionError).actual).toBe('no_stream');
      });

      it('stream_exists refuses a missing stream and accepts an existing one', async () => {
        const stream = newStream();
        const error = await store.append(stream, [event('A')], 'stream_exists').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect((error as WrongExpectedRevisionError).actual).toBe('no_stream');
        await store.append(stream, [event('A')], 'no_stream');
        expect((await store.append(stream, [event('B')], 'stream_exists')).revision).toBe(1);
      });

      it('any appends whatever the stream holds', async () => {
        const stream = newStream();
        expect((await store.append(stream, [event('A')], 'any')).revision).toBe(0);
        expect((await store.append(stream, [event('B'), event('C')], 'any')).revision).toBe(2);
      });
    });

    describe('idempotent re-append', () => {
      it('repeating an append with the same ids and expected revision writes nothing and returns the same result', async () => {
        const stream = newStream();
        await store.append(stream, [event('A')], 'no_stream');
        const batch = [event('B'), event('C')];
        const first = await store.append(stream, batch, 0);
        await store.append(stream, [event('D')], 2);
        const again = await store.append(stream, batch, 0);
        expect(again).toEqual(first);
        expect((await store.readStream(stream)).map((e) => e.type)).toEqual(['A', 'B', 'C', 'D']);
      });

      it('repeating a no_stream append is a no-op', async () => {
        const stream = newStream();
        const batch = [event('A'), event('B')];
        const first = await store.append(stream, batch, 'no_stream');
        expect(await store.append(stream, batch, 'no_stream')).toEqual(first);
        expect(await store.readStream(stream)).toHaveLength(2);
      });

      it('repeating an any append is a no-op', async () => {
        const stream = newStream();
        const batch = [event('A')];
        const first = await store.append(stream, batch, 'any');
        expect(await store.append(stream, batch, 'any')).toEqual(first);
        expect(await store.readStream(stream)).toHaveLength(1);
      });

      it('a repeat whose ids differ from the stored ones is a conflict', async () => {
        const stream = newStream();
        await store.append(stream, [event('A'), event('B')], 'no_stream');
        const error = await store.append(stream, [event('A2'), event('B2')], 'no_stream').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect(await store.readStream(stream)).toHaveLength(2);
      });
    });

    describe('reading', () => {
      it('reads a stream forwards and backwards from a revision with a limit', async () => {
        const stream = newStream();
        await store.append(stream, ['A', 'B', 'C', 'D', 'E'].map((t) => event(t)), 'no_stream');
        const types = (events: RecordedEvent[]) => events.map((e) => e.type);
        expect(types(await store.readStream(stream, { fromRevision: 1, maxCount: 2 }))).toEqual(['B', 'C']);
        expect(types(await store.readStream(stream, { direction: 'backwards', maxCount: 2 }))).toEqual(['E', 'D']);
        expect(types(await store.readStream(stream, { direction: 'backwards', fromRevision: 2 }))).toEqual(['C', 'B', 'A']);
        expect(types(await store.readStream(stream, { fromRevision: 9 }))).toEqual([]);
      });

      it('reads a missing stream as empty', async () => {
        expect(await store.readStream(newStream())).toEqual([]);
      });

      it('orders the whole log by position across streams, in commit order', async () => {
        const category = newCategory();
        const a = `${category}-a`;
        const b = `${category}-b`;
        await store.append(a, [event('A1')], 'no_stream');
        await store.append(b, [event('B1')], 'no_stream');
        await store.append(a, [event('A2')], 0);
        await store.append(b, [event('B2'), event('B3')], 0);
        const all = await store.readAll({ filter: { streamNamePrefixes: [`${category}-`] } });
        expect(all.map((e) => e.type)).toEqual(['A1', 'B1', 'A2', 'B2', 'B3']);
        expectIncreasing(all.map((e) => e.position));
        if (target.gapFreePositions) {
          const positions = all.map((e) => e.position);
          expect(positions).toEqual(positions.map((_, i) => positions[0]! + i));
        }
      });

      it('reads the log from a position, exclusive, with a limit', async () => {
        const category = newCategory();
        await store.append(`${category}-a`, ['A', 'B', 'C', 'D'].map((t) => event(t)), 'no_stream');
        const filter = { streamNamePrefixes: [`${category}-`] };
        const all = await store.readAll({ filter });
        const after = await store.readAll({ filter, fromPosition: all[1]!.position, maxCount: 1 });
        expect(after.map((e) => e.type)).toEqual(['C']);
      });

      it('filters the log by event-type prefix and stream-name prefix', async () => {
        const category = newCategory();
        await store.append(`${category}-x1`, [event('usage.VM.START'), event('InstanceStarted')], 'no_stream');
        await store.append(`${category}-y1`, [event('usage.VM.STOP'), event('usage_other')], 'no_stream');
        const byType = await store.readAll({
          filter: { eventTypePrefixes: ['usage.'], streamNamePrefixes: [`${category}-`] },
        });
        expect(byType.map((e) => e.type)).toEqual(['usage.VM.START', 'usage.VM.STOP']);
        const byStream = await store.readAll({ filter: { streamNamePrefixes: [`${category}-y`] } });
        expect(byStream.map((e) => e.type)).toEqual(['usage.VM.STOP', 'usage_other']);
      });

      it('keeps the head position at or after every appended event', async () => {
        const result = await store.append(newStream(), [event('A')], 'no_stream');
        expect(await store.headPosition()).toBeGreaterThanOrEqual(result.positions[0]!);
      });
    });

    describe('payloads', () => {
      it('round-trips unicode, nested data and metadata exactly', async () => {
        const stream = newStream();
        const data = { name: 'ünïcødé – 名前 – 🚀', nested: { list: [1, 2.5, -3, null, true, 'x'], empty: {} }, zero: 0 };
        const metadata = { correlationId: 'c-1', actor: { kind: 'system', component: 'test' } };
        await store.append(stream, [{ id: randomUUID(), type: 'Unicode', data, metadata }], 'no_stream');
        const [read] = await store.readStream(stream);
        expect(read!.data).toEqual(data);
        // The store adds the event's hash-chain link; everything the writer gave comes back as given.
        expect(withoutLink(read!.metadata)).toEqual(metadata);
        expect(read!.stream).toBe(stream);
        expect(Number.isNaN(Date.parse(read!.recordedAt))).toBe(false);
      });

      it('stores a payload just under the 1 MiB limit', async () => {
        const stream = newStream();
        const data = { blob: 'é'.repeat(500_000) }; // 1,000,000 bytes of UTF-8
        await store.append(stream, [{ id: randomUUID(), type: 'Large', data }], 'no_stream');
        const [read] = await store.readStream(stream);
        expect(read!.data).toEqual(data);
      });

      it('limits the size of one append, not of each event: events that fit alone are refused together', async () => {
        const stream = newStream();
        const half = () => ({ id: randomUUID(), type: 'Large', data: { blob: 'x'.repeat(MAX_APPEND_BYTES / 2) } });
        const error = await store.append(stream, [half(), half()], 'no_stream').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidAppendError);
        expect((error as InvalidAppendError).field).toBe('events');
        expect((error as Error).message).toContain(`${MAX_APPEND_BYTES}-byte limit of one append`);
        expect(await store.readStream(stream)).toEqual([]);
        // Each of them alone is within the limit.
        expect((await store.append(stream, [half()], 'no_stream')).revision).toBe(0);
        expect((await store.append(stream, [half()], 0)).revision).toBe(1);
      });
    });

    describe('hash chain', () => {
      it('seals every event with the hash of its content and of its stream predecessor', async () => {
        const stream = newStream();
        const metadata = { correlationId: 'c-1', z: { b: 1, a: [2, { d: 3, c: 4 }] } };
        await store.append(stream, [event('A'), { id: randomUUID(), type: 'B', data: { y: 1, x: 'é' }, metadata }], 'no_stream');
        await store.append(stream, [event('C')], 1);
        await store.append(stream, [event('D')], 'any');
        await store.append(stream, [event('E')], 'stream_exists');
        const read = await store.readStream(stream);
        expect(read).toHaveLength(5);
        let previous = GENESIS_HASH;
        for (const recorded of read) {
          const link = recorded.metadata[HASH_CHAIN_KEY] as { hash: string; previous: string };
          expect(link.previous, `revision ${recorded.revision}`).toBe(previous);
          expect(link.hash).toBe(linkHash(previous, stream, recorded.revision, chainContent(recorded)));
          previous = link.hash;
        }
        expect(withoutLink(read[1]!.metadata)).toEqual(metadata);
      });

      it('starts every stream from the genesis hash and keeps streams apart', async () => {
        const category = newCategory();
        await store.append(`${category}-a`, [event('A1')], 'no_stream');
        await store.append(`${category}-b`, [event('B1')], 'any');
        await store.append(`${category}-a`, [event('A2')], 0);
        for (const name of ['a', 'b']) {
          const [first] = await store.readStream(`${category}-${name}`);
          expect((first!.metadata[HASH_CHAIN_KEY] as { previous: string }).previous).toBe(GENESIS_HASH);
        }
      });

      it('replaces a link the writer put in the metadata itself', async () => {
        const stream = newStream();
        const forged = { hash: 'f'.repeat(64), previous: 'e'.repeat(64) };
        await store.append(stream, [{ id: randomUUID(), type: 'A', data: {}, metadata: { [HASH_CHAIN_KEY]: forged, keep: true } }], 'no_stream');
        const [read] = await store.readStream(stream);
        const link = read!.metadata[HASH_CHAIN_KEY] as { hash: string; previous: string };
        expect(link.previous).toBe(GENESIS_HASH);
        expect(link.hash).toBe(linkHash(GENESIS_HASH, stream, 0, chainContent(read!)));
        expect(read!.metadata.keep).toBe(true);
      });

      it('leaves the chain unchanged on an idempotent repeat', async () => {
        const stream = newStream();
        const batch = [event('A'), event('B')];
        await store.append(stream, batch, 'no_stream');
        const before = await store.readStream(stream);
        await store.append(stream, batch, 'no_stream');
        await store.append(stream, batch, 'any');
        expect(await store.readStream(stream)).toEqual(before);
      });
    });

    describe('bad input is refused before anything is written', () => {
      const badStreams: unknown[] = ['', 'nodash', 'Upper-1', '$all-x', '-x', 'a b-1', 'inst-a b', 'a-', `x-${'y'.repeat(300)}`, 42, null];
      for (const bad of badStreams) {
        it(`refuses stream name ${JSON.stringify(bad)?.slice(0, 40)}`, async () => {
          const error = await store.append(bad as string, [event('A')], 'any').catch((e: unknown) => e);
          expect(error).toBeInstanceOf(InvalidAppendError);
          expect((error as InvalidAppendError).field).toBe('stream');
        });
      }

      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const badData: Array<[string, unknown]> = [
        ['undefined', undefined],
        ['a function', () => 1],
        ['NaN', Number.NaN],
        ['Infinity', { x: Number.POSITIVE_INFINITY }],
        ['a bigint', { n: 10n }],
        ['a cycle', cyclic],
        ['a Date instance', { at: new Date() }],
        ['an undefined field', { x: undefined }],
        ['a payload over 1 MiB', { blob: 'x'.repeat(1024 * 1024 + 1) }],
      ];
      for (const [what, data] of badData) {
        it(`refuses data that is ${what}`, async () => {
          const stream = newStream();
          const error = await store
            .append(stream, [event('Good'), { id: randomUUID(), type: 'Bad', data }], 'no_stream')
            .catch((e: unknown) => e);
          expect(error).toBeInstanceOf(InvalidAppendError);
          expect(await store.readStream(stream)).toEqual([]);
        });
      }

      const badExpected: unknown[] = [-1, 1.5, 'latest', null, undefined, Number.NaN, '3'];
      for (const bad of badExpected) {
        it(`refuses expected revision ${String(bad)}`, async () => {
          const stream = newStream();
          const error = await store.append(stream, [event('A')], bad as number).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(InvalidAppendError);
          expect((error as InvalidAppendError).field).toBe('expected');
          expect(await store.readStream(stream)).toEqual([]);
        });
      }

      const badEvents: Array<[string, unknown]> = [
        ['a non-UUID id', { id: 'not-a-uuid', type: 'A', data: {} }],
        ['an empty type', { id: randomUUID(), type: '', data: {} }],
        ['a type with spaces', { id: randomUUID(), type: 'A B', data: {} }],
        ['array metadata', { id: randomUUID(), type: 'A', data: {}, metadata: [] }],
        ['null', null],
      ];
      for (const [what, bad] of badEvents) {
        it(`refuses an event with ${what}`, async () => {
          const stream = newStream();
          const error = await store.append(stream, [bad as EventData], 'no_stream').catch((e: unknown) => e);
          expect(error).toBeInstanceOf(InvalidAppendError);
          expect(await store.readStream(stream)).toEqual([]);
        });
      }

      it('refuses two events with one id in a single append', async () => {
        const stream = newStream();
        const id = randomUUID();
        const error = await store
          .append(stream, [{ id, type: 'A', data: {} }, { id, type: 'B', data: {} }], 'no_stream')
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidAppendError);
        expect(await store.readStream(stream)).toEqual([]);
      });
    });

    describe('concurrency', () => {
      it('lets exactly one of many concurrent appenders win each revision', async () => {
        const stream = newStream();
        await store.append(stream, [event('Init')], 'no_stream');
        const writers = 16;
        for (let revision = 0; revision < 5; revision++) {
          const outcomes = await Promise.allSettled(
            Array.from({ length: writers }, (_, w) => store.append(stream, [event(`W${w}`)], revision)),
          );
          const won = outcomes.filter((o) => o.status === 'fulfilled');
          const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
          expect(won).toHaveLength(1);
          expect(lost).toHaveLength(writers - 1);
          for (const loss of lost) {
            expect(loss.reason).toBeInstanceOf(WrongExpectedRevisionError);
            expect((loss.reason as WrongExpectedRevisionError).actual).toBe(revision + 1);
          }
        }
        const revisions = (await store.readStream(stream)).map((e) => e.revision);
        expect(revisions).toEqual([0, 1, 2, 3, 4, 5]);
      });

      it('keeps concurrent appends to many streams each atomic and ordered', async () => {
        const category = newCategory();
        await Promise.all(
          Array.from({ length: 32 }, (_, w) =>
            store.append(`${category}-${w}`, [event('One'), event('Two'), event('Three')], 'no_stream'),
          ),
        );
        const all = await store.readAll({ filter: { streamNamePrefixes: [`${category}-`] } });
        expect(all).toHaveLength(96);
        // A batch is contiguous in the log: no other append lands between its events.
        for (let i = 0; i < all.length; i += 3) {
          expect(all.slice(i, i + 3).map((e) => [e.stream, e.type])).toEqual([
            [all[i]!.stream, 'One'],
            [all[i]!.stream, 'Two'],
            [all[i]!.stream, 'Three'],
          ]);
        }
      });
    });

    describe('catch-up subscription', () => {
      it('delivers history, signals caught-up, then live events, without gaps or duplicates across the switch', async () => {
        const category = newCategory();
        const stream = `${category}-s`;
        const historic = 300;
        for (let i = 0; i < historic; i += 50) {
          await store.append(stream, Array.from({ length: 50 }, (_, j) => event(`E${i + j}`)), i === 0 ? 'no_stream' : i - 1);
        }
        const subscription = store.subscribe({ filter: { streamNamePrefixes: [`${category}-`] } });
        const live = 200;
        // Appends race the catch-up: some land while history is being read, some after caught-up.
        const writer = (async () => {
          for (let i = historic; i < historic + live; i++) {
            await store.append(stream, [event(`E${i}`)], i - 1);
            if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1));
          }
        })();
        const { types, caughtUpAt } = await collect(subscription, historic + live);
        await writer;
        expect(types).toEqual(Array.from({ length: historic + live }, (_, i) => `E${i}`));
        expect(caughtUpAt).toBeGreaterThanOrEqual(historic);
      });

      it('starts after an exclusive position', async () => {
        const category = newCategory();
        const result = await store.append(`${category}-s`, ['A', 'B', 'C'].map((t) => event(t)), 'no_stream');
        const subscription = store.subscribe({
          fromPosition: result.positions[0]!,
          filter: { streamNamePrefixes: [`${category}-`] },
        });
        const { types } = await collect(subscription, 2);
        expect(types).toEqual(['B', 'C']);
      });

      it('from the end delivers only what is appended afterwards', async () => {
        const category = newCategory();
        await store.append(`${category}-s`, [event('Old')], 'no_stream');
        const subscription = store.subscribe({ fromPosition: 'end', filter: { streamNamePrefixes: [`${category}-`] } });
        const iterator = subscription[Symbol.asyncIterator]();
        const first = await nextMessage(iterator);
        expect(first.kind).toBe('caught_up');
        await store.append(`${category}-s`, [event('New')], 0);
        const second = await nextEvent(iterator);
        expect(second.type).toBe('New');
        await subscription.close();
      });

      it('applies type and stream filters to history and live events alike', async () => {
        const category = newCategory();
        await store.append(`${category}-a`, [event('usage.VM.CREATE'), event('InstanceDeployed')], 'no_stream');
        const subscription = store.subscribe({
          filter: { eventTypePrefixes: ['usage.'], streamNamePrefixes: [`${category}-`] },
        });
        const collecting = collect(subscription, 2);
        await store.append(`${category}-a`, [event('InstanceStarted'), event('usage.VM.START')], 1);
        await store.append(`${newCategory()}-b`, [event('usage.VM.START')], 'no_stream');
        const { types } = await collecting;
        expect(types).toEqual(['usage.VM.CREATE', 'usage.VM.START']);
      });

      it('stops delivering once closed', async () => {
        const category = newCategory();
        const subscription = store.subscribe({ fromPosition: 'end', filter: { streamNamePrefixes: [`${category}-`] } });
        const iterator = subscription[Symbol.asyncIterator]();
        expect((await nextMessage(iterator)).kind).toBe('caught_up');
        const pending = iterator.next();
        await subscription.close();
        const result = await withTimeout(pending, 5000, 'closed subscription never ended');
        expect(result.done).toBe(true);
      });
    });
  });
}

function withoutLink(metadata: Record<string, unknown>): Record<string, unknown> {
  const { [HASH_CHAIN_KEY]: _link, ...rest } = metadata;
  return rest;
}

function newCategory(): string {
  return `t${randomUUID().replace(/-/g, '').slice(0, 16)}`;
}

function newStream(): string {
  return `${newCategory()}-${randomUUID()}`;
}

function event(type: string, data: unknown = { type }): EventData {
  return { id: randomUUID(), type, data };
}

function expectIncreasing(values: readonly number[]): void {
  for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThan(values[i - 1]!);
}

async function collect(subscription: Subscription, count: number): Promise<{ types: string[]; caughtUpAt: number }> {
  const types: string[] = [];
  let caughtUpAt = -1;
  const run = (async () => {
    for await (const message of subscription) {
      if (message.kind === 'caught_up' && caughtUpAt === -1) caughtUpAt = types.length;
      if (message.kind !== 'event') continue;
      types.push(message.event.type);
      if (types.length >= count) break;
    }
  })();
  await withTimeout(run, 20_000, `subscription delivered ${types.length} of ${count} events`);
  await subscription.close();
  return { types, caughtUpAt };
}

async function nextMessage(iterator: AsyncIterator<SubscriptionMessage>): Promise<SubscriptionMessage> {
  for (;;) {
    const result = await withTimeout(iterator.next(), 10_000, 'no message from subscription');
    if (result.done) throw new Error('subscription ended');
    if (result.value.kind !== 'checkpoint') return result.value;
  }
}

async function nextEvent(iterator: AsyncIterator<SubscriptionMessage>): Promise<RecordedEvent> {
  for (;;) {
    const message = await nextMessage(iterator);
    if (message.kind === 'event') return message.event;
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
