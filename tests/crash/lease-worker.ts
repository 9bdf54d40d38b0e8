// Child process of the lease crash test: the whole stack in-process, as api/main.ts builds it (SQLite
// log, file secrets and command keys in the data directory, simulated hosts, GraphQL on port 0), on a
// clock this process steps forward by days.
//
//   deploy DIR            seeds the demo zone, turns leases on, deploys a Running instance with a
//                         one-day STOP lease on a host that takes a while to stop, steps the clock to
//                         just before the expiry and prints `ready <instanceId> <expiry> <offsetMs>`;
//                         then prints `phase expired` / `phase stopped` as the log shows them, until
//                         the parent kills it with SIGKILL.
//   verify DIR ID EXPIRY OFFSET
//                         restarts on the same directory with the clock past the expiry (and never
//                         behind the killed process's), waits until the lease has acted and the jobs
//                         are done, and prints `facts <json>`.
import { join } from 'node:path';
import { GraphQLClient } from 'graphql-request';
import { MemoryBus } from '../../adapters/bus/memory-bus.js';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { SimulatedCloud } from '../../adapters/hypervisor/simulator/index.js';
import { FileSecretStore } from '../../adapters/secrets/file-secret-store.js';
import { openCommandKeys } from '../../api/command-keys.js';
import { bootstrapRootAdmin } from '../../api/control-plane/accounts.js';
import { seedDemo } from '../../api/control-plane/demo.js';
import { createGraphqlServer } from '../../api/graphql/server.js';
import { startStack } from '../../api/stack.js';
import { instanceStream } from '../../domain/instance/index.js';
import { SteppedClock } from '../support/stepped-clock.js';

const ADMIN_KEY = 'lease-crash-admin-key-0123456789abcdefghijkl';
/** How long before the expiry the deploy run stops its clock's step, for the parent to kill around it. */
export const READY_BEFORE_EXPIRY_MS = 300;

const [mode, dir, instanceArg, expiryArg, offsetArg] = process.argv.slice(2) as [string, string, string?, string?, string?];
const clock = new SteppedClock();
if (mode === 'verify') {
  // Past the expiry, and at least where the killed process's clock had got to: time does not go back.
  clock.step(Math.max(Number(offsetArg), Date.parse(expiryArg!) + 1_000 - Date.now()));
}

const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
const emptyLog = (await store.headPosition()) === 0;
const secrets = await FileSecretStore.open(dir);
const stack = await startStack({
  store,
  readModelDirectory: dir,
  bus: new MemoryBus(),
  clock,
  secrets,
  commandKeys: await openCommandKeys(secrets, dir),
  simulator: new SimulatedCloud(),
  timeouts: { agentMs: 20_000, gracefulStopMs: 500 },
  onError: (error, where) => process.stderr.write(`${where}: ${String(error)}\n`),
});
const { caller: admin } = await bootstrapRootAdmin(stack.context, ADMIN_KEY);
const demo = emptyLog ? await seedDemo(stack.context, admin, { secrets, onHostAdded: stack.hostAdded }) : undefined;
const server = await createGraphqlServer({ controlPlane: stack.controlPlane, logger: { error: (message, error) => process.stderr.write(`${message}: ${String(error)}\n`) } });
await new Promise<void>((resolve) => server.httpServer.listen(0, '127.0.0.1', resolve));
const { port } = server.httpServer.address() as { port: number };
const gql = new GraphQLClient(`http://127.0.0.1:${port}/graphql`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined || Date.now() > deadline) return found;
    await sleep(50);
  }
}

interface Vm {
  state: string;
  leaseExpiryDate: string | null;
}
const vm = async (id: string) => (await gql.request<{ virtualMachine: Vm }>(`query($id: ID!) { virtualMachine(id: $id) { state leaseExpiryDate } }`, { id })).virtualMachine;

if (mode === 'deploy') {
  await gql.request(`mutation { updateConfiguration(name: "instance.lease.enabled", value: "true") { name } }`);
  // A lease still PENDING after its action is looked at again every second (not hourly): a lease that
  // could act twice does so while the verify run watches.
  await gql.request(`mutation { updateConfiguration(name: "instance.lease.scheduler.interval", value: "1") { name } }`);
  // A stop that takes a second, so that a kill can land while the lease's stop job runs.
  const { addHost } = await gql.request<{ addHost: { id: string } }>(
    `mutation($c: ID!) { addHost(clusterId: $c, name: "slow-stop", driver: "simulator", cpuNumber: 8, memory: 16384, simulator: { stopDelayMs: 1000 }) { id } }`,
    { c: demo!.clusterId },
  );
  const { deployVirtualMachine } = await gql.request<{ deployVirtualMachine: { id: string } }>(
    `mutation($z: ID!, $s: ID!, $t: ID!, $h: ID) {
      deployVirtualMachine(zoneId: $z, serviceOfferingId: $s, templateId: $t, name: "leased", hostId: $h, leaseDuration: 1, leaseExpiryAction: STOP) { id } }`,
    { z: demo!.zoneId, s: demo!.serviceOfferingIds.small, t: demo!.templateId, h: addHost.id },
  );
  const job = await until(
    'the deployment',
    async () => {
      const { asyncJob } = await gql.request<{ asyncJob: { status: string; instanceId: string | null; error: unknown } }>(
        `query($id: ID!) { asyncJob(id: $id) { status instanceId error { code message } } }`,
        { id: deployVirtualMachine.id },
      );
      return asyncJob.status === 'PENDING' ? undefined : asyncJob;
    },
    20_000,
  );
  if (job?.status !== 'SUCCEEDED') throw new Error(`deploy: ${JSON.stringify(job)}`);
  const instanceId = job.instanceId!;
  const running = await vm(instanceId);
  if (running.state !== 'Running' || running.leaseExpiryDate === null) throw new Error(`deployed: ${JSON.stringify(running)}`);
  clock.step(Date.parse(running.leaseExpiryDate) - READY_BEFORE_EXPIRY_MS - clock.now().getTime());
  const offsetMs = clock.now().getTime() - Date.now();
  process.stdout.write(`ready ${instanceId} ${running.leaseExpiryDate} ${offsetMs}\n`);
  // Where the run got to, as the log shows it, for the parent to tell where its kill landed.
  const seen = new Set<string>();
  for (;;) {
    for (const event of await store.readStream(instanceStream(instanceId))) {
      const phase = event.type === 'LeaseExpired' ? 'expired' : event.type === 'InstanceStopped' ? 'stopped' : undefined;
      if (phase && !seen.has(phase)) {
        seen.add(phase);
        process.stdout.write(`phase ${phase}\n`);
      }
    }
    await sleep(10);
  }
}

if (mode === 'verify') {
  const instanceId = instanceArg!;
  interface JobRow {
    id: string;
    status: string;
  }
  const stopJobs = async () =>
    (
      await gql.request<{ asyncJobs: { nodes: JobRow[] } }>(`query($id: ID) { asyncJobs(instanceId: $id, cmd: "stopVirtualMachine", first: 50) { nodes { id status } } }`, {
        id: instanceId,
      })
    ).asyncJobs.nodes;
  const pendingJobs = async () =>
    (await gql.request<{ asyncJobs: { nodes: JobRow[] } }>(`query($id: ID) { asyncJobs(instanceId: $id, status: PENDING, first: 50) { nodes { id status } } }`, { id: instanceId }))
      .asyncJobs.nodes;
  await until('the lease acted and every job ended', async () => ((await vm(instanceId)).state === 'Stopped' && (await pendingJobs()).length === 0 ? true : undefined), 20_000);
  // Two more polls of the timer service: a second action, if the lease had one left in it, is under way by then.
  await sleep(2_500);
  await until('every job ended', async () => ((await pendingJobs()).length === 0 ? true : undefined), 10_000);

  const log = await store.readStream(instanceStream(instanceId));
  const { events } = await gql.request<{ events: { totalCount: number } }>(`query($id: ID) { events(resourceId: $id, type: "VM.LEASE.EXPIRED", first: 50) { totalCount } }`, {
    id: instanceId,
  });
  const { usageEvents } = await gql.request<{ usageEvents: { nodes: Array<{ resourceId: string }> } }>(`{ usageEvents(type: "VM.STOP", first: 500) { nodes { resourceId } } }`);
  const leaseJobIds = log.filter((e) => e.type === 'LeaseExpired').map((e) => (e.data as { jobId: string }).jobId);
  const facts = {
    state: (await vm(instanceId)).state,
    expiredActionEvents: events.totalCount,
    leaseExpiredInLog: leaseJobIds.length,
    stopJobs: await stopJobs(),
    leaseJobIds,
    usageStops: usageEvents.nodes.filter((e) => e.resourceId === instanceId).length,
    pendingJobs: (await pendingJobs()).length,
  };
  process.stdout.write(`facts ${JSON.stringify(facts)}\n`);
  await server.stop();
  await stack.stop();
  await store.close();
  process.exit(0);
}
