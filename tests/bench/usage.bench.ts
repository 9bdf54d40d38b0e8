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
import { interleaved, ratioFigure, spreadFigure } from './rounds.js';
import type { SuiteContext } from './runner.js';

const LOG_EVENTS = 1_000_000;

interface ChildResult {
  readonly count: number;
  readonly seconds: number;
  readonly peak: number;
}

export async function usageFigures({ report, rounds }: SuiteContext): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vmledger-usage-bench-'));
  try {
    const logPath = join(dir, 'events.sqlite');
    const store = SqliteEventStore.open(logPath);
    // 99 usage events and one domain event per append, ten streams at a time, 10,000 streams.
    await writeUsageLog(store, { events: LOG_EVENTS, streams: 10_000, perAppend: 100, concurrency: 10, accounts: 10 });
    await store.close();

    // Interleaved, several rounds, so that a busy moment of the machine does not decide a ratio.
    const peaks = { tail: [] as number[], verify: [] as number[] };
    const rate = (mode: 'raw' | 'tail' | 'verify') => () => {
      const result = child(mode, logPath, 'all', dir);
      if (mode !== 'raw') peaks[mode].push(result.peak);
      return result.count / result.seconds;
    };
    const rates = await interleaved(rounds, { raw: rate('raw'), tail: rate('tail'), verify: rate('verify') });
    report(spreadFigure('raw SELECT + JSON.parse of the usage log (limit)', 'events/s', rates.raw));
    report(ratioFigure('usage tail: NDJSON to a file, checkpointed', 'records/s', rates.tail, rates.raw));
    report(ratioFigure('audit verify: hash chains and revisions', 'events/s', rates.verify, rates.raw));

    // Flat memory: the peak over the whole log against the peak over its first tenth.
    const mib = (bytes: number) => bytes / 2 ** 20;
    report({ name: 'usage tail peak RSS, first 100,000 events', value: mib(child('tail', logPath, String(LOG_EVENTS / 10), dir).peak), unit: 'MiB' });
    report({ name: 'usage tail peak RSS, 1,000,000 events', value: mib(Math.max(...peaks.tail)), unit: 'MiB' });
    report({ name: 'audit verify peak RSS, first 100,000 events', value: mib(child('verify', logPath, String(LOG_EVENTS / 10), dir).peak), unit: 'MiB' });
    report({ name: 'audit verify peak RSS, 1,000,000 events', value: mib(Math.max(...peaks.verify)), unit: 'MiB' });
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
