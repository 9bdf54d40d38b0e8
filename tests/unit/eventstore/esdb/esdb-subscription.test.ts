import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { EsdbEventStore } from '../../../../adapters/eventstore/esdb/esdb-event-store.js';
import {
  SubscriptionDroppedError,
  type EventData,
  type SubscribeOptions,
  type SubscriptionMessage,
} from '../../../../adapters/eventstore/port.js';
import { FakeEsdbServer, consumerTooSlow, notLeader, serviceError, unavailable, type ServerVersion } from './fake-esdb.js';

// Subscriptions against a scripted EventStoreDB of each supported version (fake-esdb.ts sends each
// version's messages in the order its source does).
const VERSIONS: ServerVersion[] = ['22.6', '22.10', '23.6', '23.10', '24.10'];

describe('EsdbSubscription', () => {
  const stores: EsdbEventStore[] = [];
  const open = (server: FakeEsdbServer, options: { resubscribeAttempts?: number } = {}) => {
    const store = EsdbEventStore.withClient(server.client(), { retryDelayMs: () => 0, readBatchSize: 50, ...options });
    stores.push(store);
    return store;
  };
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });
  const event = (type: string): EventData => ({ id: randomUUID(), type, data: { type } });

  /** Reads messages until `done` says so; fails the test rather than hang. */
  async function take(
    iterator: AsyncIterator<SubscriptionMessage>,
    done: (messages: SubscriptionMessage[]) => boolean,
    into: SubscriptionMessage[] = [],
  ): Promise<SubscriptionMessage[]> {
    while (!done(into)) {
      const next = await Promise.race([
        iterator.next(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`stuck after ${JSON.stringify(into.map(show))}`)), 5000)),
      ]);
      if (next.done) throw new Error('the subscription ended');
      into.push(next.value);
    }
    return into;
  }
  const show = (m: SubscriptionMessage) => (m.kind === 'event' ? `${m.event.type}@${m.event.position}` : `${m.kind}@${m.position}`);
  const events = (messages: SubscriptionMessage[]) => messages.flatMap((m) => (m.kind === 'event' ? [m.event.type] : []));
  const countEvents = (n: number) => (messages: SubscriptionMessage[]) => events(messages).length >= n;

  /** No position handed to the consumer is at or past an event it has not been given yet. */
  function expectNoPositionAheadOfItsEvents(messages: SubscriptionMessage[]): void {
    messages.forEach((message, i) => {
      if (message.kind === 'event') return;
      const later = messages.slice(i + 1).find((m) => m.kind === 'event');
      if (later?.kind === 'event') expect(message.position, `${show(message)} before ${show(later)}`).toBeLessThan(later.event.position);
    });
  }

  describe('dropped subscriptions are resumed (issue 20 item 1)', () => {
    for (const [why, error] of [
      ['the node restarted', unavailable()],
      ['the leader changed', notLeader()],
      ['the server found the consumer too slow', consumerTooSlow()],
    ] as const) {
      it(`resumes after a drop because ${why}, from the last delivered position, without gap or repeat`, async () => {
        const server = new FakeEsdbServer('23.10');
        const store = open(server);
        for (let i = 0; i < 5; i++) await store.append(`drop-${i}`, [event(`E${i}`)], 'no_stream');
        const subscription = store.subscribe({ filter: { streamNamePrefixes: ['drop-'] } });
        const iterator = subscription[Symbol.asyncIterator]();
        const messages = await take(iterator, (m) => m.some((x) => x.kind === 'caught_up') && countEvents(5)(m));
        server.dropSubscriptions(error);
        for (let i = 5; i < 8; i++) await store.append(`drop-${i}`, [event(`E${i}`)], 'no_stream');
        await take(iterator, countEvents(8), messages);
        expect(events(messages)).toEqual(['E0', 'E1', 'E2', 'E3', 'E4', 'E5', 'E6', 'E7']);
        expectNoPositionAheadOfItsEvents(messages);
        await subscription.close();
      });
    }

    it('keeps trying while the server is away, then carries on', async () => {
      const server = new FakeEsdbServer('22.10');
      const store = open(server);
      await store.append('away-1', [event('A')], 'no_stream');
      const subscription = store.subscribe();
      const iterator = subscription[Symbol.asyncIterator]();
      const messages = await take(iterator, countEvents(1));
      // The next three attempts to resume fail: the catch-up read, then the subscription itself.
      server.failNext('readAll', unavailable());
      server.failNext('readAll', unavailable());
      server.failNext('subscribe', unavailable());
      server.dropSubscriptions(unavailable());
      await store.append('away-1', [event('B')], 0);
      await take(iterator, countEvents(2), messages);
      expect(events(messages)).toEqual(['A', 'B']);
      await subscription.close();
    });

    it('ends with a retriable SubscriptionDroppedError when told to give up, and a final one for errors no retry mends', async () => {
      const server = new FakeEsdbServer('23.10');
      const store = open(server, { resubscribeAttempts: 2 });
      const subscription = store.subscribe();
      const iterator = subscription[Symbol.asyncIterator]();
      await take(iterator, (m) => m.some((x) => x.kind === 'caught_up'));
      for (let i = 0; i < 3; i++) server.failNext('readAll', unavailable());
      server.dropSubscriptions(unavailable());
      const error = await iterator.next().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(SubscriptionDroppedError);
      expect((error as SubscriptionDroppedError).retriable).toBe(true);

      const denied = store.subscribe()[Symbol.asyncIterator]();
      await take(denied, (m) => m.some((x) => x.kind === 'caught_up'));
      server.dropSubscriptions(serviceError(7, 'Access denied', { exception: 'access-denied' }));
      const final = await denied.next().then(() => undefined, (e: unknown) => e);
      expect((final as SubscriptionDroppedError).retriable).toBe(false);
    });
  });

  describe('resuming from a stored position (issue 20 item 2)', () => {
    for (const version of VERSIONS) {
      it(`${version}: delivers the next event after a checkpoint whose record has since been scavenged`, async () => {
        const server = new FakeEsdbServer(version);
        const store = open(server);
        await store.append('usage-1', [event('usage.VM.CREATE'), event('InstanceStarted')], 'no_stream');
        // The consumer's checkpoint points at a record of the server's own, later scavenged; the next
        // record is the event it waits for.
        const checkpoint = server.writeSystemRecord('$stats-127.0.0.1:2113', '$statsCollected').position;
        await store.append('usage-1', [event('usage.VM.START')], 1);
        server.scavenge((r) => r.position === checkpoint);
        const options: SubscribeOptions = { fromPosition: checkpoint, filter: { eventTypePrefixes: ['usage.'] } };
        const subscription = store.subscribe(options);
        const messages = await take(subscription[Symbol.asyncIterator](), countEvents(1));
        expect(events(messages)).toEqual(['usage.VM.START']);
        await subscription.close();
      });

      it(`${version}: starts after the given position, whatever kind of record is there`, async () => {
        const server = new FakeEsdbServer(version);
        const store = open(server);
        const first = await store.append('start-1', [event('A'), event('B'), event('C')], 'no_stream');
        const subscription = store.subscribe({ fromPosition: first.positions[0]!, filter: { streamNamePrefixes: ['start-'] } });
        const messages = await take(subscription[Symbol.asyncIterator](), countEvents(2));
        expect(events(messages)).toEqual(['B', 'C']);
        await subscription.close();
      });
    }
  });

  describe('checkpoints never pass an event not yet delivered (issue 20 item 3)', () => {
    for (const version of VERSIONS) {
      it(`${version}: positions come after the events they cover, across catch-up, the switch to live and live`, async () => {
        const server = new FakeEsdbServer(version);
        const store = open(server);
        // History: our events among others and the server's own, enough for several pages.
        for (let i = 0; i < 40; i++) {
          await store.append(`mine-${i}`, [event(`M${i}`)], 'no_stream');
          await store.append(`other-${i}`, [event('Other'), event('Other')], 'no_stream');
          if (i % 7 === 0) server.writeSystemRecord('$stats-127.0.0.1:2113', '$statsCollected');
        }
        const subscription = store.subscribe({ filter: { streamNamePrefixes: ['mine-'] } });
        const iterator = subscription[Symbol.asyncIterator]();
        const messages = await take(iterator, (m) => m.some((x) => x.kind === 'caught_up') && countEvents(40)(m));
        // Live: the first event lands where 23.6 (and 22.6) put their switch-to-live checkpoint.
        await store.append('mine-live', [event('L0')], 'no_stream');
        for (let i = 1; i < 5; i++) {
          for (let j = 0; j < 40; j++) await store.append(`other-live-${i}-${j}`, [event('Other')], 'no_stream');
          await store.append(`mine-live-${i}`, [event(`L${i}`)], 'no_stream');
        }
        await take(iterator, countEvents(45), messages);
        expect(events(messages)).toEqual([...Array.from({ length: 40 }, (_, i) => `M${i}`), 'L0', 'L1', 'L2', 'L3', 'L4']);
        expectNoPositionAheadOfItsEvents(messages);
        await subscription.close();
      });
    }
  });
});
