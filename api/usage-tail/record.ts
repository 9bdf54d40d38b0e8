// A usage event as `vmledger usage tail` writes it: where it is in the log, then its payload
// (docs/usage-events.md). NDJSON carries every payload field, present and future; CSV has fixed
// columns, to which later versions only append.
import type { JsonObject, JsonValue, RecordedEvent, StoredEvent } from '../../adapters/eventstore/port.js';
import { usageTypeOf, type UsagePayload } from '../../domain/instance/index.js';

const ENVELOPE = ['position', 'eventId', 'stream', 'type', 'recordedAt'] as const;

/** Envelope and payload fields; the compiler holds the payload's to the domain's declaration. */
export const CSV_COLUMNS = [
  'position',
  'eventId',
  'stream',
  'type',
  'occurredAt',
  'recordedAt',
  'usageVersion',
  'accountId',
  'domainId',
  'zoneId',
  'resourceId',
  'resourceName',
  'offeringId',
  'templateId',
  'size',
  'resourceType',
  'details',
] as const satisfies ReadonlyArray<(typeof ENVELOPE)[number] | keyof UsagePayload>;

/** An event as the tail reads it: parsed, or (from a store that offers it) still JSON text. */
export type TailEvent = RecordedEvent | StoredEvent;

/** The envelope, then the payload; payload fields never reuse the envelope's names (a rule of the contract). */
export function toUsageLine(event: TailEvent): JsonObject {
  return { ...envelopeOf(event), ...payloadOf(event) };
}

function envelopeOf(event: TailEvent): JsonObject {
  return { position: event.position, eventId: event.id, stream: event.stream, type: usageTypeOf(event.type), recordedAt: event.recordedAt };
}

/** A stored event's data is text to parse; a recorded event's is the value itself, even when that value is a string. */
function isStored(event: TailEvent): event is StoredEvent {
  return typeof event.metadata === 'string';
}

export function payloadOf(event: TailEvent): JsonObject {
  let data: unknown = event.data;
  if (isStored(event)) {
    try {
      data = JSON.parse(event.data);
    } catch {
      data = null;
    }
  }
  return typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as JsonObject) : {};
}

/**
 * The record as one line of JSON: the envelope's text joined to the payload's text, as stored where
 * the store hands it over unparsed. The same text as serialising the merged record (a store's text
 * is JSON.stringify's own), without building it: this is the tail's hot path.
 */
export function ndjsonLine(event: TailEvent): string {
  const payload = isStored(event) ? event.data : JSON.stringify(event.data);
  const envelope =
    `{"position":${event.position},"eventId":${JSON.stringify(event.id)},"stream":${JSON.stringify(event.stream)},` +
    `"type":${JSON.stringify(usageTypeOf(event.type))},"recordedAt":${JSON.stringify(event.recordedAt)}`;
  if (!payload.startsWith('{') || payload === '{}') return `${envelope}}\n`;
  // A payload naming an envelope field (against the contract) is merged the slow way, as the record is defined.
  if (ENVELOPE_KEY.test(payload)) return ndjsonRow(toUsageLine(event));
  return `${envelope},${payload.slice(1)}\n`;
}

const ENVELOPE_KEY = new RegExp(`"(?:${ENVELOPE.join('|')})":`);

export function ndjsonRow(line: JsonObject): string {
  return `${JSON.stringify(line)}\n`;
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\n`;
}

export function csvRow(line: JsonObject): string {
  return `${CSV_COLUMNS.map((column) => csvField(line[column])).join(',')}\n`;
}

/** RFC 4180: null is an empty field; objects are their JSON; quotes only where needed. */
function csvField(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
