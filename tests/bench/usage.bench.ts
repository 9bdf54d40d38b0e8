// Issue 6's figures: `usage tail` throughput and the rate of `audit verify`'s hash-chain and revision
// check on a 1,000,000-event log of mostly usage events, each beside the raw read + JSON.parse rate of
// the same log measured in the same run (each in a fresh child process), and the peak RSS of both
// over a tenth and over the whole log.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { writeUsageLog } from '../support/usage-log-writer.js';
import type { Figure } from './report.js';

const LOG_EVENTS = 1_000_000;
const ROUNDS = 3;

interface ChildResult {
  readonly count: number;
  readonly seconds: number;
  readonly peak: number;
}

export async function usageFigures(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'vmledger-usage-bench-'));
  try {
    const logPath = join(dir, 'events.sqlite');
    const store = SqliteEventStore.open(logPath);
    // 99 usage events and one domain event per append, ten streams at a time, 10,000 streams.
    await writeUsageLog(store, { events: LOG_EVENTS, streams: 10_000, perAppend: 100, concurrency: 10, accounts: 10 });
    await store.close();

    // Interleaved and best of several, so that a busy moment of the machine does not decide a ratio.
    const runs = { raw: [] as ChildResult[], tail: [] as ChildResult[], verify: [] as ChildResult[] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of ['raw', 'tail', 'verify'] as const) runs[mode].push(child(mode, logPath, 'all', dir));
    }
    const rate = (results: readonly ChildResult[]) => Math.max(...results.map((r) => r.count / r.seconds));
    const raw = rate(runs.raw);
    const tail = rate(runs.tail);
    const verify = rate(runs.verify);
    const figures: Figure[] = [
      { name: 'raw SELECT + JSON.parse of the usage log (limit)', value: raw, unit: 'events/s' },
      { name: 'usage tail: NDJSON to a file, checkpointed', value: tail, unit: 'records/s', ratio: tail / raw },
      { name: 'audit verify: hash chains and revisions', value: verify, unit: 'events/s', ratio: verify / raw },
    ];

    // Flat memory: the peak over the whole log against the peak over its first tenth.
    const tailTenth = child('tail', logPath, String(LOG_EVENTS / 10), dir);
    const verifyTenth = child('verify', logPath, String(LOG_EVENTS / 10), dir);
    figures.push(
      { name: 'usage tail peak RSS, first 100,000 events', value: tailTenth.peak / 2 ** 20, unit: 'MiB' },
      { name: 'usage tail peak RSS, 1,000,000 events', value: Math.max(...runs.tail.map((r) => r.peak)) / 2 ** 20, unit: 'MiB' },
      { name: 'audit verify peak RSS, first 100,000 events', value: verifyTenth.peak / 2 ** 20, unit: 'MiB' },
      { name: 'audit verify peak RSS, 1,000,000 events', value: Math.max(...runs.verify.map((r) => r.peak)) / 2 ** 20, unit: 'MiB' },
    );
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function child(mode: 'raw' | 'tail' | 'verify', logPath: string, limit: string, dir: string): ChildResult {
  const output = execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'usage-child.ts'), mode, logPath, limit, dir], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(output) as ChildResult;
}
