// The composition root of the main job: the embedded event store and read model in the data
// directory, served over HTTP. SIGTERM/SIGINT close the listener, then the read model, then the log.
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import express from 'express';
import { EsdbEventStore } from '../adapters/eventstore/esdb/esdb-event-store.js';
import type { EventStore } from '../adapters/eventstore/port.js';
import { SqliteEventStore } from '../adapters/eventstore/sqlite/sqlite-event-store.js';
import { ReadModel } from '../projections/read-model.js';
import { readServerConfig } from './config.js';
import { healthHandler } from './health.js';
import { projections } from './projections.js';

const config = readServerConfig(process.env);
mkdirSync(config.dataDir, { recursive: true });
const store: EventStore = config.eventStoreConnectionString
  ? EsdbEventStore.connect(config.eventStoreConnectionString)
  : SqliteEventStore.open(join(config.dataDir, 'events.sqlite'));
const readModel = await ReadModel.open({
  store,
  projections,
  directory: config.dataDir,
  onError: (error) => console.error('read model stopped:', error),
});

const app = express();
app.disable('x-powered-by');
app.get('/healthz', healthHandler(store, readModel));

const server: Server = app.listen(config.port, config.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const log = config.eventStoreConnectionString ? 'EventStoreDB' : 'embedded SQLite';
  console.log(`vmledger listening on http://${config.host}:${port} (${log} log, data: ${config.dataDir}, read model at ${readModel.position})`);
});

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping`);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await readModel.close();
  await store.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
