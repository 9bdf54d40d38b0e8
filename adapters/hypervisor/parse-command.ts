// Checks a bus message against the AgentCommand contract before an agent acts on it. A message that
// does not fit is never retried (it cannot get better). When it still says which command it is (its
// commandId, hostId and type), the agent answers it with a failure carrying the reason, so the job
// fails at once; otherwise nobody waits on it by name and the agent dead-letters it.
import type { BusMessage } from '../bus/port.js';
import type { JsonValue } from '../eventstore/port.js';
import {
  isAgentCommandType,
  type AgentCommand,
  type AgentCommandOf,
  type AgentCommandType,
  type DomainSpec,
  type NicSpec,
  type VolumeSpec,
} from '../../domain/agent-protocol/index.js';
import { Malformed, array, flag, integer, integerOrNull, isObject, object, text, textOrNull, type JsonObject } from './json-fields.js';

/** What a command that could not be read still says about itself: enough to address a reply. */
export interface CommandEnvelope {
  readonly commandId: string;
  readonly hostId: string;
  readonly type: AgentCommandType;
  /** The domain it names, when that much could be read. */
  readonly instanceName: string | undefined;
}

export type ParsedCommand =
  | { readonly ok: true; readonly command: AgentCommand }
  | { readonly ok: false; readonly reason: string; readonly envelope: CommandEnvelope | undefined };

function nic(value: JsonValue, path: string): NicSpec {
  const o = object(value, path);
  return {
    nicId: text(o['nicId'], `${path}.nicId`),
    networkId: text(o['networkId'], `${path}.networkId`),
    mac: text(o['mac'], `${path}.mac`),
    ip: textOrNull(o['ip'], `${path}.ip`),
    vlan: integerOrNull(o['vlan'], `${path}.vlan`, 0),
    deviceId: integer(o['deviceId'], `${path}.deviceId`, 0),
  };
}

function volume(value: JsonValue, path: string): VolumeSpec {
  const o = object(value, path);
  const type = o['type'];
  if (type !== 'ROOT' && type !== 'DATADISK') throw new Malformed(`${path}.type must be ROOT or DATADISK`);
  return {
    volumeId: text(o['volumeId'], `${path}.volumeId`),
    type,
    size: integer(o['size'], `${path}.size`, 0),
    templateId: textOrNull(o['templateId'], `${path}.templateId`),
  };
}

function volumes(value: JsonValue | undefined, path: string): VolumeSpec[] {
  return array(value, path).map((item, i) => volume(item, `${path}[${i}]`));
}

function domain(value: JsonValue | undefined, path: string): DomainSpec {
  const o = object(value, path);
  return {
    instanceId: text(o['instanceId'], `${path}.instanceId`),
    instanceName: text(o['instanceName'], `${path}.instanceName`),
    cpuNumber: integer(o['cpuNumber'], `${path}.cpuNumber`, 1),
    cpuSpeed: integer(o['cpuSpeed'], `${path}.cpuSpeed`, 1),
    memory: integer(o['memory'], `${path}.memory`, 1),
    nics: array(o['nics'], `${path}.nics`).map((item, i) => nic(item, `${path}.nics[${i}]`)),
    volumes: volumes(o['volumes'], `${path}.volumes`),
  };
}

/** What every command has, read before its type's own fields. */
type Base<K extends AgentCommandType> = { readonly type: K; readonly commandId: string; readonly hostId: string };

/**
 * A reader per command type, mapped over the union's types: a command type without its reader does
 * not compile.
 */
const READERS: { readonly [K in AgentCommandType]: (base: Base<K>, body: JsonObject) => AgentCommandOf<K> } = {
  StartDomain: (base, body) => ({ ...base, domain: domain(body['domain'], 'domain') }),
  StopDomain: (base, body) => ({
    ...base,
    instanceName: text(body['instanceName'], 'instanceName'),
    forced: flag(body['forced'], 'forced'),
    timeoutMs: integer(body['timeoutMs'], 'timeoutMs', 0),
  }),
  RebootDomain: (base, body) => ({ ...base, instanceName: text(body['instanceName'], 'instanceName'), forced: flag(body['forced'], 'forced') }),
  MigrateDomain: (base, body) => ({
    ...base,
    instanceName: text(body['instanceName'], 'instanceName'),
    targetHostId: text(body['targetHostId'], 'targetHostId'),
  }),
  DestroyDomain: (base, body) => ({ ...base, instanceName: text(body['instanceName'], 'instanceName'), volumes: volumes(body['volumes'], 'volumes') }),
  ScaleDomain: (base, body) => ({
    ...base,
    instanceName: text(body['instanceName'], 'instanceName'),
    cpuNumber: integer(body['cpuNumber'], 'cpuNumber', 1),
    cpuSpeed: integer(body['cpuSpeed'], 'cpuSpeed', 1),
    memory: integer(body['memory'], 'memory', 1),
  }),
};

// Generic in K, so the reader and the base it is given are of one command type without a cast.
function read<K extends AgentCommandType>(base: Base<K>, body: JsonObject): AgentCommandOf<K> {
  const reader: (base: Base<K>, body: JsonObject) => AgentCommandOf<K> = READERS[base.type];
  return reader(base, body);
}

function command(body: JsonObject): AgentCommand {
  const commandId = text(body['commandId'], 'commandId');
  const hostId = text(body['hostId'], 'hostId');
  const type = body['type'];
  if (!isAgentCommandType(type)) throw new Malformed(`type ${JSON.stringify(type ?? null)} is not an agent command`);
  return read({ commandId, hostId, type }, body);
}

/** The envelope of a body that failed to parse, when its commandId, hostId and type are all readable. */
function envelopeOf(body: JsonValue): CommandEnvelope | undefined {
  if (!isObject(body)) return undefined;
  const { commandId, hostId, type, instanceName, domain } = body;
  if (typeof commandId !== 'string' || commandId === '' || typeof hostId !== 'string' || hostId === '' || !isAgentCommandType(type)) return undefined;
  const named = isObject(domain) ? domain['instanceName'] : instanceName;
  return { commandId, hostId, type, instanceName: typeof named === 'string' && named !== '' ? named : undefined };
}

export function parseAgentCommand(message: BusMessage): ParsedCommand {
  try {
    if (!isObject(message.body)) throw new Malformed('the body must be an object');
    const parsed = command(message.body);
    if (message.type !== parsed.type) throw new Malformed(`message type ${message.type} differs from body type ${parsed.type}`);
    return { ok: true, command: parsed };
  } catch (error) {
    if (error instanceof Malformed) return { ok: false, reason: error.message, envelope: envelopeOf(message.body) };
    throw error;
  }
}
