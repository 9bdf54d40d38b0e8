import { resolve } from 'node:path';
import { DEFAULT_STATE_CACHE_SIZE } from '../adapters/eventstore/commander.js';
import { DEFAULT_HISTORY_CACHE_SIZE } from '../sagas/stream-history.js';
import { DEFAULT_TIMEOUTS } from './stack.js';

/**
 * The main job's JavaScript heap, in MiB, as `npm start` sets it (`--max-old-space-size`). Its
 * caches are bounded, so what it holds live stays near 120 MiB whatever the cloud's size; without a
 * limit V8 lets garbage grow its heap towards a quarter of the machine's memory before collecting it
 * in full (423 MiB of heap, 677 MiB RSS after 10,000 deploys, against 198 and 444 with this limit).
 */
export const MAIN_JOB_HEAP_MIB = 256;

/** The Node options the main job runs with. */
export const MAIN_JOB_NODE_OPTIONS: readonly string[] = [`--max-old-space-size=${MAIN_JOB_HEAP_MIB}`];

/** The process settings API.md names, read once from the environment. */
export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** When set, the log lives in EventStoreDB instead of the embedded SQLite file. */
  readonly eventStoreConnectionString: string | undefined;
  /** The root admin's key; when unset one is generated on first start. */
  readonly adminApiKey: string | undefined;
  /** Seed the demo zone into an empty log. */
  readonly demo: boolean;
  /** When set, the bus is RabbitMQ at this AMQP URL instead of in memory. */
  readonly busUrl: string | undefined;
  /** How long an agent may take to answer a command before the operation fails. */
  readonly agentTimeoutMs: number;
  /** How long a guest may take to shut down on ACPI before a non-forced stop forces it. */
  readonly gracefulStopMs: number;
  /** How many folded stream states the commander keeps (least recently used dropped first). */
  readonly stateCacheSize: number;
  /** How many streams' events the sagas keep between steps (least recently used dropped first). */
  readonly historyCacheSize: number;
}

export function readServerConfig(env: NodeJS.ProcessEnv): ServerConfig {
  const port = Number(env.PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be an integer from 0 to 65535, got ${JSON.stringify(env.PORT)}`);
  }
  return {
    host: env.HOST ?? '127.0.0.1',
    port,
    dataDir: resolve(env.VMLEDGER_DATA_DIR ?? './data'),
    eventStoreConnectionString: env.EVENTSTORE_CONNECTION_STRING || undefined,
    adminApiKey: env.VMLEDGER_ADMIN_API_KEY || undefined,
    demo: (env.VMLEDGER_DEMO ?? '1') !== '0',
    busUrl: env.VMLEDGER_BUS_URL || undefined,
    agentTimeoutMs: milliseconds(env, 'VMLEDGER_AGENT_TIMEOUT_MS', DEFAULT_TIMEOUTS.agentMs),
    gracefulStopMs: milliseconds(env, 'VMLEDGER_GRACEFUL_STOP_MS', DEFAULT_TIMEOUTS.gracefulStopMs),
    stateCacheSize: cacheSize(env, 'VMLEDGER_STATE_CACHE_SIZE', DEFAULT_STATE_CACHE_SIZE),
    historyCacheSize: cacheSize(env, 'VMLEDGER_HISTORY_CACHE_SIZE', DEFAULT_HISTORY_CACHE_SIZE),
  };
}

function cacheSize(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 10_000_000) throw new Error(`${name} must be a whole number of entries from 1 to 10000000, got ${JSON.stringify(text)}`);
  return value;
}

function milliseconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 86_400_000) throw new Error(`${name} must be a whole number of milliseconds from 1 to 86400000, got ${JSON.stringify(text)}`);
  return value;
}
