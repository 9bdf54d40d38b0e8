import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../../../adapters/eventstore/port.js';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { readCheckpoint, writeCheckpoint } from '../../../api/usage-tail/checkpoint.js';
import { fileOutput, streamOutput } from '../../../api/usage-tail/output.js';
import { csvHeader } from '../../../api/usage-tail/record.js';
import { PositionBeyondHeadError, UnknownPositionError, UnknownUsageTypeError, tailUsage, type TailOptions } from '../../../api/usage-tail/tail.js';
import { instanceStream, usageEventType, type KnownUsageType } from '../../../domain/instance/index.js';
import { EsdbEventStore } from '../../../adapters/eventstore/esdb/esdb-event-store.js';
import { FakeEsdbServer } from '../eventstore/esdb/fake-esdb.js';
import { payload } from './usage-log.js';

describe('usage tail', () => {
  let dir: string;
  let store: SqliteEventStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vmledger-tail-'));
    store = SqliteEventStore.open(join(dir, 'events.sqlite'), { pollIntervalMs: 10 });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Appends a domain event and a usage event per entry, to one instance stream each. */
  async function append(...entries: Array<[type: KnownUsageType, account: string]>): Promise<number[]> {
    const positions: number[] = [];
    for (const [type, account] of entries) {
      const result = await store.append(
        instanceStream(randomUUID()),
        [
          { id: randomUUID(), type: 'InstanceSomething', data: {} },
          { id: randomUUID(), type: usageEventType(type), data: payload({ accountId: account }) },
        ],
        'no_stream',
      );
      positions.push(result.positions[1]!);
    }
    return positions;
  }

  function memory(): { text: () => string; open: TailOptions['openOutput'] } {
    let text = '';
    const sink = { write: (chunk: string, done: (error?: Error | null) => void) => ((text += chunk), done(), true) } as unknown as NodeJS.WritableStream;
    return { text: () => text, open: () => streamOutput(sink) };
  }

  const records = (text: string) =>
    text
      .trim()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { position: number; type: string; accountId: string });

  it('writes every usage event in log order and nothing else', async () => {
    const positions = await append(['VM.CREATE', 'a'], ['VM.START', 'b'], ['VM.STOP', 'a']);
    const out = memory();
    const result = await tailUsage({ store, openOutput: out.open });
    expect(records(out.text()).map((r) => [r.position, r.type])).toEqual([
      [positions[0], 'VM.CREATE'],
      [positions[1], 'VM.START'],
      [positions[2], 'VM.STOP'],
    ]);
    expect(result).toEqual({ records: 3, position: await store.headPosition() });
  });

  it('filters by type (exactly, repeatable) and by account', async () => {
    await append(['VM.CREATE', 'a'], ['VM.START', 'b'], ['VM.STOP', 'a'], ['VM.START', 'a'], ['VOLUME.CREATE', 'a']);
    const byType = memory();
    await tailUsage({ store, openOutput: byType.open, types: ['VM.START', 'VOLUME.CREATE'] });
    expect(records(byType.text()).map((r) => r.type)).toEqual(['VM.START', 'VM.START', 'VOLUME.CREATE']);
    const byAccount = memory();
    await tailUsage({ store, openOutput: byAccount.open, accountId: 'a', types: ['VM.START'] });
    expect(records(byAccount.text()).map((r) => [r.type, r.accountId])).toEqual([['VM.START', 'a']]);
    await expect(tailUsage({ store, openOutput: memory().open, types: ['VM.BOOT'] })).rejects.toBeInstanceOf(UnknownUsageTypeError);
  });

  it('starts after an exclusive position, or at the end', async () => {
    const positions = await append(['VM.CREATE', 'a'], ['VM.START', 'a'], ['VM.STOP', 'a']);
    const from = memory();
    await tailUsage({ store, openOutput: from.open, from: positions[0]! });
    expect(records(from.text()).map((r) => r.position)).toEqual(positions.slice(1));
    const end = memory();
    expect(await tailUsage({ store, openOutput: end.open, from: 'end' })).toEqual({ records: 0, position: await store.headPosition() });
  });

  it('resumes from its checkpoint, which also moves past filtered-out events', async () => {
    const checkpointFile = join(dir, 'tail.checkpoint');
    await append(['VM.CREATE', 'a'], ['VM.START', 'b']);
    const first = memory();
    // The type filter keeps VM.START from reaching the tail at all: the subscription's own position moves the checkpoint.
    await tailUsage({ store, openOutput: first.open, checkpointFile, accountId: 'a', types: ['VM.CREATE', 'VM.STOP'] });
    expect(readCheckpoint(checkpointFile)).toEqual({ position: await store.headPosition(), output: null });
    const later = await append(['VM.STOP', 'b'], ['VM.STOP', 'a']);
    const second = memory();
    await tailUsage({ store, openOutput: second.open, checkpointFile, accountId: 'a', types: ['VM.CREATE', 'VM.STOP'], from: 'start' });
    expect(records(second.text()).map((r) => r.position)).toEqual([later[1]]);
    expect(readCheckpoint(checkpointFile)?.position).toBe(await store.headPosition());
  });

  it('cuts a file back to its checkpointed length, so a run killed after a write repeats nothing', async () => {
    await append(['VM.CREATE', 'a'], ['VM.START', 'a'], ['VM.STOP', 'a'], ['VM.DESTROY', 'a']);
    const reference = join(dir, 'reference.ndjson');
    await tailUsage({ store, openOutput: (resume) => fileOutput(reference, resume, true) });

    const out = join(dir, 'out.ndjson');
    const checkpointFile = join(dir, 'out.checkpoint');
    await tailUsage({ store, openOutput: (resume) => fileOutput(out, resume, true), checkpointFile, maxBatch: 1 });
    // Rewind the checkpoint to after the second record, and leave half a record behind it: a kill
    // between a write and its checkpoint, mid-line.
    const lines = readFileSync(reference, 'utf8').split('\n');
    const kept = `${lines.slice(0, 2).join('\n')}\n`;
    const checkpoint = readCheckpoint(checkpointFile)!;
    writeCheckpoint(checkpointFile, { position: (JSON.parse(lines[1]!) as { position: number }).position, output: { ...checkpoint.output!, bytes: Buffer.byteLength(kept) } });
    writeFileSync(out, kept);
    appendFileSync(out, lines[2]!.slice(0, 40));
    await tailUsage({ store, openOutput: (resume) => fileOutput(out, resume, true), checkpointFile });
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(reference, 'utf8'));
  });

  it('writes the CSV header only into an empty output', async () => {
    await append(['VM.CREATE', 'a']);
    const out = join(dir, 'out.csv');
    const checkpointFile = join(dir, 'csv.checkpoint');
    await tailUsage({ store, format: 'csv', openOutput: (resume) => fileOutput(out, resume, true), checkpointFile });
    await append(['VM.START', 'a']);
    await tailUsage({ store, format: 'csv', openOutput: (resume) => fileOutput(out, resume, true), checkpointFile });
    const rows = readFileSync(out, 'utf8').trim().split('\n');
    expect(rows[0]).toBe(csvHeader().trim());
    expect(rows.slice(1).map((row) => row.split(',')[3])).toEqual(['VM.CREATE', 'VM.START']);
    const noHeader = memory();
    await tailUsage({ store, format: 'csv', header: false, openOutput: noHeader.open });
    expect(noHeader.text().split('\n')[0]).not.toBe(csvHeader().trim());
  });

  it('follows live events until aborted, then writes what it has and checkpoints it', async () => {
    await append(['VM.CREATE', 'a']);
    const out = memory();
    const checkpointFile = join(dir, 'follow.checkpoint');
    const abort = new AbortController();
    const running = tailUsage({ store, openOutput: out.open, follow: true, from: 'end', checkpointFile, signal: abort.signal });
    await until(() => readCheckpoint(checkpointFile) !== undefined);
    const live = await append(['VM.START', 'a'], ['VM.STOP', 'a']);
    await until(() => records(out.text()).length === 2);
    abort.abort();
    const result = await running;
    expect(records(out.text()).map((r) => r.position)).toEqual(live);
    expect(result.records).toBe(2);
    expect(readCheckpoint(checkpointFile)?.position).toBe(live[1]);
  });

  it('writes the same text from a store that hands over parsed events only', async () => {
    await append(['VM.CREATE', 'a'], ['NETWORK.OFFERING.ASSIGN', 'b'], ['VM.START', 'a']);
    const parsedOnly: EventStore = {
      append: (...args) => store.append(...args),
      readStream: (...args) => store.readStream(...args),
      readAll: (...args) => store.readAll(...args),
      subscribe: (...args) => store.subscribe(...args),
      headPosition: () => store.headPosition(),
      isPosition: (position) => store.isPosition(position),
      close: async () => undefined,
    };
    for (const format of ['ndjson', 'csv'] as const) {
      const fromText = memory();
      const fromParsed = memory();
      await tailUsage({ store, format, openOutput: fromText.open });
      await tailUsage({ store: parsedOnly, format, openOutput: fromParsed.open });
      expect(fromParsed.text()).toBe(fromText.text());
      expect(fromText.text().split('\n').length).toBeGreaterThan(3);
    }
  });

  it('accepts as a start only a position the log handed out: EventStoreDB\'s are sparse byte offsets', async () => {
    const server = new FakeEsdbServer('23.10');
    const esdb = EsdbEventStore.withClient(server.client());
    try {
      const created = await esdb.append('instance-1', [{ id: randomUUID(), type: 'usage.VM.CREATE', data: payload({ accountId: 'a' }) }], 'no_stream');
      const started = await esdb.append('instance-1', [{ id: randomUUID(), type: 'usage.VM.START', data: payload({ accountId: 'a' }) }], 0);
      const checkpointFile = join(dir, 'sparse.checkpoint');
      const out = memory();
      // One past a record is no position on EventStoreDB: refused, with nothing written.
      const refused = tailUsage({ store: esdb, openOutput: out.open, checkpointFile, from: created.positions[0]! + 1 });
      await expect(refused).rejects.toBeInstanceOf(UnknownPositionError);
      expect(existsSync(checkpointFile)).toBe(false);
      expect(out.text()).toBe('');
      const result = await tailUsage({ store: esdb, openOutput: out.open, from: created.positions[0]! });
      expect(records(out.text()).map((r) => r.position)).toEqual([started.positions[0]]);
      expect(result.position).toBeGreaterThanOrEqual(started.positions[0]!);
    } finally {
      await esdb.close();
    }
  });

  it('refuses a start position beyond the end of the log, writing neither a checkpoint nor output', async () => {
    await append(['VM.CREATE', 'a'], ['VM.START', 'a']);
    const head = await store.headPosition();
    const checkpointFile = join(dir, 'far.checkpoint');
    const out = memory();
    const refused = tailUsage({ store, openOutput: out.open, checkpointFile, from: 99_999_999 });
    await expect(refused).rejects.toBeInstanceOf(PositionBeyondHeadError);
    await expect(refused).rejects.toThrow(`start position 99999999 is beyond the end of the log (its last position is ${head})`);
    expect(existsSync(checkpointFile)).toBe(false);
    expect(out.text()).toBe('');
    // Events appended later are all there for the next run: nothing was skipped.
    const later = await append(['VM.STOP', 'a']);
    const next = memory();
    await tailUsage({ store, openOutput: next.open, checkpointFile });
    expect(records(next.text()).map((r) => r.position)).toContain(later[0]);
    // The head itself is no further than the log goes.
    await expect(tailUsage({ store, openOutput: memory().open, from: await store.headPosition() })).resolves.toMatchObject({ records: 0 });
  });

  it('refuses a checkpoint beyond the end of the log, leaving it and the output file as they were', async () => {
    await append(['VM.CREATE', 'a']);
    const head = await store.headPosition();
    const checkpointFile = join(dir, 'far.checkpoint');
    const out = join(dir, 'far.ndjson');
    writeFileSync(out, '{"position":1}\n');
    writeCheckpoint(checkpointFile, { position: head + 1000, output: { dev: 0, ino: 0, bytes: 0 } });
    const before = readFileSync(checkpointFile, 'utf8');
    const refused = tailUsage({ store, openOutput: (resume) => fileOutput(out, resume, true), checkpointFile });
    await expect(refused).rejects.toBeInstanceOf(PositionBeyondHeadError);
    await expect(refused).rejects.toThrow(`checkpoint ${checkpointFile} holds position ${head + 1000}, beyond the end of the log (its last position is ${head})`);
    expect(readFileSync(checkpointFile, 'utf8')).toBe(before);
    expect(readFileSync(out, 'utf8')).toBe('{"position":1}\n');
  });

  it('vmledger usage tail exits non-zero on either, naming the position and the head', () => {
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../../api/cli.ts'), 'usage', 'tail', '--data-dir', dir, ...args], { encoding: 'utf8' });
    const checkpointFile = join(dir, 'cli.checkpoint');
    const from = cli('--from', '99999999', '--checkpoint', checkpointFile);
    expect(from.status).toBe(2);
    expect(from.stderr).toContain('vmledger: --from 99999999 is beyond the end of the log (its last position is 0)');
    expect(existsSync(checkpointFile)).toBe(false);
    writeCheckpoint(checkpointFile, { position: 99_999_999, output: null });
    const resumed = cli('--checkpoint', checkpointFile);
    expect(resumed.status).toBe(1);
    expect(resumed.stderr).toContain(`vmledger: checkpoint ${checkpointFile} holds position 99999999, beyond the end of the log`);
    expect(readCheckpoint(checkpointFile)).toEqual({ position: 99_999_999, output: null });
  }, 30_000);

  it('refuses a checkpoint file it did not write', async () => {
    const checkpointFile = join(dir, 'bad.checkpoint');
    writeFileSync(checkpointFile, '{"position": -4}');
    await expect(tailUsage({ store, openOutput: memory().open, checkpointFile })).rejects.toThrow('has no position');
  });
});

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
