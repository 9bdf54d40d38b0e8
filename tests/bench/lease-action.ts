// Issue 13's delay figure with the real lease path, not stand-in handlers: the whole main job (the
// stack api/main.ts builds: read model, timer service, lease manager, workflows, simulated hosts with
// their agents) over a log that already holds the timers of the other leases and schedules. 1,000
// running instances are deployed with a one-day STOP lease while the clock stands still, so every
// lease expires at the same instant; the clock is then stepped to just before that instant, as a day
// passes. Per lease, the delay from its expiry to the moment its STOP job was opened (the lease acted:
// VM.LEASE.EXPIRED appended and the job under way) and to the moment the job completed (the instance
// is Stopped on its host).
import { MemoryBus } from '../../adapters/bus/memory-bus.js';
import type { Clock } from '../../adapters/clock/port.js';
import { systemClock } from '../../adapters/clock/system-clock.js';
import type { EventStore } from '../../adapters/eventstore/port.js';
import { newCommandKey } from '../../adapters/hypervisor/command-signing.js';
import { SimulatedCloud } from '../../adapters/hypervisor/simulator/index.js';
import { MemorySecretStore } from '../../adapters/secrets/memory-secret-store.js';
import { bootstrapRootAdmin } from '../../api/control-plane/accounts.js';
import { seedDemo } from '../../api/control-plane/demo.js';
import type { JobView } from '../../api/control-plane/port.js';
import { startStack } from '../../api/stack.js';
import { percentile } from './latency.js';
import type { SuiteContext } from './runner.js';

const DAY_MS = 86_400_000;
const DEPLOYERS = 32;
const ADMIN_KEY = 'bench-lease-admin-key-0123456789abcdefghijklmnopqrstuvw';

/** The wall clock, which the bench can hold still and step forward (what is armed with `at` keeps its real deadline). */
class BenchClock implements Clock {
  private offsetMs = 0;
  private heldAt: number | undefined;

  now(): Date {
    return new Date(this.heldAt ?? Date.now() + this.offsetMs);
  }

  at(at: Date, fn: () => void): () => void {
    return systemClock.at(new Date(at.getTime() - (this.now().getTime() - Date.now())), fn);
  }

  hold(): void {
    this.heldAt = this.now().getTime();
  }

  /** Time runs again from where it was held. */
  release(): void {
    if (this.heldAt === undefined) return;
    this.offsetMs = this.heldAt - Date.now();
    this.heldAt = undefined;
  }

  step(ms: number): void {
    this.release();
    this.offsetMs += ms;
  }
}

async function until(what: string, timeoutMs: number, probe: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function leaseActionFigures({ report }: SuiteContext, store: EventStore, readModelDirectory: string, leases: number): Promise<void> {
  const clock = new BenchClock();
  const bus = new MemoryBus();
  const errors: string[] = [];
  const stack = await startStack({
    store,
    readModelDirectory,
    bus,
    clock,
    secrets: new MemorySecretStore(),
    commandKeys: { current: newCommandKey() },
    simulator: new SimulatedCloud(),
    agentIntervals: { heartbeatMs: 600_000, powerSyncMs: 600_000 },
    onError: (error, where) => errors.push(`${where}: ${error instanceof Error ? error.message : String(error)}`),
  });
  try {
    const { controlPlane } = stack;
    const { caller: admin } = await bootstrapRootAdmin(stack.context, ADMIN_KEY);
    const demo = await seedDemo(stack.context, admin, { secrets: new MemorySecretStore(), onHostAdded: stack.hostAdded });
    // Room for every instance of the run beside the demo hosts.
    await controlPlane.addHost(admin, { clusterId: demo.clusterId, name: 'bench-lease-host', driver: 'simulator', cpuNumber: 4096, cpuSpeed: 4000, memory: 16_777_216 });
    await controlPlane.updateConfiguration(admin, { name: 'instance.lease.enabled', value: 'true' });

    const settled = (id: string): JobView | undefined => {
      const job = controlPlane.asyncJob(admin, id);
      return job && job.status !== 'PENDING' ? job : undefined;
    };
    // Held still, so every lease expires at the same instant: a day from now.
    clock.hold();
    const dueMs = clock.now().getTime() + DAY_MS;
    let next = 0;
    const instanceIds: string[] = [];
    await Promise.all(
      Array.from({ length: DEPLOYERS }, async () => {
        for (let n = next++; n < leases; n = next++) {
          const job = await controlPlane.deployVirtualMachine(admin, {
            zoneId: demo.zoneId,
            serviceOfferingId: demo.serviceOfferingIds.small,
            templateId: demo.templateId,
            name: `lease-bench-${n}`,
            leaseDuration: 1,
            leaseExpiryAction: 'STOP',
          });
          await until(`deploy ${n}`, 120_000, () => settled(job.id) !== undefined);
          const done = settled(job.id)!;
          if (done.status !== 'SUCCEEDED' || done.instanceId === null) throw new Error(`deploy ${n} failed: ${JSON.stringify(done.error)}`);
          instanceIds.push(done.instanceId);
        }
      }),
    );
    const expiries = new Set(instanceIds.map((id) => controlPlane.virtualMachine(admin, id)?.leaseExpiryDate));
    if (expiries.size !== 1 || ![...expiries][0] || Date.parse([...expiries][0]!) !== dueMs) {
      throw new Error(`the leases do not all expire at ${new Date(dueMs).toISOString()}: ${[...expiries].slice(0, 3).join(', ')}`);
    }

    // A day passes: the clock steps to 1.5 s before the expiry, and time runs on.
    clock.step(dueMs - 1_500 - clock.now().getTime());
    const stopJobs = (): JobView[] => {
      const all: JobView[] = [];
      for (let after: string | null = null; ; ) {
        const page = controlPlane.asyncJobs(admin, { cmd: 'stopVirtualMachine', first: 500, after });
        all.push(...page.nodes);
        if (!page.pageInfo.hasNextPage) return all;
        after = page.pageInfo.endCursor;
      }
    };
    await until('every lease to have stopped its instance', 300_000, () => {
      const jobs = stopJobs();
      return jobs.length >= leases && jobs.every((job) => job.status !== 'PENDING');
    });
    const jobs = stopJobs();
    const failed = jobs.filter((job) => job.status !== 'SUCCEEDED');
    if (failed.length > 0) throw new Error(`${failed.length} lease STOP jobs failed, e.g. ${JSON.stringify(failed[0]!.error)}`);
    if (jobs.length !== leases) throw new Error(`${jobs.length} STOP jobs for ${leases} leases: a lease acted twice`);
    const opened = jobs.map((job) => Date.parse(job.createdAt) - dueMs);
    const stopped = jobs.map((job) => Date.parse(job.completedAt!) - dueMs);
    if (opened.some((delay) => delay < 0)) throw new Error('a lease acted before its expiry');
    const label = `${leases.toLocaleString('en-US')} leases expiring at one instant, whole stack`;
    report({ name: `due → STOP job opened (lease acted), ${label}, p50`, value: percentile(opened, 50), unit: 'ms' });
    report({ name: 'due → STOP job opened p99 (target < 2,000 ms)', value: percentile(opened, 99), unit: 'ms' });
    report({ name: 'due → STOP job opened max', value: Math.max(...opened), unit: 'ms' });
    report({ name: 'due → instance Stopped on its host (job done), p50', value: percentile(stopped, 50), unit: 'ms' });
    report({ name: 'due → instance Stopped on its host, p99', value: percentile(stopped, 99), unit: 'ms' });
  } finally {
    await stack.stop();
    await bus.close();
    if (errors.length > 0) process.stderr.write(`lease bench: ${errors.length} errors logged, first: ${errors[0]}\n`);
  }
}
