// Checks a bus message against the AgentCommand contract before an agent acts on it. A message that
// does not fit is never retried (it cannot get better). When it still says which command it is (its
// commandId, hostId and type), the agent answers it with a failure carrying the reason, so the job
// fails at once; otherwise nobody waits on it by name and the agent dead-letters it.
import type { BusMessage } from '../bus/port.js';
import type { JsonValue } from '../eventstore/port.js';
import type { AgentCommand, DomainSpec, NicSpec, VolumeSpec } from './protocol.js';

/** What a command that could not be read still says about itself: enough to address a reply. */
export interface CommandEnvelope {
  readonly commandId: string;
  readonly hostId: string;
  readonly type: AgentCommand['type'];
  /** The domain it names, when that much could be read. */
  readonly instanceName: string | undefined;
}

export type ParsedCommand =
  | { readonly ok: true; readonly command: AgentCommand }
  | { readonly ok: false; readonly reason: string; readonly envelope: CommandEnvelope | undefined };

// A record over the union's types, so a command type added to the protocol must be added here too.
const COMMAND_TYPES: Readonly<Record<AgentCommand['type'], true>> = {
  StartDomain: true,
  StopDomain: true,
  RebootDomain: true,
  MigrateDomain: true,
  DestroyDomain: true,
  ScaleDomain: true,
};

function isCommandType(value: JsonValue | undefined): value is AgentCommand['type'] {
  return typeof value === 'string' && Object.hasOwn(COMMAND_TYPES, value);
}

type JsonObject = { readonly [key: string]: JsonValue };

class Malformed extends Error {}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function object(value: JsonValue | undefined, path: string): JsonObject {
  if (!isObject(value)) throw new Malformed(`${path} must be an object`);
  return value;
}

function array(value: JsonValue | undefined, path: string): readonly JsonValue[] {
  if (!Array.isArray(value)) throw new Malformed(`${path} must be an array`);
  return value;
}

function text(value: JsonValue | undefined, path: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new Malformed(`${path} must be a non-empty string`);
  return value;
}

function textOrNull(value: JsonValue | undefined, path: string): string | null {
  return value === null ? null : text(value, path);
}

function integer(value: JsonValue | undefined, path: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new Malformed(`${path} must be an integer ≥ ${min}`);
  }
  return value;
}

function integerOrNull(value: JsonValue | undefined, path: string, min: number): number | null {
  return value === null ? null : integer(value, path, min);
}

function flag(value: JsonValue | undefined, path: string): boolean {
  if (typeof value !== 'boolean') throw new Malformed(`${path} must be a boolean`);
  return value;
}

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

function command(body: JsonObject): AgentCommand {
  const base = { commandId: text(body['commandId'], 'commandId'), hostId: text(body['hostId'], 'hostId') };
  const type = body['type'];
  switch (type) {
    case 'StartDomain':
      return { ...base, type, domain: domain(body['domain'], 'domain') };
    case 'StopDomain':
      return {
        ...base,
        type,
        instanceName: text(body['instanceName'], 'instanceName'),
        forced: flag(body['forced'], 'forced'),
        timeoutMs: integer(body['timeoutMs'], 'timeoutMs', 0),
      };
    case 'RebootDomain':
      return { ...base, type, instanceName: text(body['instanceName'], 'instanceName'), forced: flag(body['forced'], 'forced') };
    case 'MigrateDomain':
      return {
        ...base,
        type,
        instanceName: text(body['instanceName'], 'instanceName'),
        targetHostId: text(body['targetHostId'], 'targetHostId'),
      };
    case 'DestroyDomain':
      return { ...base, type, instanceName: text(body['instanceName'], 'instanceName'), volumes: volumes(body['volumes'], 'volumes') };
    case 'ScaleDomain':
      return {
        ...base,
        type,
        instanceName: text(body['instanceName'], 'instanceName'),
        cpuNumber: integer(body['cpuNumber'], 'cpuNumber', 1),
        cpuSpeed: integer(body['cpuSpeed'], 'cpuSpeed', 1),
        memory: integer(body['memory'], 'memory', 1),
      };
    default:
      throw new Malformed(`type ${JSON.stringify(type ?? null)} is not an agent command`);
  }
}

/** The envelope of a body that failed to parse, when its commandId, hostId and type are all readable. */
function envelopeOf(body: JsonValue): CommandEnvelope | undefined {
  if (!isObject(body)) return undefined;
  const { commandId, hostId, type, instanceName, domain } = body;
  if (typeof commandId !== 'string' || commandId === '' || typeof hostId !== 'string' || hostId === '' || !isCommandType(type)) return undefined;
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

export function commandInstanceName(command: AgentCommand): string {
  return command.type === 'StartDomain' ? command.domain.instanceName : command.instanceName;
}
