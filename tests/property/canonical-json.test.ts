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

describe('the text stores write, for values the native serialiser would get wrong', () => {
  const stored = (data: unknown) => serialiseEvents([{ id: randomUUID(), type: 'Anything', data }])[0]!.data;

  it('orders integer-like keys by code point, as canonicalJson does, not first as objects list them', () => {
    expect(stored({ b: 1, 10: 2, 9: 3 })).toBe('{"10":2,"9":3,"b":1}');
  });

  it('keeps an own __proto__ key as data', () => {
    const data = JSON.parse('{"z":1,"__proto__":{"x":2}}') as JsonValue;
    expect(stored(data)).toBe(canonicalJson(data));
    expect(stored(data)).toBe('{"__proto__":{"x":2},"z":1}');
  });

  it('orders keys inside arrays and deeper than the fast path goes', () => {
    let deep: JsonValue = { b: [{ d: 1, c: 2 }], a: null };
    for (let i = 0; i < 100; i++) deep = { y: deep, x: i };
    expect(stored(deep)).toBe(canonicalJson(deep));
  });

  it('still names what it refuses', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    expect(() => stored(cyclic)).toThrow('events[0].data.self.back contains a cycle');
    expect(() => stored({ list: [1, Number.NaN] })).toThrow('events[0].data.list[1] is not a finite number');
    expect(() => stored({ when: new Date(0) })).toThrow('events[0].data.when is a Date object, not JSON');
    expect(() => stored({ gone: undefined })).toThrow('events[0].data.gone is undefined');
  });
});
