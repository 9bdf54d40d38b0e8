// The log's own integrity, read in position order: each stream's revisions run 0, 1, 2… without a
// gap or a step back, each event's hash-chain link matches its content and points at its stream's
// prior event, and (for the SQLite log, whose positions are gap-free) no position is missing.
// Memory grows with the number of streams (one tip each), not with the number of events.
import { createHash } from 'node:crypto';
import { GENESIS_HASH, checkLink, checkStoredEvent, type LinkCheck } from '../../adapters/eventstore/hash-chain.js';
import type { EventStore, RecordedEvent, StoredEvent } from '../../adapters/eventstore/port.js';

export type LogProblemKind = 'unsealed' | 'hash-mismatch' | 'previous-mismatch' | 'corrupt' | 'revision-gap' | 'revision-order' | 'position-gap';

export interface LogProblem {
  readonly kind: LogProblemKind;
  /** Undefined only for a position gap, which belongs to no stream that is left to name. */
  readonly stream?: string;
  /** The event in question: for a gap, the first missing revision. */
  readonly revision?: number;
  /** Where in the log it was noticed. */
  readonly position: number;
  readonly message: string;
}

export interface ChainCheckOptions {
  /** SQLite numbers events 1, 2, 3…; a hole there is a removed event. EventStoreDB's positions have holes by design. */
  readonly gapFreePositions: boolean;
  readonly pageSize?: number;
  /** Called for each problem as it is found, so a long check reports early. */
  readonly onProblem?: (problem: LogProblem) => void;
}

export interface ChainReport {
  readonly events: number;
  readonly streams: number;
  readonly problems: readonly LogProblem[];
  /**
   * sha256 over every stream's last hash: recorded by an auditor, it detects even a rewrite that
   * recomputes a stream's chain from the changed event on.
   */
  readonly digest: string;
}

interface Tip {
  revision: number;
  /** Undefined after an event whose link could not be read: the next one's link is then taken as it is. */
  hash: string | undefined;
}

export async function checkLogChains(store: EventStore, options: ChainCheckOptions): Promise<ChainReport> {
  const pageSize = options.pageSize ?? 1000;
  const tips = new Map<string, Tip>();
  const problems: LogProblem[] = [];
  const report = (problem: LogProblem) => {
    problems.push(problem);
    options.onProblem?.(problem);
  };
  let events = 0;
  let lastPosition = 0;
  // Unparsed where the store offers it: a sound event is hashed as stored, without a parse.
  const read: (from: number) => Promise<ReadonlyArray<RecordedEvent | StoredEvent>> = store.readAllText
    ? (from) => store.readAllText!({ fromPosition: from, maxCount: pageSize })
    : (from) => store.readAll({ fromPosition: from, maxCount: pageSize });
  for (;;) {
    const page = await read(lastPosition);
    for (const event of page) {
      if (options.gapFreePositions && event.position !== lastPosition + 1) {
        const missing = event.position - lastPosition - 1;
        report({
          kind: 'position-gap',
          position: lastPosition + 1,
          message: `positions ${lastPosition + 1}..${event.position - 1} are missing (${missing} event${missing === 1 ? '' : 's'} removed)`,
        });
      }
      lastPosition = event.position;
      events++;
      checkEvent(event, tips, report);
    }
    if (page.length < pageSize) break;
  }
  return { events, streams: tips.size, problems, digest: digestOf(tips) };
}

function checkEvent(event: RecordedEvent | StoredEvent, tips: Map<string, Tip>, report: (problem: LogProblem) => void): void {
  const { stream, revision, position } = event;
  const tip = tips.get(stream) ?? { revision: -1, hash: GENESIS_HASH };
  const at = { stream, revision, position };
  let sequenceBroken = false;
  if (revision > tip.revision + 1) {
    sequenceBroken = true;
    const first = tip.revision + 1;
    const missing = revision - first > 1 ? `revisions ${first}..${revision - 1} are` : `revision ${first} is`;
    // Reported at the first missing revision: that is the event the auditor is looking for.
    report({ kind: 'revision-gap', stream, revision: first, position, message: `${stream}: ${missing} missing before revision ${revision} at position ${position} (removed)` });
  } else if (revision <= tip.revision) {
    sequenceBroken = true;
    report({ kind: 'revision-order', ...at, message: `${stream}: revision ${revision} comes after revision ${tip.revision} (reordered, repeated or inserted)` });
  }

  const expected = tip.hash ?? GENESIS_HASH;
  const checked: LinkCheck = isStored(event) ? checkStoredEvent(expected, event) : checkLink(expected, event);
  if (checked.problem === 'not-json') {
    report({ kind: 'corrupt', ...at, message: `${stream} revision ${revision}: its ${checked.unreadable ?? 'data'} is not JSON (changed outside the store)` });
  } else if (checked.problem === 'missing') {
    report({ kind: 'unsealed', ...at, message: `${stream} revision ${revision}: no hash-chain link (inserted, or written before the chain existed)` });
  } else if (checked.problem === 'hash-mismatch') {
    report({ kind: 'hash-mismatch', ...at, message: `${stream} revision ${revision}: content does not match its hash (changed, or moved from another place)` });
  } else if (checked.problem === 'previous-mismatch' && !sequenceBroken && tip.hash !== undefined) {
    // After a gap or a step back the revision report already names what happened here.
    report({ kind: 'previous-mismatch', ...at, message: `${stream} revision ${revision}: links to another predecessor than revision ${tip.revision} (an earlier event was changed, removed or inserted)` });
  }
  tips.set(stream, { revision: Math.max(revision, tip.revision), hash: checked.hash });
}

function isStored(event: RecordedEvent | StoredEvent): event is StoredEvent {
  return typeof event.metadata === 'string';
}

function digestOf(tips: Map<string, Tip>): string {
  const hash = createHash('sha256');
  for (const stream of [...tips.keys()].sort()) hash.update(`${stream}\n${tips.get(stream)!.hash ?? 'unreadable'}\n`);
  return hash.digest('hex');
}
