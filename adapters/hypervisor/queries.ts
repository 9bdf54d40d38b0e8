// The query path between the orchestrator and the agents (see domain/agent-protocol/queries.ts): a
// query goes to its host's query queue, signed like a command and valid until its asker stops
// waiting; the answer comes back on the orchestrator's query-reply queue, matched to its asker by the
// query id. Both ends read what they receive against the protocol here.
import type { BusMessage } from '../bus/port.js';
import type { JsonValue } from '../eventstore/port.js';
import type { AgentQuery, AgentQueryReply, RemoteHostLogin, UnmanagedDiskInfo, UnmanagedDomain, UnmanagedNicInfo, VmwareHostRef } from '../../domain/agent-protocol/index.js';
import { UUID } from '../../domain/shared/instance-name.js';
import { Malformed, anyText, array, integer, integerOrNull, isObject, matching, object, oneOf, text, textOrNull, type JsonObject } from './json-fields.js';

export const ORCHESTRATOR_QUERY_REPLIES = 'orchestrator.query-replies';

export function agentQueryQueue(hostId: string): string {
  return `agent.${hostId}.queries`;
}

/** Interfaces are JSON by construction, as in protocol.ts. */
export function queryMessage(payload: AgentQuery | AgentQueryReply): BusMessage {
  return { id: payload.type === 'AgentQueryReply' ? `reply-${payload.queryId}` : payload.queryId, type: payload.type, body: payload as unknown as BusMessage['body'] };
}

export type ParsedQuery<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

const MAX_DOMAINS = 10_000;
const MAX_DEVICES = 64;
const NAME_MAX = 255;

function parse<T>(message: BusMessage, type: string, read: (body: JsonObject) => T): ParsedQuery<T> {
  try {
    if (!isObject(message.body)) throw new Malformed('the body must be an object');
    if (message.type !== type || message.body['type'] !== type) throw new Malformed(`type must be ${type}`);
    return { ok: true, value: read(message.body) };
  } catch (error) {
    if (error instanceof Malformed) return { ok: false, reason: error.message };
    throw error;
  }
}

const uuid = (value: JsonValue | undefined, path: string): string => matching(value, path, UUID, 'a lower-case UUID');

function boundedText(value: JsonValue | undefined, path: string): string {
  const read = text(value, path);
  if (read.length > NAME_MAX) throw new Malformed(`${path} must be at most ${NAME_MAX} characters`);
  return read;
}

const HOST_NAME = /^[A-Za-z0-9.:_-]{1,253}$/;

function remoteLogin(value: JsonValue | undefined): RemoteHostLogin {
  const o = object(value ?? null, 'remote');
  return {
    host: matching(o['host'], 'remote.host', HOST_NAME, 'a host name or address'),
    port: integer(o['port'], 'remote.port', 1, 65_535),
    username: boundedText(o['username'], 'remote.username'),
  };
}

function sealed(value: JsonValue | undefined): { keyId: string; box: string } | null {
  if (value === null || value === undefined) return null;
  const o = object(value, 'password');
  return { keyId: boundedText(o['keyId'], 'password.keyId'), box: matching(o['box'], 'password.box', /^[A-Za-z0-9_-]{1,2048}$/, 'base64url') };
}

function vmwareHost(value: JsonValue | undefined): VmwareHostRef {
  const o = object(value ?? null, 'source');
  return {
    kind: oneOf(o['kind'], 'source.kind', ['esxi-ssh'] as const),
    host: matching(o['host'], 'source.host', HOST_NAME, 'a host name or address'),
    port: integer(o['port'], 'source.port', 1, 65_535),
    username: boundedText(o['username'], 'source.username'),
  };
}

export function parseAgentQuery(message: BusMessage): ParsedQuery<AgentQuery> {
  if (message.type === 'ListVmwareGuests') {
    return parse(message, 'ListVmwareGuests', (body) => ({
      type: 'ListVmwareGuests',
      queryId: uuid(body['queryId'], 'queryId'),
      hostId: uuid(body['hostId'], 'hostId'),
      source: vmwareHost(body['source']),
      password: sealed(body['password']),
    }));
  }
  if (message.type === 'ListRemoteDomains') {
    return parse(message, 'ListRemoteDomains', (body) => ({
      type: 'ListRemoteDomains',
      queryId: uuid(body['queryId'], 'queryId'),
      hostId: uuid(body['hostId'], 'hostId'),
      remote: remoteLogin(body['remote']),
      password: sealed(body['password']),
    }));
  }
  return parse(message, 'ListUnmanagedDomains', (body) => ({
    type: 'ListUnmanagedDomains',
    queryId: uuid(body['queryId'], 'queryId'),
    hostId: uuid(body['hostId'], 'hostId'),
    name: body['name'] === null ? null : boundedText(body['name'], 'name'),
  }));
}

const optionalText = (value: JsonValue | undefined, path: string): string | null => (value === undefined || value === null ? null : anyText(value, path));

function disk(value: JsonValue, path: string): UnmanagedDiskInfo {
  const o = object(value, path);
  return {
    diskId: text(o['diskId'], `${path}.diskId`),
    capacity: integerOrNull(o['capacity'] ?? null, `${path}.capacity`, 0),
    controller: anyText(o['controller'], `${path}.controller`),
    controllerUnit: integerOrNull(o['controllerUnit'] ?? null, `${path}.controllerUnit`, 0),
    label: anyText(o['label'], `${path}.label`),
    imagePath: optionalText(o['imagePath'], `${path}.imagePath`),
    position: integer(o['position'], `${path}.position`, 0),
    datastoreName: optionalText(o['datastoreName'], `${path}.datastoreName`),
    format: optionalText(o['format'], `${path}.format`),
  };
}

function nic(value: JsonValue, path: string): UnmanagedNicInfo {
  const o = object(value, path);
  return {
    nicId: text(o['nicId'], `${path}.nicId`),
    macAddress: anyText(o['macAddress'], `${path}.macAddress`),
    networkName: optionalText(o['networkName'], `${path}.networkName`),
    vlanId: integerOrNull(o['vlanId'] ?? null, `${path}.vlanId`, 0, 4095),
    pciSlot: integerOrNull(o['pciSlot'] ?? null, `${path}.pciSlot`, 0),
    adapterType: optionalText(o['adapterType'], `${path}.adapterType`),
    ipAddress: optionalText(o['ipAddress'], `${path}.ipAddress`),
  };
}

function unmanagedDomain(value: JsonValue, path: string): UnmanagedDomain {
  const o = object(value, path);
  return {
    name: boundedText(o['name'], `${path}.name`),
    powerState: oneOf(o['powerState'], `${path}.powerState`, ['PowerOn', 'PowerOff']),
    cpuNumber: integer(o['cpuNumber'], `${path}.cpuNumber`, 0),
    cpuSpeed: integer(o['cpuSpeed'], `${path}.cpuSpeed`, 0),
    cpuCoresPerSocket: integerOrNull(o['cpuCoresPerSocket'] ?? null, `${path}.cpuCoresPerSocket`, 0),
    memory: integer(o['memory'], `${path}.memory`, 0),
    osDisplayName: optionalText(o['osDisplayName'], `${path}.osDisplayName`),
    disks: array(o['disks'], `${path}.disks`, MAX_DEVICES).map((item, i) => disk(item, `${path}.disks[${i}]`)),
    nics: array(o['nics'], `${path}.nics`, MAX_DEVICES).map((item, i) => nic(item, `${path}.nics[${i}]`)),
    ...(o['vmxPath'] === undefined ? {} : { vmxPath: anyText(o['vmxPath'], `${path}.vmxPath`) }),
  };
}

export function parseAgentQueryReply(message: BusMessage): ParsedQuery<AgentQueryReply> {
  return parse(message, 'AgentQueryReply', (body) => {
    const outcome = oneOf(body['outcome'], 'outcome', ['succeeded', 'failed'] as const);
    const base = {
      type: 'AgentQueryReply' as const,
      queryId: uuid(body['queryId'], 'queryId'),
      hostId: uuid(body['hostId'], 'hostId'),
      query: oneOf(body['query'], 'query', ['ListUnmanagedDomains', 'ListRemoteDomains', 'ListVmwareGuests'] as const),
      outcome,
    };
    if (outcome === 'failed') {
      const error = object(body['error'], 'error');
      const detail = textOrNull(error['detail'] ?? null, 'error.detail');
      return { ...base, error: detail === null ? { message: anyText(error['message'], 'error.message') } : { message: anyText(error['message'], 'error.message'), detail } };
    }
    return { ...base, domains: array(body['domains'], 'domains', MAX_DOMAINS).map((item, i) => unmanagedDomain(item, `domains[${i}]`)) };
  });
}
