// The subcommands of `vmledger` other than `serve`: argument parsing and wiring only; the work is in
// api/usage-tail/ and api/audit/. Exit status: 0 done (verify: passed), 1 failed, 2 bad usage.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { FromPosition } from '../../adapters/eventstore/port.js';
import { AgentConfigError, parseAgentConfig, parseBusUrl, type AgentConfig } from '../agent/agent-config.js';
import { serveHosts } from '../agent/serve-hosts.js';
import { FileSecretStore } from '../../adapters/secrets/file-secret-store.js';
import { replayStreams } from '../audit/replay.js';
import { AGENT_COMMAND_KEYS_FILE, rotateStoredCommandKeys } from '../command-keys.js';
import { verifyLog } from '../audit/verify.js';
import { projections } from '../projections.js';
import { fileOutput, isRegularFile, streamOutput } from '../usage-tail/output.js';
import { PositionBeyondHeadError, UnknownPositionError, tailUsage, type TailFormat } from '../usage-tail/tail.js';
import { openLog } from './log.js';

export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  /** The descriptor behind stdout: a regular file there is written as one (cut back on resume, synced). */
  readonly stdoutFd: number;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  /** Aborted on SIGTERM/SIGINT. */
  readonly signal: AbortSignal;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const HELP = `usage: vmledger <command>

  serve                         the main job (the same as npm start)
  usage tail [options]          usage events from the log, in log order
      --from start|end|<pos>    where to begin without a checkpoint (exclusive; a position the log
                                handed out, e.g. a record's; default start)
      --checkpoint <file>       resume from, and keep, a checkpoint
      --type <TYPE>             only this usage type, e.g. VM.START (repeatable)
      --account <id>            only this account's events
      --follow                  keep reading live events until SIGTERM/SIGINT
      --format ndjson|csv       default ndjson
      --no-header               csv: never write the header line
      --output <file>           append to this file instead of stdout
      --batch <n>               records per write at most (default 5000)
  audit replay [--stream <name>] [--as-of <ISO time>]
                                fold streams from the log and print their states as JSON lines
  audit verify                  check hash chains, revisions and the read models; exit 1 on failure
  agent --config <file> [--bus <amqp url>]
                                serve the KVM hosts of <file> over RabbitMQ until SIGTERM/SIGINT
                                (the bus: --bus, the file's busUrl, or VMLEDGER_BUS_URL)
  agent-keys rotate             a new key for signing agent commands (the old one stays valid as the
                                previous): give the agents the new agent-command-keys.json of the
                                data directory, then restart the main job

  --data-dir <dir>              the data directory (default VMLEDGER_DATA_DIR or ./data);
                                EVENTSTORE_CONNECTION_STRING selects EventStoreDB instead
`;

export async function runCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const [group, command, ...rest] = argv;
  if (group === 'usage' && command === 'tail') return usageTail(rest, io);
  if (group === 'audit' && command === 'replay') return auditReplay(rest, io);
  if (group === 'audit' && command === 'verify') return auditVerify(rest, io);
  if (group === 'agent') return agent(argv.slice(1), io);
  if (group === 'agent-keys' && command === 'rotate') return agentKeysRotate(rest, io);
  throw new UsageError(group === undefined || group === 'help' || group === '--help' ? '' : `unknown command: ${argv.join(' ')}`);
}

async function usageTail(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {
    from: { type: 'string' },
    checkpoint: { type: 'string' },
    type: { type: 'string', multiple: true },
    account: { type: 'string' },
    follow: { type: 'boolean' },
    format: { type: 'string' },
    'no-header': { type: 'boolean' },
    output: { type: 'string' },
    batch: { type: 'string' },
    'data-dir': { type: 'string' },
  });
  const format = values.format ?? 'ndjson';
  if (format !== 'ndjson' && format !== 'csv') throw new UsageError(`--format must be ndjson or csv, got ${format}`);
  const from = parseFrom(values.from);
  const maxBatch = values.batch === undefined ? undefined : positiveInteger(values.batch, '--batch');
  const log = openLog(values['data-dir'], io.env);
  const checkpointed = values.checkpoint !== undefined;
  try {
    const result = await tailUsage({
      store: log.store,
      from,
      types: values.type ?? [],
      follow: values.follow ?? false,
      format: format satisfies TailFormat,
      openOutput: (resume) =>
        values.output !== undefined
          ? fileOutput(values.output, resume, checkpointed)
          : isRegularFile(io.stdoutFd)
            ? fileOutput(io.stdoutFd, resume, checkpointed)
            : streamOutput(io.stdout),
      signal: io.signal,
      ...(values.checkpoint !== undefined ? { checkpointFile: values.checkpoint } : {}),
      ...(values.account !== undefined ? { accountId: values.account } : {}),
      ...(values['no-header'] ? { header: false } : {}),
      ...(maxBatch !== undefined ? { maxBatch } : {}),
    });
    io.stderr.write(`usage tail: ${result.records} record(s), up to position ${result.position}\n`);
    return 0;
  } catch (error) {
    if (error instanceof PositionBeyondHeadError && error.source === 'from') {
      throw new UsageError(`--from ${error.position} is beyond the end of the log (its last position is ${error.head})`);
    }
    if (error instanceof UnknownPositionError) {
      throw new UsageError(`--from ${error.position} is not a position in this log: give a record's position or a checkpoint's (positions are not counts)`);
    }
    throw error;
  } finally {
    await log.store.close();
  }
}

async function auditReplay(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { stream: { type: 'string' }, 'as-of': { type: 'string' }, 'data-dir': { type: 'string' } });
  const asOf = values['as-of'];
  const asOfMs = asOf === undefined ? undefined : Date.parse(asOf);
  if (asOfMs !== undefined && Number.isNaN(asOfMs)) throw new UsageError(`--as-of is not an ISO-8601 time: ${asOf}`);
  const log = openLog(values['data-dir'], io.env);
  try {
    const { failed } = await replayStreams({
      store: log.store,
      write: (line) => write(io.stdout, line),
      ...(values.stream !== undefined ? { stream: values.stream } : {}),
      ...(asOfMs !== undefined ? { asOfMs } : {}),
    });
    return failed === 0 ? 0 : 1;
  } finally {
    await log.store.close();
  }
}

async function auditVerify(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { 'data-dir': { type: 'string' } });
  const log = openLog(values['data-dir'], io.env);
  try {
    const lines: string[] = [];
    const result = await verifyLog({
      store: log.store,
      gapFreePositions: log.gapFreePositions,
      readModelDirectory: log.dataDir,
      projections,
      write: (line) => lines.push(`${line}\n`),
    });
    await write(io.stdout, lines.join(''));
    return result.ok ? 0 : 1;
  } finally {
    await log.store.close();
  }
}

async function agent(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { config: { type: 'string' }, bus: { type: 'string' } });
  if (values.config === undefined) throw new UsageError('agent needs --config <file>');
  let config: AgentConfig;
  let busUrl: string;
  try {
    config = parseAgentConfig(JSON.parse(await readFile(values.config, 'utf8')) as unknown, values.config);
    const url = values.bus ?? config.busUrl ?? io.env.VMLEDGER_BUS_URL;
    if (url === undefined || url === '') throw new AgentConfigError('no bus: give --bus, busUrl in the file, or VMLEDGER_BUS_URL');
    busUrl = parseBusUrl(url, 'the bus URL');
  } catch (error) {
    if (error instanceof SyntaxError) throw new UsageError(`${values.config} is not JSON: ${error.message}`);
    if (error instanceof AgentConfigError) throw new UsageError(error.message);
    throw error;
  }
  const log = (line: string): void => void io.stderr.write(`[agent] ${line}\n`);
  const served = await serveHosts(config, busUrl, log);
  if (!io.signal.aborted) await new Promise((resolve) => io.signal.addEventListener('abort', resolve, { once: true }));
  log('stopping: answering the commands under way');
  await served.stop();
  return 0;
}

async function agentKeysRotate(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { 'data-dir': { type: 'string' } });
  const dataDir = resolve(values['data-dir'] ?? io.env.VMLEDGER_DATA_DIR ?? './data');
  const ring = await rotateStoredCommandKeys(await FileSecretStore.open(dataDir), dataDir);
  await write(
    io.stdout,
    `agent command keys rotated: current ${ring.current.id}, previous ${ring.previous?.id ?? 'none'}\n` +
      `give every agent ${join(dataDir, AGENT_COMMAND_KEYS_FILE)} (its commandKeysFile), then restart the main job\n`,
  );
  return 0;
}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;

function parse<T extends OptionSpec>(args: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function parseFrom(value: string | undefined): FromPosition {
  if (value === undefined || value === 'start' || value === 'end') return value ?? 'start';
  if (/^\d+$/.test(value) && Number.isSafeInteger(Number(value))) return Number(value);
  throw new UsageError(`--from must be start, end or a log position, got ${value}`);
}

function positiveInteger(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got ${value}`);
  return n;
}

function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(text, (error) => (error ? reject(error) : resolve())));
}
