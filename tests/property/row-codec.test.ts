import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../adapters/eventstore/hash-chain.js';
import type { JsonValue } from '../../adapters/eventstore/port.js';
import { NO_DICTIONARY, decodeRow, encodeRow, type Dictionary } from '../../adapters/eventstore/sqlite/row-codec.js';

// The hash chain is over the texts the store wrote: a compressed row must give back exactly those
// bytes, whatever the JSON holds (newlines and control characters inside strings, any Unicode).
describe('a compressed row', () => {
  const json = fc.jsonValue({ stringUnit: fc.oneof(fc.constantFrom('\n', '\r', '\u0000', '\u2028', '"', '\\'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })) });
  const dictionaries = fc.option(
    fc.record({ id: fc.integer({ min: 1, max: 255 }), bytes: fc.uint8Array({ maxLength: 20_000 }).map((bytes) => Buffer.from(bytes)) }),
    { nil: undefined },
  );

  it('gives back the canonical data and metadata texts byte for byte, with or without a dictionary', () => {
    fc.assert(
      fc.property(json, fc.dictionary(fc.string({ unit: 'binary' }), json), dictionaries, (data, metadata, dictionary: Dictionary | undefined) => {
        const texts = { data: canonicalJson(data as JsonValue), metadata: canonicalJson(metadata as JsonValue) };
        const row = encodeRow(texts, dictionary);
        expect(row[0]).toBe(dictionary?.id ?? NO_DICTIONARY);
        const decoded = decodeRow(row, (id) => (id === dictionary?.id ? dictionary.bytes : undefined));
        expect(decoded).toEqual(texts);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps data text with raw newlines whole, since only the first one separates', () => {
    fc.assert(
      fc.property(json, (data) => {
        const texts = { data: JSON.stringify(data, null, 2), metadata: '{"schemaVersion":1}' };
        expect(decodeRow(encodeRow(texts, undefined), () => undefined)).toEqual(texts);
      }),
    );
  });

  it('refuses metadata text with a raw newline, which would read back cut short', () => {
    expect(() => encodeRow({ data: '{}', metadata: '{\n"a":1}' }, undefined)).toThrow(/metadata text holds a raw newline/);
  });
});
