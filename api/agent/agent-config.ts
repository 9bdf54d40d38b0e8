// The configuration file of `vmledger agent`: which KVM hosts this agent drives and how to reach them,
// which hosts it may migrate domains to, and where the bus is. It lives next to the agent (often on
// another machine than the control plane), so it carries the SSH credentials the agent needs.
import { isAbsolute } from 'node:path';
import { LibvirtConfigError, parseLibvirtHostConfig, type LibvirtHostConfig } from '../../adapters/hypervisor/libvirt/config.js';

/** A host another agent serves, as a migration target of this one's domains. */
export interface MigrationPeer {
  readonly hostId: string;
  readonly migrationUri: string;
  readonly migrationAddress: string;
}

export interface AgentConfig {
  /** amqp:// or amqps://; the command line and VMLEDGER_BUS_URL may give it instead. */
  readonly busUrl: string | undefined;
  readonly heartbeatIntervalMs: number;
  readonly powerSyncIntervalMs: number;
  readonly hosts: readonly LibvirtHostConfig[];
  readonly peers: readonly MigrationPeer[];
  /**
   * The file holding the ring of keys the orchestrator signs commands with (the main job writes it as
   * agent-command-keys.json in its data directory); read at start and after a rotation. Its content
   * is never logged.
   */
  readonly commandKeysFile: string;
}

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 30_000;
export const DEFAULT_POWER_SYNC_INTERVAL_MS = 60_000;
const FIELDS = new Set(['busUrl', 'heartbeatIntervalMs', 'powerSyncIntervalMs', 'hosts', 'peers', 'commandKeysFile']);
const PEER_FIELDS = new Set(['hostId', 'migrationUri', 'migrationAddress']);

export class AgentConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentConfigError';
  }
}

type Fields = Readonly<Record<string, unknown>>;

function record(value: unknown, where: string, known: ReadonlySet<string>): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new AgentConfigError(`${where} must be an object`);
  const unknown = Object.keys(value).find((key) => !known.has(key));
  if (unknown !== undefined) throw new AgentConfigError(`${where}.${unknown} is not a setting here (known: ${[...known].join(', ')})`);
  return value as Fields;
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.trim() === '' || /[\u0000-\u001f\u007f]/.test(value)) throw new AgentConfigError(`${where} must be a non-empty string`);
  return value;
}

function interval(value: unknown, where: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 100 || value > 3_600_000) {
    throw new AgentConfigError(`${where} must be a whole number of milliseconds from 100 to 3600000`);
  }
  return value;
}

export function parseBusUrl(value: unknown, where: string): string {
  const url = text(value, where);
  if (!/^amqps?:\/\/\S+$/.test(url)) throw new AgentConfigError(`${where} must be an amqp:// or amqps:// URL: an agent reaches the control plane through RabbitMQ`);
  return url;
}

/** Parses the file's JSON value; `file` names it in every error. */
export function parseAgentConfig(value: unknown, file: string): AgentConfig {
  const fields = record(value, file, FIELDS);
  if (!Array.isArray(fields['hosts']) || fields['hosts'].length === 0) throw new AgentConfigError(`${file}.hosts must list at least one host`);
  const hosts = fields['hosts'].map((host, i) => {
    try {
      return parseLibvirtHostConfig(host, `${file}.hosts[${i}]`);
    } catch (error) {
      throw error instanceof LibvirtConfigError ? new AgentConfigError(error.message) : error;
    }
  });
  const peersValue = fields['peers'] ?? [];
  if (!Array.isArray(peersValue)) throw new AgentConfigError(`${file}.peers must be a list`);
  const peers = peersValue.map((peer, i): MigrationPeer => {
    const where = `${file}.peers[${i}]`;
    const p = record(peer, where, PEER_FIELDS);
    const migrationUri = text(p['migrationUri'], `${where}.migrationUri`);
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(migrationUri)) throw new AgentConfigError(`${where}.migrationUri must be a libvirt connection URI such as qemu+ssh://user@host/system`);
    return { hostId: text(p['hostId'], `${where}.hostId`), migrationUri, migrationAddress: text(p['migrationAddress'], `${where}.migrationAddress`) };
  });
  const ids = [...hosts.map((host) => host.hostId), ...peers.map((peer) => peer.hostId)];
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  if (repeated !== undefined) throw new AgentConfigError(`${file}: host ${repeated} is listed twice (among hosts and peers)`);
  const commandKeysFile = text(fields['commandKeysFile'], `${file}.commandKeysFile`);
  if (!isAbsolute(commandKeysFile)) throw new AgentConfigError(`${file}.commandKeysFile must be an absolute path: the file of the orchestrator's command keys`);
  return {
    commandKeysFile,
    busUrl: fields['busUrl'] === undefined ? undefined : parseBusUrl(fields['busUrl'], `${file}.busUrl`),
    heartbeatIntervalMs: interval(fields['heartbeatIntervalMs'], `${file}.heartbeatIntervalMs`, DEFAULT_HEARTBEAT_INTERVAL_MS),
    powerSyncIntervalMs: interval(fields['powerSyncIntervalMs'], `${file}.powerSyncIntervalMs`, DEFAULT_POWER_SYNC_INTERVAL_MS),
    hosts,
    peers,
  };
}

/** Where a domain of this agent's may migrate to: the hosts it serves and its peers. */
export function migrationTargets(config: AgentConfig): (hostId: string) => MigrationPeer | undefined {
  const targets = new Map<string, MigrationPeer>();
  for (const host of config.hosts) targets.set(host.hostId, { hostId: host.hostId, migrationUri: host.migrationUri, migrationAddress: host.migrationAddress });
  for (const peer of config.peers) targets.set(peer.hostId, peer);
  return (hostId) => targets.get(hostId);
}
