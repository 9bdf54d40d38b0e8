// `vmledger usage tail` as a child process, SIGKILLed at random moments and started again from its
// checkpoint: the output of all the runs put together is byte for byte the output of one run.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { fileOutput } from '../../api/usage-tail/output.js';
import { tailUsage, type TailFormat } from '../../api/usage-tail/tail.js';
import { instanceStream, usageEventType, type KnownUsageType } from '../../domain/instance/index.js';
import { writeUsageLog } from '../support/usage-log-writer.js';
import { payload } from '../unit/usage/usage-log.js';

const CLI = join(import.meta.dirname, '../../api/cli.ts');

interface Variant {
  readonly format: TailFormat;
  /** stdout redirected (`>>`) to the file, or --output. */
  readonly viaStdout: boolean;
  readonly account: boolean;
}

describe('usage tail killed at random points', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vmledger-tail-crash-'));
    const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
    await writeUsageLog(store, { events: 30_000, streams: 300, perAppend: 20, concurrency: 10, accounts: 3 });
    await store.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function reference(variant: Variant): Promise<string> {
    const file = join(dir, `reference-${variant.format}-${variant.account}.out`);
    if (!existsSync(file)) {
      const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
      await tailUsage({
        store,
        format: variant.format,
        openOutput: (resume) => fileOutput(file, resume, false),
        ...(variant.account ? { accountId: 'acct-1' } : {}),
      });
      await store.close();
    }
    return readFileSync(file, 'utf8');
  }

  /** One run of the CLI; killed with SIGKILL after `killAfterMs` unless it finishes first. */
  async function run(variant: Variant, out: string, checkpoint: string, killAfterMs: number | undefined): Promise<'finished' | 'killed'> {
    const args = ['--import', 'tsx', CLI, 'usage', 'tail', '--data-dir', dir, '--checkpoint', checkpoint, '--format', variant.format, '--batch', '10'];
    if (variant.account) args.push('--account', 'acct-1');
    if (!variant.viaStdout) args.push('--output', out);
    const stdout = variant.viaStdout ? openSync(out, 'a') : 'ignore';
    const child = spawn(process.execPath, args, { stdio: ['ignore', stdout, 'pipe'] });
    if (typeof stdout === 'number') closeSync(stdout);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    const { code, signal } = await exited;
    clearTimeout(timer);
    if (signal === 'SIGKILL') return 'killed';
    expect({ code, stderr: stderr.replace(/^usage tail: .*\n/, '') }).toEqual({ code: 0, stderr: '' });
    return 'finished';
  }

  it('resumes to exactly the uninterrupted output (NDJSON and CSV, stdout and --output)', async () => {
    let trial = 0;
    let killedMidway = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({ format: fc.constantFrom<TailFormat>('ndjson', 'csv'), viaStdout: fc.boolean(), account: fc.boolean() }),
        fc.array(fc.integer({ min: 500, max: 2200 }), { minLength: 2, maxLength: 4 }),
        async (variant, kills) => {
          trial++;
          const out = join(dir, `out-${trial}`);
          const checkpoint = join(dir, `checkpoint-${trial}`);
          const expected = await reference(variant);
          for (const killAfterMs of kills) {
            const outcome = await run(variant, out, checkpoint, killAfterMs);
            const written = existsSync(out) ? statSync(out).size : 0;
            if (outcome === 'killed' && written > 0 && written < Buffer.byteLength(expected)) killedMidway++;
          }
          expect(await run(variant, out, checkpoint, undefined)).toBe('finished');
          const actual = readFileSync(out, 'utf8');
          expect(actual.length).toBe(expected.length);
          expect(actual === expected).toBe(true);
        },
      ),
      { numRuns: 4 },
    );
    // The kills landed while output was being written, not only before or after.
    expect(killedMidway).toBeGreaterThan(1);
  }, 240_000);

  it('follows live events and exits cleanly on SIGTERM, its checkpoint at the last record', async () => {
    const out = join(dir, 'follow.ndjson');
    const checkpoint = join(dir, 'follow.checkpoint');
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'usage', 'tail', '--data-dir', dir, '--from', 'end', '--follow', '--checkpoint', checkpoint, '--output', out], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    await until(() => existsSync(checkpoint));
    const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
    const before = await store.headPosition();
    // Ten appends of a domain event and three usage events each, while the tail waits.
    for (let i = 0; i < 10; i++) {
      const usage = (type: KnownUsageType) => ({ id: randomUUID(), type: usageEventType(type), data: payload({ accountId: 'acct-live' }) });
      await store.append(instanceStream(randomUUID()), [{ id: randomUUID(), type: 'InstanceStarted', data: {} }, usage('VM.START'), usage('NETWORK.OFFERING.ASSIGN'), usage('VOLUME.CREATE')], 'no_stream');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const head = await store.headPosition();
    await store.close();
    await until(() => existsSync(out) && readFileSync(out, 'utf8').split('\n').length - 1 === 30);
    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    const positions = readFileSync(out, 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { position: number }).position);
    expect(positions.every((position) => position > before)).toBe(true);
    expect(JSON.parse(readFileSync(checkpoint, 'utf8'))).toMatchObject({ position: head });
  }, 30_000);
});

async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
