// Commands for one stream, one at a time within this process, decided in batches. A hot stream (a
// host's capacity, a network's addresses) would otherwise see every concurrent command read the
// same revision and all but one lose the append; here the commands that queue up while one append
// is in flight are decided one after another on the evolving state and appended together. Optimistic
// concurrency still guards against other processes.
import { randomUUID } from 'node:crypto';
import { isRejection, type Decider, type DomainEvent } from '../../domain/shared/decider.js';
import {
  CommandRejectedError,
  ConcurrencyConflictError,
  StateCache,
  envelopeMetadata,
  handleCommand,
  type CommandEnvelope,
  type CommandResult,
} from './command-handler.js';
import { MAX_APPEND_BYTES, WrongExpectedRevisionError, type EventStore } from './port.js';
import type { StateSnapshots } from './state-snapshots.js';
import { loadFolded } from './stream-fold.js';
import { appendBytes } from './validation.js';

interface Queued {
  readonly decider: Decider<unknown, unknown, DomainEvent>;
  readonly command: unknown;
  readonly envelope: CommandEnvelope;
  readonly resolve: (result: CommandResult<unknown, DomainEvent>) => void;
  readonly reject: (error: unknown) => void;
}

const MAX_ATTEMPTS = 5;
/**
 * Folded states kept between commands (VMLEDGER_STATE_CACHE_SIZE): the hot streams (hosts, networks,
 * accounts) and the instances and jobs under way, a few hundred at a time, fit many times over. A
 * stream that falls out is folded again from the store when it is next commanded; the bound is what
 * keeps the process from holding a state per instance it ever touched.
 */
export const DEFAULT_STATE_CACHE_SIZE = 5_000;

export class Commander {
  private readonly queues = new Map<string, Queued[]>();
  readonly cache: StateCache;
  /** Where a stream missing from the cache is restored from, for deciders that take snapshots. */
  readonly snapshots: StateSnapshots | undefined;

  constructor(
    private readonly store: EventStore,
    options: { cacheSize?: number; snapshots?: StateSnapshots } = {},
  ) {
    this.cache = new StateCache(options.cacheSize ?? DEFAULT_STATE_CACHE_SIZE);
    this.snapshots = options.snapshots;
  }

  execute<Command, State, Event extends DomainEvent>(
    stream: string,
    decider: Decider<Command, State, Event>,
    command: Command,
    envelope: CommandEnvelope,
  ): Promise<CommandResult<State, Event>> {
    return new Promise((resolve, reject) => {
      const item: Queued = {
        decider: decider as unknown as Decider<unknown, unknown, DomainEvent>,
        command,
        envelope,
        resolve: resolve as (result: CommandResult<unknown, DomainEvent>) => void,
        reject,
      };
      const queue = this.queues.get(stream);
      if (queue) {
        queue.push(item);
        return;
      }
      this.queues.set(stream, [item]);
      void this.drain(stream);
    });
  }

  private async drain(stream: string): Promise<void> {
    for (;;) {
      const queue = this.queues.get(stream)!;
      if (queue.length === 0) {
        this.queues.delete(stream);
        return;
      }
      // One decider per batch; a keyed command (a client's retry token) takes the slow, exact path.
      const first = queue[0]!;
      if (first.envelope.idempotencyKey !== undefined) {
        queue.shift();
        await handleCommand(this.store, {
          stream,
          decider: first.decider,
          command: first.command,
          envelope: first.envelope,
          newEventId: randomUUID,
          cache: this.cache,
          snapshots: this.snapshots,
        }).then(
          first.resolve,
          first.reject,
        );
        continue;
      }
      let count = 1;
      while (count < queue.length && queue[count]!.decider === first.decider && queue[count]!.envelope.idempotencyKey === undefined) count++;
      const batch = queue.splice(0, count);
      const leftover = await this.runBatch(stream, batch);
      // Commands the append had no room for go first in the next batch, decided on the state after it.
      queue.unshift(...leftover);
    }
  }

  /**
   * Decides the batch's commands one after another and appends their events together, as many
   * commands as fit in one append (MAX_APPEND_BYTES; a command's events are never split). Returns the
   * commands it left out for lack of room.
   */
  private async runBatch(stream: string, batch: Queued[]): Promise<Queued[]> {
    const decider = batch[0]!.decider;
    // The cached state is trusted first: the append's expected revision catches any write this
    // process did not see. Only what an append cannot check (a refusal, a no-op) is decided again
    // on a fresh read before it is reported.
    let trustCache = true;
    let taken: Queued[] = batch;
    let leftover: Queued[] = [];
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      let loaded: { state: unknown; revision: number; fromCache: boolean };
      try {
        loaded = await this.load(stream, decider, trustCache);
      } catch (error) {
        for (const item of batch) item.reject(error);
        return [];
      }
      let state = loaded.state;
      const decided: Array<{ item: Queued; events: readonly DomainEvent[]; state: unknown } | { item: Queued; error: unknown }> = [];
      const toAppend: Array<{ id: string; type: string; data: unknown; metadata: ReturnType<typeof envelopeMetadata> }> = [];
      // A lone command is appended as it is (the store refuses it if it is too large); merged ones are measured.
      const measure = batch.length > 1;
      let bytes = 0;
      for (const item of batch) {
        let decision;
        try {
          decision = decider.decide(item.command, state);
        } catch (error) {
          decided.push({ item, error });
          continue;
        }
        if (isRejection(decision)) {
          decided.push({ item, error: new CommandRejectedError(decision) });
          continue;
        }
        const metadata = envelopeMetadata(item.envelope);
        const events = decision.map((event) => ({ id: randomUUID(), type: event.type, data: event.data, metadata }));
        if (measure) {
          const size = appendBytes(events);
          if (toAppend.length > 0 && bytes + size > MAX_APPEND_BYTES) break;
          bytes += size;
        }
        toAppend.push(...events);
        for (const event of decision) state = decider.evolve(state, event);
        decided.push({ item, events: decision, state });
      }
      taken = decided.map((outcome) => outcome.item);
      leftover = batch.slice(taken.length);
      if (loaded.fromCache && decided.some((d) => 'error' in d || d.events.length === 0)) {
        trustCache = false;
        attempt--;
        continue;
      }
      try {
        const result =
          toAppend.length === 0
            ? { revision: loaded.revision, positions: [] as number[] }
            : await this.store.append(stream, toAppend, loaded.revision === -1 ? 'no_stream' : loaded.revision);
        if (toAppend.length > 0) {
          this.cache.set(stream, decider, { state, revision: result.revision });
          // On a repeat the store holds these very ids at these revisions, so the last one names the state.
          this.snapshots?.offer(stream, decider, loaded.revision, { state, revision: result.revision, eventId: toAppend[toAppend.length - 1]!.id });
        }
        let offset = 0;
        for (const outcome of decided) {
          if ('error' in outcome) {
            outcome.item.reject(outcome.error);
            continue;
          }
          const positions = result.positions.slice(offset, offset + outcome.events.length);
          offset += outcome.events.length;
          const revision = result.revision - (toAppend.length - offset);
          outcome.item.resolve({ events: outcome.events, state: outcome.state, revision, positions, duplicate: false });
        }
        return leftover;
      } catch (error) {
        this.cache.delete(stream, decider);
        trustCache = false;
        if (!(error instanceof WrongExpectedRevisionError)) {
          for (const item of taken) item.reject(error);
          return leftover;
        }
      }
    }
    // The last attempt's commands lost every race; those it had no room for have not raced yet.
    for (const item of taken) item.reject(new ConcurrencyConflictError(stream, MAX_ATTEMPTS));
    return leftover;
  }

  /**
   * The stream folded from the cached state, reading only what was appended since (nothing, when
   * trusted); without one, from the decider's snapshot and what was appended after it.
   */
  private async load(stream: string, decider: Decider<unknown, unknown, DomainEvent>, trustCache: boolean): Promise<{ state: unknown; revision: number; fromCache: boolean }> {
    const cached = this.cache.get<unknown>(stream, decider);
    if (cached && trustCache) return { ...cached, fromCache: true };
    const { state, revision } = await loadFolded(this.store, stream, decider, { cached, snapshots: this.snapshots });
    if (revision >= 0) this.cache.set(stream, decider, { state, revision });
    return { state, revision, fromCache: false };
  }
}
