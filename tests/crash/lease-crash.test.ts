// A process killed with SIGKILL around the moment a lease expires acts on the lease once after a
// restart (issue 13): whether the kill lands before the expiry, between VM.LEASE.EXPIRED and its stop
// job, or while that job runs, the restarted process (its clock past the expiry) ends with exactly
// one VM.LEASE.EXPIRED, one stop job for the lease, which succeeded, the instance Stopped and one
// VM.STOP usage record. Leases last whole days, so the worker (lease-worker.ts) steps its own clock.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { launch, type Launched } from '../support/child-process.js';

const WORKER = join(import.meta.dirname, 'lease-worker.ts');
/**
 * When the deploy run is killed, in ms after its ready line (300 ms before the expiry): before the
 * expiry, then across the timer's next poll (within a second of it) and the stop job (a second long).
 */
const KILL_AFTER_READY_MS = [0, 500, 1_000, 2_000];

interface Facts {
  state: string;
  expiredActionEvents: number;
  leaseExpiredInLog: number;
  stopJobs: Array<{ id: string; status: string }>;
  leaseJobIds: string[];
  usageStops: number;
  pendingJobs: number;
}

describe('a lease across a SIGKILL at its expiry', () => {
  const dirs: string[] = [];
  const running: Launched[] = [];
  afterAll(async () => {
    for (const child of running) await child.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('acts exactly once after a restart, wherever the kill lands', async () => {
    const landed: string[] = [];
    for (const [round, base] of KILL_AFTER_READY_MS.entries()) {
      const dir = mkdtempSync(join(tmpdir(), 'vmledger-lease-crash-'));
      dirs.push(dir);
      const { process: deploying, match } = await launch(['--import', 'tsx', WORKER, 'deploy', dir], {}, /ready (\S+) (\S+) (-?\d+)\n/, 30_000);
      running.push(deploying);
      const [, instanceId, expiry, offsetMs] = match as unknown as [string, string, string, string];
      const delay = base + Math.floor(Math.random() * 400);
      await new Promise((resolve) => setTimeout(resolve, delay));
      await deploying.kill('SIGKILL');
      expect(await deploying.exited).toBe('SIGKILL');
      // Where the kill landed, as far as the worker saw the log before it (for the message).
      const phases = [...deploying.output().matchAll(/phase (\w+)/g)].map((m) => m[1]);
      const where = `round ${round}, killed ${delay - 300} ms after the expiry, after [${phases.join(', ')}]`;
      landed.push(where);

      const { process: verifying, match: reported } = await launch(['--import', 'tsx', WORKER, 'verify', dir, instanceId, expiry, offsetMs], {}, /facts (\{.*\})\n/, 60_000);
      running.push(verifying);
      const facts = JSON.parse(reported[1]!) as Facts;
      expect(await verifying.exited, where).toBe(0);
      expect(verifying.output(), where).not.toMatch(/error/i);

      expect(facts.leaseExpiredInLog, `${where}: ${JSON.stringify(facts)}`).toBe(1);
      expect(facts.expiredActionEvents, `${where}: ${JSON.stringify(facts)}`).toBe(1);
      expect(facts.stopJobs, `${where}: ${JSON.stringify(facts)}`).toEqual([{ id: facts.leaseJobIds[0], status: 'SUCCEEDED' }]);
      expect(facts.state, where).toBe('Stopped');
      expect(facts.usageStops, where).toBe(1);
      expect(facts.pendingJobs, where).toBe(0);
    }
    console.log(`lease crash rounds:\n  ${landed.join('\n  ')}`);
  }, 90_000);
});
