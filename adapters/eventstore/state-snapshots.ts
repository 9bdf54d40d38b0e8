// Snapshots of folded stream states: derived data kept beside the log (never in it, never hashed), so
// that a stream that grows with the cloud (a host's reservations) is restored from its newest snapshot
// and folded only from there. A snapshot names the event it was taken at (revision and id): one the
// log no longer has there (a log restored from an older backup, another log in the same directory)
// is ignored, and so is one of another version of the state. Losing them all costs only a re-fold.
import type { Decider, DomainEvent, StateSnapshotting } from '../../domain/shared/decider.js';
import type { JsonValue } from './port.js';

export interface StateSnapshot {
  readonly stream: string;
  /** The decider's snapshot kind: a stream may be folded by more than one decider. */
  readonly kind: string;
  readonly version: number;
  /** The revision of the last event folded into `state`. */
  readonly revision: number;
  /** The id of the event at `revision`, which a load checks against the log. */
  readonly eventId: string;
  readonly state: JsonValue;
}

/** The port: one snapshot per stream and kind, the last written. */
export interface StateSnapshotStore {
  /** The last snapshot written for the stream and kind, whatever its version. */
  read(stream: string, kind: string): Promise<StateSnapshot | undefined>;
  /** Replaces the stream's snapshot of that kind (a newer log may hold a lower revision than an old snapshot). */
  write(snapshot: StateSnapshot): Promise<void>;
  close(): Promise<void>;
}

/** For stacks without a data directory and for tests: snapshots for the life of the process. */
export class MemoryStateSnapshotStore implements StateSnapshotStore {
  private readonly rows = new Map<string, string>();

  async read(stream: string, kind: string): Promise<StateSnapshot | undefined> {
    const text = this.rows.get(`${kind}|${stream}`);
    // Kept as text, as the SQLite store keeps it: a caller cannot change a stored snapshot through what it wrote.
    return text === undefined ? undefined : (JSON.parse(text) as StateSnapshot);
  }

  async write(snapshot: StateSnapshot): Promise<void> {
    this.rows.set(`${snapshot.kind}|${snapshot.stream}`, JSON.stringify(snapshot));
  }

  async close(): Promise<void> {}
}

/** A state restored from a snapshot: the fold goes on after `revision`, once the log shows `eventId` there. */
export interface Restored<State> {
  readonly state: State;
  readonly revision: number;
  readonly eventId: string;
}

type AnyDecider = Pick<Decider<never, unknown, DomainEvent>, 'snapshot'>;

/**
 * What the commander and the command handler use: restores a decider's state from the store, and
 * takes a snapshot whenever a stream has crossed a multiple of the decider's `every`. Writes happen
 * off the command's path, one after another; a failed one is reported to `onError` and costs only
 * the events folded again at the next cold load.
 */
export class StateSnapshots {
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: StateSnapshotStore,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** The stream's snapshot for this decider, when it has one of the decider's version that reads back. */
  async restore<State>(stream: string, decider: Pick<Decider<never, State, DomainEvent>, 'snapshot'>): Promise<Restored<State> | undefined> {
    const spec = decider.snapshot;
    if (!spec) return undefined;
    try {
      const snapshot = await this.store.read(stream, spec.kind);
      // Another version was written by a build whose state had another shape.
      if (!snapshot || snapshot.version !== spec.version) return undefined;
      return { state: spec.fromJson(snapshot.state), revision: snapshot.revision, eventId: snapshot.eventId };
    } catch (error) {
      // A snapshot that cannot be read is as good as none: the stream is folded from its start.
      this.onError(error);
      return undefined;
    }
  }

  /**
   * The caller holds `state`, folded up to `revision` (the event with id `eventId`), having had the
   * state at `since` before: a snapshot is written when the stream crossed a multiple of `every`
   * in between (so a long stream folded whole at its first load is snapshotted then).
   */
  offer(stream: string, decider: AnyDecider, since: number, folded: { readonly state: unknown; readonly revision: number; readonly eventId: string | undefined }): void {
    const spec = decider.snapshot as StateSnapshotting<unknown> | undefined;
    if (!spec || folded.eventId === undefined || !crossed(since, folded.revision, spec.every)) return;
    const { state, revision, eventId } = folded;
    // The state is immutable, so it may be serialised after the reply has gone.
    this.pending = this.pending
      .then(() => this.store.write({ stream, kind: spec.kind, version: spec.version, revision, eventId, state: spec.toJson(state) as JsonValue }))
      .catch((error: unknown) => this.onError(error));
  }

  /** Resolves when every snapshot offered so far is written (or has failed). */
  flush(): Promise<void> {
    return this.pending;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.store.close();
  }
}

/** Whether a stream that grew from `since` to `revision` passed a multiple of `every` events. */
function crossed(since: number, revision: number, every: number): boolean {
  return Math.floor((revision + 1) / every) > Math.floor((since + 1) / every);
}
