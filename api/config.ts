import { resolve } from 'node:path';

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
  };
}
