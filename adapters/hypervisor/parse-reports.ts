// Checks what the agents send back (replies to commands, their progress, power-state reports, heartbeats) against the
// protocol before the orchestrator acts on it. Every field is read by its type, and the result is
// built from what was read, so nothing unchecked reaches a job or an instance. A message that does
// not fit is refused with the reason: the orchestrator dead-letters it (it cannot get better).
import type { BusMessage } from '../bus/port.js';
import type { JsonValue } from '../eventstore/port.js';
import {
  PROGRESS_STAGES,
  isAgentCommandType,
  isHostCapability,
  type AgentProgress,
  type AgentReply,
  type ConvertedGuest,
  type ImportedVolume,
  type AgentReplyError,
  type AgentReport,
  type DomainSnapshotInfo,
  type HostCapability,
  type HostHeartbeat,
  type PowerState,
  type PowerStateReport,
} from '../../domain/agent-protocol/index.js';
import { Malformed, anyText, array, integer, isObject, object, oneOf, text, timestamp, type JsonObject } from './json-fields.js';

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

const POWER_STATES: readonly PowerState[] = ['running', 'stopped', 'missing'];
const OUTCOMES: ReadonlyArray<AgentReply['outcome']> = ['succeeded', 'failed'];

/** Runs `read` on the body of a message that says it is a `type`, turning a misfit into its reason. */
function parse<T>(message: BusMessage, type: string, read: (body: JsonObject) => T): Parsed<T> {
  try {
    if (!isObject(message.body)) throw new Malformed('the body must be an object');
    if (message.body['type'] !== type) throw new Malformed(`type must be ${type}`);
    if (message.type !== type) throw new Malformed(`message type ${message.type} differs from body type ${type}`);
    return { ok: true, value: read(message.body) };
  } catch (error) {
    if (error instanceof Malformed) return { ok: false, reason: error.message };
    throw error;
  }
}

function replyError(value: JsonValue | undefined): AgentReplyError {
  const o = object(value, 'error');
  const message = anyText(o['message'], 'error.message');
  return o['detail'] === undefined ? { message } : { message, detail: anyText(o['detail'], 'error.detail') };
}

function snapshotInfo(value: JsonValue | undefined): DomainSnapshotInfo {
  const o = object(value, 'snapshot');
  return { name: text(o['name'], 'snapshot.name'), sizeBytes: integer(o['sizeBytes'], 'snapshot.sizeBytes', 0) };
}

/** More disks than a domain could have: a longer list is not what an agent sends. */
const MAX_DISKS = 64;
const BOOT_MODES: ReadonlyArray<ConvertedGuest['bootMode']> = ['BIOS', 'UEFI'];

function convertedGuest(value: JsonValue | undefined): ConvertedGuest {
  const o = object(value, 'converted');
  return {
    disks: array(o['disks'], 'converted.disks', MAX_DISKS).map((item, i) => {
      const disk = object(item, `converted.disks[${i}]`);
      const path = `converted.disks[${i}]`;
      return {
        position: integer(disk['position'], `${path}.position`, 0, MAX_DISKS - 1),
        path: text(disk['path'], `${path}.path`),
        virtualSize: integer(disk['virtualSize'], `${path}.virtualSize`, 0),
        format: text(disk['format'], `${path}.format`),
        bus: text(disk['bus'], `${path}.bus`),
      };
    }),
    bootMode: oneOf(o['bootMode'], 'converted.bootMode', BOOT_MODES),
  };
}

function importedVolumes(value: JsonValue | undefined): ImportedVolume[] {
  return array(value, 'volumes', MAX_DISKS).map((item, i) => {
    const o = object(item, `volumes[${i}]`);
    return {
      volumeId: text(o['volumeId'], `volumes[${i}].volumeId`),
      path: text(o['path'], `volumes[${i}].path`),
      virtualSize: integer(o['virtualSize'], `volumes[${i}].virtualSize`, 0),
      format: text(o['format'], `volumes[${i}].format`),
    };
  });
}

/** Longer than any step an agent sends (adapters/hypervisor/progress.ts cuts at 200). */
const MAX_STEP = 1_000;

/**
 * A progress message on the replies queue (`message.type` tells it from a reply). Its command id is
 * read as a reply's is; which job it belongs to is the receiver's business, as for replies.
 */
export function parseAgentProgress(message: BusMessage): Parsed<AgentProgress> {
  return parse(message, 'AgentProgress', (body) => {
    const command = body['command'];
    if (!isAgentCommandType(command)) throw new Malformed(`command ${JSON.stringify(command ?? null)} is not an agent command`);
    const step = anyText(body['step'], 'step');
    if (step.length > MAX_STEP) throw new Malformed(`step must be at most ${MAX_STEP} characters`);
    return {
      type: 'AgentProgress',
      commandId: text(body['commandId'], 'commandId'),
      hostId: text(body['hostId'], 'hostId'),
      command,
      stage: oneOf(body['stage'], 'stage', PROGRESS_STAGES),
      step,
      percent: integer(body['percent'], 'percent', 0, 100),
      seq: integer(body['seq'], 'seq', 1),
      at: timestamp(body['at'], 'at'),
    };
  });
}

export function parseAgentReply(message: BusMessage): Parsed<AgentReply> {
  return parse(message, 'AgentReply', (body) => {
    const command = body['command'];
    if (!isAgentCommandType(command)) throw new Malformed(`command ${JSON.stringify(command ?? null)} is not an agent command`);
    const reply: AgentReply = {
      type: 'AgentReply',
      commandId: text(body['commandId'], 'commandId'),
      hostId: text(body['hostId'], 'hostId'),
      command,
      outcome: oneOf(body['outcome'], 'outcome', OUTCOMES),
      powerState: oneOf(body['powerState'], 'powerState', POWER_STATES),
    };
    return {
      ...reply,
      ...(body['error'] === undefined ? {} : { error: replyError(body['error']) }),
      ...(body['snapshot'] === undefined ? {} : { snapshot: snapshotInfo(body['snapshot']) }),
      ...(body['converted'] === undefined ? {} : { converted: convertedGuest(body['converted']) }),
      ...(body['volumes'] === undefined ? {} : { volumes: importedVolumes(body['volumes']) }),
    };
  });
}

export function parsePowerStateReport(message: BusMessage): Parsed<PowerStateReport> {
  return parse(message, 'PowerStateReport', (body) => ({
    type: 'PowerStateReport',
    hostId: text(body['hostId'], 'hostId'),
    at: timestamp(body['at'], 'at'),
    domains: array(body['domains'], 'domains').map((item, i) => {
      const domain = object(item, `domains[${i}]`);
      return {
        instanceName: text(domain['instanceName'], `domains[${i}].instanceName`),
        powerState: oneOf(domain['powerState'], `domains[${i}].powerState`, POWER_STATES),
      };
    }),
  }));
}

export function parseHeartbeat(message: BusMessage): Parsed<HostHeartbeat> {
  return parse(message, 'HostHeartbeat', (body) => ({
    type: 'HostHeartbeat',
    hostId: text(body['hostId'], 'hostId'),
    at: timestamp(body['at'], 'at'),
    cpuNumber: integer(body['cpuNumber'], 'cpuNumber', 0),
    cpuSpeed: integer(body['cpuSpeed'], 'cpuSpeed', 0),
    memory: integer(body['memory'], 'memory', 0),
    capabilities: capabilities(body['capabilities']),
  }));
}

/** More than the protocol will ever name: a longer list is not a heartbeat an agent sends. */
const MAX_CAPABILITIES = 64;

/**
 * The capabilities a heartbeat lists. One this orchestrator does not know is left out rather than
 * refusing the heartbeat, so a newer agent keeps reporting to an older orchestrator; an agent older
 * than capabilities sends none, and its host can do none of them as far as the orchestrator knows.
 */
function capabilities(value: JsonValue | undefined): HostCapability[] {
  if (value === undefined) return [];
  const listed = array(value, 'capabilities', MAX_CAPABILITIES).map((item, i) => text(item, `capabilities[${i}]`));
  return [...new Set(listed.filter(isHostCapability))];
}

// One parser per report type: a report type added to the protocol does not compile without its own.
const REPORT_PARSERS: { readonly [K in AgentReport['type']]: (message: BusMessage) => Parsed<AgentReport> } = {
  PowerStateReport: parsePowerStateReport,
  HostHeartbeat: parseHeartbeat,
};

function isReportType(type: string): type is AgentReport['type'] {
  return Object.hasOwn(REPORT_PARSERS, type);
}

/** A message on the reports queue: whichever report its type says it is. */
export function parseAgentReport(message: BusMessage): Parsed<AgentReport> {
  const type = message.type;
  if (!isReportType(type)) return { ok: false, reason: `type ${JSON.stringify(type)} is not an agent report` };
  return REPORT_PARSERS[type](message);
}
