import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../adapters/eventstore/hash-chain.js';
import type { JsonValue } from '../../adapters/eventstore/port.js';
import { serialiseEvents } from '../../adapters/eventstore/validation.js';

// The stores write what validation serialises, and the verifier recomputes the chain with
// canonicalJson: if the two ever disagreed, every event would look tampered with.
describe('the text stores write', () => {
  it('is canonicalJson of the data and metadata, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue()), (data, metadata) => {
        const [event] = serialiseEvents([{ id: randomUUID(), type: 'Anything', data, metadata }]);
        expect(event!.data).toBe(canonicalJson(data as JsonValue));
        expect(event!.metadata).toBe(canonicalJson(metadata as JsonValue));
        expect(JSON.parse(event!.data)).toEqual(JSON.parse(JSON.stringify(data)));
      }),
      { numRuns: 1000 },
    );
  });
});
