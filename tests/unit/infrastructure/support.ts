// Test support for the infrastructure deciders: an optimistic-concurrency simulator that replays commands
// decided against stale reads. Their given/when/then is the shared one, tests/support/given.ts.

import { fold, isRejection, type Decider, type DomainEvent } from '../../../domain/shared/decider.js';

/** Folds events and returns the state; a shorthand for tests that need a state, not a decision. */
export function stateOf<C, S, E extends DomainEvent>(decider: Decider<C, S, E>, events: readonly E[]): S {
  return fold(decider, events);
}

export type Outcome = 'appended' | 'no-op' | 'rejected' | 'gave-up';

export interface InterleavingResult<E> {
  readonly events: readonly E[];
  readonly outcomes: readonly Outcome[];
  readonly conflicts: number;
}

/**
 * Runs `commands` as concurrent writers to one stream. Each writer reads (state, revision), decides, and
 * appends only if the stream's revision is still the one it read; on a conflict it reads again and
 * re-decides, up to `maxAttempts`. `schedule` picks which unfinished writer takes its next step, so any
 * interleaving of reads and appends can be produced; after the schedule, writers finish one by one.
 * With `checkRevision: false` appends ignore the revision, modelling a store without concurrency control.
 */
export function runInterleaved<C, S, E extends DomainEvent>(
  decider: Decider<C, S, E>,
  initial: readonly E[],
  commands: readonly C[],
  schedule: readonly number[],
  options: { readonly maxAttempts?: number; readonly checkRevision?: boolean } = {},
): InterleavingResult<E> {
  const maxAttempts = options.maxAttempts ?? 1000;
  const checkRevision = options.checkRevision ?? true;
  const log: E[] = [...initial];
  type Writer = { read?: { state: S; revision: number }; attempts: number; outcome?: Outcome };
  const writers: Writer[] = commands.map(() => ({ attempts: 0 }));
  let conflicts = 0;

  const step = (index: number): void => {
    const writer = writers[index]!;
    if (writer.read === undefined) {
      writer.read = { state: fold(decider, log), revision: log.length };
      return;
    }
    const decision = decider.decide(commands[index]!, writer.read.state);
    if (isRejection(decision)) {
      writer.outcome = 'rejected';
      return;
    }
    if (decision.length === 0) {
      writer.outcome = 'no-op';
      return;
    }
    if (checkRevision && log.length !== writer.read.revision) {
      conflicts++;
      writer.attempts++;
      writer.read = undefined;
      if (writer.attempts >= maxAttempts) writer.outcome = 'gave-up';
      return;
    }
    log.push(...decision);
    writer.outcome = 'appended';
  };

  for (const pick of schedule) {
    const pending = writers.map((w, i) => (w.outcome === undefined ? i : -1)).filter((i) => i >= 0);
    if (pending.length === 0) break;
    step(pending[pick % pending.length]!);
  }
  writers.forEach((writer, index) => {
    while (writer.outcome === undefined) step(index);
  });
  return { events: log, outcomes: writers.map((w) => w.outcome!), conflicts };
}

/** Small deterministic PRNG (mulberry32) for tests that need a repeatable `() => number`. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
