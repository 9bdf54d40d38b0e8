import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, canonicalJson, chainContent, checkLink, checkStoredEvent, linkHash, seal, storedLink } from '../../../adapters/eventstore/hash-chain.js';
import type { JsonObject, JsonValue, StoredEvent } from '../../../adapters/eventstore/port.js';

const event = { id: '3f0a0b1c-0000-4000-8000-000000000001', type: 'InstanceStarted', data: { b: [1, { y: 2, x: 'é' }], a: null } as JsonValue, metadata: { occurredAt: '2025-03-01T10:00:00.000Z' } as JsonObject };

describe('the hash chain', () => {
  it('canonicalises JSON whatever the key order, and agrees with its own parse', () => {
    expect(canonicalJson({ b: 1, a: { d: [true, null], c: 'x' } })).toBe('{"a":{"c":"x","d":[true,null]},"b":1}');
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const json = value as JsonValue;
        expect(canonicalJson(JSON.parse(JSON.stringify(json)) as JsonValue)).toBe(canonicalJson(json));
        expect(JSON.parse(canonicalJson(json))).toEqual(JSON.parse(JSON.stringify(json)));
      }),
    );
  });

  it('covers the stream, the revision, the id, the type, the data, the metadata and the predecessor', () => {
    const base = linkHash(GENESIS_HASH, 'instance-1', 0, chainContent(event));
    const variants = [
      linkHash('1'.repeat(64), 'instance-1', 0, chainContent(event)),
      linkHash(GENESIS_HASH, 'instance-2', 0, chainContent(event)),
      linkHash(GENESIS_HASH, 'instance-1', 1, chainContent(event)),
      linkHash(GENESIS_HASH, 'instance-1', 0, chainContent({ ...event, id: '3f0a0b1c-0000-4000-8000-000000000002' })),
      linkHash(GENESIS_HASH, 'instance-1', 0, chainContent({ ...event, type: 'InstanceStopped' })),
      linkHash(GENESIS_HASH, 'instance-1', 0, chainContent({ ...event, data: { b: [1, { y: 2, x: 'e' }], a: null } })),
      linkHash(GENESIS_HASH, 'instance-1', 0, chainContent({ ...event, metadata: { occurredAt: '2025-03-01T10:00:00.001Z' } })),
    ];
    expect(new Set([base, ...variants]).size).toBe(8);
    expect(linkHash(GENESIS_HASH, 'instance-1', 0, chainContent({ ...event, data: { a: null, b: [1, { x: 'é', y: 2 }] } }))).toBe(base);
  });

  it('seals canonical texts with the link last, ignoring any link already there, and checks it back', () => {
    const sealed = seal(GENESIS_HASH, 'instance-1', 0, chainContent({ ...event, metadata: { z: 1, ...event.metadata, hashChain: { hash: 'f'.repeat(64), previous: GENESIS_HASH } } }));
    expect(sealed.data).toBe('{"a":null,"b":[1,{"x":"é","y":2}]}');
    const metadata = JSON.parse(sealed.metadata) as JsonObject;
    expect(Object.keys(metadata)).toEqual(['occurredAt', 'z', 'hashChain']);
    expect(storedLink(metadata)).toEqual(sealed.link);
    const stored = { ...event, stream: 'instance-1', revision: 0, data: JSON.parse(sealed.data) as JsonValue, metadata };
    expect(checkLink(GENESIS_HASH, stored)).toEqual({ hash: sealed.link.hash });
    expect(checkLink('2'.repeat(64), stored).problem).toBe('previous-mismatch');
    expect(checkLink(GENESIS_HASH, { ...stored, revision: 1 }).problem).toBe('hash-mismatch');
    expect(checkLink(GENESIS_HASH, { ...stored, metadata: { occurredAt: event.metadata.occurredAt!, z: 1 } }).problem).toBe('missing');
    expect(storedLink({ hashChain: { hash: 'not-hex', previous: GENESIS_HASH } })).toBeUndefined();
  });

  it('accepts a sealed event whose keys were reordered since, and nothing else', () => {
    const sealed = seal(GENESIS_HASH, 'instance-1', 0, chainContent(event));
    const metadata = JSON.parse(sealed.metadata) as JsonObject;
    const reordered = { ...event, stream: 'instance-1', revision: 0, data: { b: [1, { y: 2, x: 'é' }], a: null }, metadata: { hashChain: metadata.hashChain!, occurredAt: event.metadata.occurredAt! } };
    expect(checkLink(GENESIS_HASH, reordered).problem).toBeUndefined();
    expect(checkLink(GENESIS_HASH, { ...reordered, data: { b: [1, { y: 3, x: 'é' }], a: null } }).problem).toBe('hash-mismatch');
  });

  it('decides the same on stored text as on the parsed event, sound or tampered', () => {
    const reversed = (value: JsonValue): JsonValue =>
      value === null || typeof value !== 'object' ? value : Array.isArray(value) ? value.map(reversed) : Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]));
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 })),
        fc.constantFrom('none', 'data', 'reorder', 'revision', 'previous', 'link', 'garbage'),
        (data, metadata, tamper) => {
          const sealed = seal(GENESIS_HASH, 'instance-1', 0, chainContent({ ...event, data: data as JsonValue, metadata: metadata as JsonObject }));
          let stored: StoredEvent = { ...event, stream: 'instance-1', revision: 0, position: 1, recordedAt: '2025-03-01T10:00:00.000Z', data: sealed.data, metadata: sealed.metadata };
          let expectedPrevious = GENESIS_HASH;
          if (tamper === 'data') stored = { ...stored, data: JSON.stringify({ tampered: JSON.parse(stored.data) as JsonValue }) };
          if (tamper === 'reorder') stored = { ...stored, data: JSON.stringify(reversed(JSON.parse(stored.data) as JsonValue)), metadata: JSON.stringify(reversed(JSON.parse(stored.metadata) as JsonValue)) };
          if (tamper === 'revision') stored = { ...stored, revision: 1 };
          if (tamper === 'previous') expectedPrevious = '3'.repeat(64);
          if (tamper === 'link') stored = { ...stored, metadata: stored.metadata.replace(sealed.link.hash, '4'.repeat(64)) };
          if (tamper === 'garbage') stored = { ...stored, data: '{"unterminated' };
          const fromText = checkStoredEvent(expectedPrevious, stored);
          if (tamper === 'garbage') {
            // Named as unreadable, and the walk goes on from its own link, which is still intact.
            expect(fromText).toEqual({ hash: sealed.link.hash, problem: 'not-json', unreadable: 'data' });
            return;
          }
          const parsed = { ...stored, data: JSON.parse(stored.data) as JsonValue, metadata: JSON.parse(stored.metadata) as JsonObject };
          expect(fromText).toEqual(checkLink(expectedPrevious, parsed));
          expect(fromText.problem === undefined).toBe(tamper === 'none' || tamper === 'reorder');
        },
      ),
      { numRuns: 400 },
    );
  });
});
