// The main job: the embedded log (or EventStoreDB), the in-memory bus, simulated hosts with their
// agents, the orchestrator and the GraphQL API, in one process. SIGTERM/SIGINT drain in-flight work
// and exit; a restart resumes where the last run stopped.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AmqpBus } from '../adapters/bus/amqp-bus.js';
import { MemoryBus } from '../adapters/bus/memory-bus.js';
import type { Bus } from '../adapters/bus/port.js';
import { systemClock } from '../adapters/clock/system-clock.js';
import { EsdbEventStore } from '../adapters/eventstore/esdb/esdb-event-store.js';
import type { EventStore } from '../adapters/eventstore/port.js';
import { SqliteEventStore } from '../adapters/eventstore/sqlite/sqlite-event-store.js';
import { SimulatedCloud } from '../adapters/hypervisor/simulator/index.js';
import { FileSecretStore } from '../adapters/secrets/file-secret-store.js';
import { openCommandKeys } from './command-keys.js';
import { bootstrapRootAdmin } from './control-plane/accounts.js';
import { DEMO, DEMO_DISK_IMAGE, DEMO_UNMANAGED_DOMAIN, seedDemo } from './control-plane/demo.js';
import { listHosts } from '../projections/infrastructure/index.js';
import { readServerConfig } from './config.js';
import { createGraphqlServer } from './graphql/server.js';
import { startStack } from './stack.js';

const config = readServerConfig(process.env);
mkdirSync(config.dataDir, { recursive: true });
const store: EventStore = config.eventStoreConnectionString
  ? EsdbEventStore.connect(config.eventStoreConnectionString)
  : SqliteEventStore.open(join(config.dataDir, 'events.sqlite'));
const emptyLog = (await store.headPosition()) === 0;
const secrets = await FileSecretStore.open(config.dataDir);
const commandKeys = await openCommandKeys(secrets, config.dataDir);
const bus: Bus = config.busUrl ? await AmqpBus.connect(config.busUrl) : new MemoryBus();
const simulator = new SimulatedCloud();
const stack = await startStack({
  store,
  readModelDirectory: config.dataDir,
  bus,
  clock: systemClock,
  secrets,
  commandKeys,
  simulator,
  timeouts: { agentMs: config.agentTimeoutMs, gracefulStopMs: config.gracefulStopMs },
  cacheSizes: { states: config.stateCacheSize, histories: config.historyCacheSize },
});

const { key: adminKey, generated } = adminApiKey(config.dataDir);
const { caller: admin } = await bootstrapRootAdmin(stack.context, adminKey);
if (emptyLog && config.demo) await seedDemo(stack.context, admin, { secrets, onHostAdded: stack.hostAdded });
if (config.demo) {
  const first = listHosts(stack.readModel.db, { first: 500 }).nodes.find((host) => host.name === DEMO.hosts[0]);
  const driver = first && simulator.host(first.id);
  if (driver && driver.powerStateOf(DEMO_UNMANAGED_DOMAIN.name) === 'missing') driver.addUnmanagedDomain(DEMO_UNMANAGED_DOMAIN);
  simulator.addDiskImage(DEMO_DISK_IMAGE.path, DEMO_DISK_IMAGE.definition);
}

const server = await createGraphqlServer({ controlPlane: stack.controlPlane });
server.httpServer.listen(config.port, config.host, () => {
  const address = server.httpServer.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const log = config.eventStoreConnectionString ? 'EventStoreDB' : 'embedded SQLite';
  console.log(`vmledger listening on http://${config.host}:${port}/graphql (${log} log, data: ${config.dataDir})`);
  console.log(`web console on http://${config.host}:${port}/ (sign in with an API key)`);
  if (generated) console.log(`root admin API key (shown once, kept in ${join(config.dataDir, 'admin-api-key')}): ${adminKey}`);
});

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: draining`);
  await server.stop();
  await stack.stop();
  await bus.close();
  await store.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

/** VMLEDGER_ADMIN_API_KEY, or one generated on first start and kept (0600) in the data directory. */
function adminApiKey(dataDir: string): { key: string; generated: boolean } {
  if (config.adminApiKey) return { key: config.adminApiKey, generated: false };
  const file = join(dataDir, 'admin-api-key');
  if (existsSync(file)) return { key: readFileSync(file, 'utf8').trim(), generated: false };
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { key, generated: true };
}
