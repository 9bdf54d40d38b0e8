import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../adapters/eventstore/hash-chain.js';
import type { JsonObject, JsonValue, RecordedEvent, StoredEvent } from '../../../adapters/eventstore/port.js';
import { ndjsonLine, ndjsonRow, toUsageLine } from '../../../api/usage-tail/record.js';
import { instanceStream } from '../../../domain/instance/index.js';

const envelope = { id: '3f0a0b1c-0000-4000-8000-000000000001', type: 'usage.VM.START', stream: instanceStream('x'), revision: 3, position: 42, recordedAt: '2025-03-01T10:00:00.000Z' };

describe('an NDJSON record', () => {
  it('is the merged record, whether the payload comes as stored text or parsed, whatever the payload holds', () => {
    const payload = fc.oneof(
      fc.dictionary(fc.constantFrom('accountId', 'size', 'details', 'type', 'position', 'x"y', 'é'), fc.jsonValue()),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(payload, (value) => {
        const text = canonicalJson(value as JsonValue);
        const stored: StoredEvent = { ...envelope, data: text, metadata: '{}' };
        const parsed: RecordedEvent = { ...envelope, data: JSON.parse(text) as JsonValue, metadata: {} };
        const expected = ndjsonRow(toUsageLine(parsed));
        expect(JSON.parse(ndjsonLine(parsed))).toEqual(JSON.parse(expected));
        expect(JSON.parse(ndjsonLine(stored))).toEqual(JSON.parse(expected));
        // The same text too, unless integer-like keys (which JavaScript objects list first) reorder the merged record.
        if (!/"\d+":/.test(text)) {
          expect(ndjsonLine(parsed)).toBe(expected);
          expect(ndjsonLine(stored)).toBe(expected);
        }
        const line = JSON.parse(expected) as JsonObject;
        expect(line.position === 42 || (typeof value === 'object' && value !== null && 'position' in value)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
