// `node --import tsx tests/bench/scale-generate.ts <data dir> <instances>`: builds the scale suite's
// log the way the main job would have written it. The main job's own parts (api/main.ts's store,
// secrets, command keys, stack, root admin and demo zone) are assembled in this process, and every
// instance goes through the control plane's mutations and the real sagas on simulated hosts:
// deployed and started (one DEPLOY job), stopped (a STOP job), and every fourth one started again
// (a START job), so each leaves its deploy, start and stop events, its usage events and its jobs'
// streams, about ten events in all. Nothing is inserted around the deciders. Each name is claimed on
// a stream of its own (instancename-<account>-<name>), and so is each NIC address
// (networkaddress-<network>-<address>, the NIC on networknic-<network>-<nic>), as the main job claims them since then.
import { join } from 'node:path';
import { MemoryBus } from '../../adapters/bus/memory-bus.js';
import { systemClock } from '../../adapters/clock/system-clock.js';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { SimulatedCloud } from '../../adapters/hypervisor/simulator/index.js';
import { FileSecretStore } from '../../adapters/secrets/file-secret-store.js';
import { openCommandKeys } from '../../api/command-keys.js';
import { bootstrapRootAdmin } from '../../api/control-plane/accounts.js';
import { seedDemo } from '../../api/control-plane/demo.js';
import type { Caller, ControlPlane, JobView } from '../../api/control-plane/port.js';
import { startStack } from '../../api/stack.js';
import { SCALE_ADMIN_KEY } from './scale-admin-key.js';

/** Deployments under way at once while the log is built. */
const CONCURRENCY = 64;
/** Every this many instances, one is started again after its stop and left Running. */
const RUNNING_EVERY = 4;

const [dataDir, sizeText] = process.argv.slice(2);
const instances = Number(sizeText);
if (!dataDir || !Number.isInteger(instances) || instances < 1) throw new Error('usage: scale-generate.ts <data dir> <instances>');

const store = SqliteEventStore.open(join(dataDir, 'events.sqlite'));
const secrets = await FileSecretStore.open(dataDir);
const commandKeys = await openCommandKeys(secrets, dataDir);
const bus = new MemoryBus();
const stack = await startStack({
  store,
  readModelDirectory: dataDir,
  bus,
  clock: systemClock,
  secrets,
  commandKeys,
  simulator: new SimulatedCloud(),
  // The hosts heartbeat and sync their power states as in the main job: a report taken before a
  // stop and recorded after it is ignored (it used to turn the instance Running again, seen at
  // 9,300 instances, and its next start was refused).
  onError: (error, where) => console.error(`${where}:`, error),
  // The build runs 64 deployments at once for as long as it takes; a read model that falls behind
  // for a while only slows it (its lag is printed below), where the main job's 10 s would fail it.
  readYourWritesMs: 600_000,
});
const cp = stack.controlPlane;
const { caller: admin } = await bootstrapRootAdmin(stack.context, SCALE_ADMIN_KEY);
await seedDemo(stack.context, admin, { secrets, onHostAdded: stack.hostAdded });

// A zone with room for every instance (the demo zone's three hosts hold a few dozen), as the api suite builds it.
const zone = ((await cp.createZone(admin, { name: 'scale-zone' })) as { id: string }).id;
const cluster = ((await cp.addCluster(admin, { zoneId: zone, name: 'scale', hypervisor: 'KVM' })) as { id: string }).id;
// Each host as large as addHost takes (the api suite's); one per 6,000 instances left running.
const hostCount = Math.max(4, Math.ceil(instances / RUNNING_EVERY / 6000));
for (let h = 0; h < hostCount; h++) {
  await stack.hostAdded(
    (await cp.addHost(admin, { clusterId: cluster, name: `scale-${h}`, driver: 'simulator', cpuNumber: 4096, cpuSpeed: 4000, memory: 16_777_216 })) as never,
  );
}
await cp.createNetwork(admin, { zoneId: zone, name: 'scale-l2', type: 'L2', vlan: 500 });
const offering = (cp.serviceOfferings(admin, { first: 100 }).nodes as Array<{ id: string; name: string }>).find((o) => o.name === 'Small Instance')!.id;
const template = (
  (await cp.registerTemplate(admin, { zoneId: zone, name: 'scale-linux', osType: 'Debian GNU/Linux 12 (64-bit)', url: 'https://images.invalid/scale.qcow2', size: 2 * 1024 ** 3 })) as {
    id: string;
  }
).id;

/** Resolves with the job once it is no longer PENDING; fails the build if it did not succeed. */
function finished(controlPlane: ControlPlane, caller: Caller, started: JobView): Promise<JobView> {
  return new Promise((resolve, reject) => {
    const settle = (job: JobView | undefined): boolean => {
      if (!job || job.status === 'PENDING') return false;
      if (job.status !== 'SUCCEEDED') reject(new Error(`${job.cmd} job ${job.id} ${job.status}: ${JSON.stringify(job.error)}`));
      else resolve(job);
      return true;
    };
    const stop = controlPlane.onJobUpdated(caller, started.id, (job) => {
      if (settle(job)) stop();
    });
    if (settle(controlPlane.asyncJob(caller, started.id))) stop();
  });
}

// How far the read model lags the log while the build runs: the most seen in each 10,000 instances.
let worstLag = { events: 0, ms: 0 };
let behindSince: number | undefined;
const lagProbe = setInterval(() => {
  void store.headPosition().then((head) => {
    const events = head - stack.readModel.position;
    const now = performance.now();
    behindSince = events > 1000 ? (behindSince ?? now) : undefined;
    worstLag = { events: Math.max(worstLag.events, events), ms: Math.max(worstLag.ms, behindSince === undefined ? 0 : now - behindSince) };
  });
}, 250);
const begun = performance.now();
let next = 0;
let done = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < instances) {
      const n = next++;
      const deployed = await finished(cp, admin, await cp.deployVirtualMachine(admin, { zoneId: zone, serviceOfferingId: offering, templateId: template, name: `scale-${n}` }));
      const id = deployed.instanceId!;
      await finished(cp, admin, await cp.stopVirtualMachine(admin, { id }));
      if (n % RUNNING_EVERY === 0) await finished(cp, admin, await cp.startVirtualMachine(admin, { id }));
      if (++done % 10_000 === 0) {
        const heap = Math.round(process.memoryUsage().heapUsed / 2 ** 20);
        console.error(
          `scale log: ${done.toLocaleString('en-US')} of ${instances.toLocaleString('en-US')} instances, ${Math.round((performance.now() - begun) / 1000)} s; ` +
            `read model at most ${worstLag.events} events behind, over 1,000 behind for at most ${Math.round(worstLag.ms)} ms; heap ${heap} MiB`,
        );
        worstLag = { events: 0, ms: 0 };
      }
    }
  }),
);
clearInterval(lagProbe);
await stack.stop();
await bus.close();
await store.close();
console.log(`generated ${instances} instances in ${Math.round(performance.now() - begun)} ms`);
