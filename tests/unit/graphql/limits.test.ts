import { describe, expect, it } from 'vitest';
import { getIntrospectionQuery, GraphQLError, parse, specifiedRules, validate } from '../../../api/graphql/graphql-js.js';
import { buildExecutableSchema } from '../../../api/graphql/executable-schema.js';
import {
  assertWithinComplexity,
  documentSizeError,
  limitRules,
  GRAPHQL_JS_FIELD_COMPARISONS,
  GRAPHQL_JS_FRAGMENT_WORK,
  GRAPHQL_JS_MAX_VALIDATION_ERRORS,
  MAX_ALIASES,
  MAX_COMPLEXITY,
  MAX_DEPTH,
  MAX_DOCUMENT_BYTES,
  MAX_DOCUMENT_TOKENS,
  MAX_FIELD_SELECTIONS,
  operationComplexity,
} from '../../../api/graphql/limits/index.js';
import { checkOperation } from '../../../api/graphql/operation.js';
import { formatErrors } from '../../../api/graphql/errors.js';

const schema = buildExecutableSchema();

function validationErrors(query: string): readonly GraphQLError[] {
  return validate(schema, parse(query), [...specifiedRules, ...limitRules]);
}

const FULL_INSTANCE = `id name displayName instanceName state zoneId hostId lastHostId serviceOfferingId templateId accountId
  domainId group cpuNumber cpuSpeed memory deleteProtection haEnable leaseDuration leaseExpiryAction leaseExpiryDate details
  created affinityGroupIds nics { id networkId macAddress ipAddress isDefault deviceId }
  volumes { id name type size storagePoolId state }`;

/** A field nested `levels` deep through introspection's only cycle. */
function nestedOfType(levels: number): string {
  let selection = 'name';
  for (let level = 0; level < levels; level += 1) selection = `ofType { ${selection} }`;
  return `{ __type(name: "VirtualMachine") { ${selection} } }`;
}

describe('depth limit', () => {
  it('accepts the queries clients send, including the standard introspection query', () => {
    expect(validationErrors(`{ virtualMachines { nodes { ${FULL_INSTANCE} } pageInfo { hasNextPage endCursor } totalCount } }`)).toEqual([]);
    expect(validationErrors(`{ asyncJob(id: "j") { id status error { code errorCode message } result { nics { id } } } }`)).toEqual([]);
    expect(validationErrors(getIntrospectionQuery())).toEqual([]);
  });

  it('accepts exactly the maximum depth and rejects one level more', () => {
    // __type is level 1, each ofType one more, the leaf one more.
    expect(validationErrors(nestedOfType(MAX_DEPTH - 2))).toEqual([]);
    const errors = validationErrors(nestedOfType(MAX_DEPTH - 1));
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toContain(`at most ${MAX_DEPTH}`);
    expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431 });
  });

  it('follows fragments, and survives fragment cycles (reported by graphql-js, not looped over)', () => {
    let fragments = 'fragment F0 on __Type { name }';
    for (let level = 1; level <= MAX_DEPTH; level += 1) fragments += `\nfragment F${level} on __Type { ofType { ...F${level - 1} } }`;
    const errors = validationErrors(`{ __type(name: "Nic") { ...F${MAX_DEPTH} } }\n${fragments}`);
    expect(errors.some((error) => error.message.includes('levels deep'))).toBe(true);
    const cyclic = validationErrors('{ __type(name: "Nic") { ...A } } fragment A on __Type { ofType { ...B } } fragment B on __Type { ofType { ...A } }');
    expect(cyclic.some((error) => error.message.includes('Cannot spread fragment'))).toBe(true);
  });

  it('measures a fragment fan-out in linear time', () => {
    // Each fragment spreads the next twice: 2^40 expansions if measured naively.
    let fragments = 'fragment G40 on VirtualMachine { id }';
    for (let level = 39; level >= 0; level -= 1) fragments += `\nfragment G${level} on VirtualMachine { ...G${level + 1} ... on VirtualMachine { ...G${level + 1} } }`;
    const started = Date.now();
    validationErrors(`{ virtualMachine(id: "x") { ...G0 } }\n${fragments}`);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('alias and selection limits', () => {
  it('rejects more aliases than allowed', () => {
    const aliased = (count: number) => `mutation { ${Array.from({ length: count }, (_, index) => `a${index}: expungeVirtualMachine(id: "${index}")`).join(' ')} }`;
    expect(validationErrors(aliased(MAX_ALIASES))).toEqual([]);
    const errors = validationErrors(aliased(MAX_ALIASES + 1));
    expect(errors.map((error) => error.message)).toEqual([`the document uses ${MAX_ALIASES + 1} aliases; at most ${MAX_ALIASES} are allowed`]);
  });

  it('names the field-selection limit where graphql-js would give up with "Validation aborted."', () => {
    const leaves = ['id', 'name', '__typename'];
    const fields = (count: number, type = 'zones') => `{ ${type} { nodes { ${Array.from({ length: count - 2 }, (_, i) => leaves[i % 3]).join(' ')} } } }`;
    expect(validationErrors(fields(MAX_FIELD_SELECTIONS))).toEqual([]);
    // 1,001 fields in one selection set: more pairs than graphql-js's budget of comparisons.
    const errors = validationErrors(fields(MAX_FIELD_SELECTIONS + 1));
    expect(errors[0]?.message).toBe(`the document selects ${MAX_FIELD_SELECTIONS + 1} fields; at most ${MAX_FIELD_SELECTIONS} are allowed`);
    expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431 });
    // The same field 1,001 times: graphql-js gives up comparing them, after the limit was named.
    const same = validationErrors(`{ zones { nodes { ${'id '.repeat(MAX_FIELD_SELECTIONS - 1)}} } }`);
    expect(same[0]?.message).toBe(`the document selects ${MAX_FIELD_SELECTIONS + 1} fields; at most ${MAX_FIELD_SELECTIONS} are allowed`);
    // What graphql-js adds after it is named too, once formatted for a client (both transports format so).
    const checked = checkOperation(schema, { query: fields(MAX_FIELD_SELECTIONS + 1, 'virtualMachines') });
    const formatted = formatErrors('errors' in checked ? checked.errors : [], { error: () => undefined });
    expect(formatted[0]?.message).toBe(`the document selects ${MAX_FIELD_SELECTIONS + 1} fields; at most ${MAX_FIELD_SELECTIONS} are allowed`);
    for (const error of formatted) {
      expect(error.message).not.toBe('Validation aborted.');
      expect(error.message).toMatch(/at most|budget/);
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431 });
    }
    // Within the limit, one field repeated 708 times is more than graphql-js will compare: named as its budget.
    const repeated = checkOperation(schema, { query: `{ zones { nodes { ${'id '.repeat(708)}} } }` });
    const [budget] = formatErrors('errors' in repeated ? repeated.errors : [], { error: () => undefined });
    expect(budget?.message).toMatch(/^validation stopped: the document needs more than graphql-js's budget of 500000 field comparisons/);
  });

  it('counts fields and aliases in fragments, once each', () => {
    const errors = validationErrors(`{ zones { nodes { ...Z ...Z } } } fragment Z on Zone { ${Array.from({ length: MAX_ALIASES + 1 }, (_, i) => `a${i}: id`).join(' ')} }`);
    expect(errors.map((error) => error.message)).toEqual([`the document uses ${MAX_ALIASES + 1} aliases; at most ${MAX_ALIASES} are allowed`]);
  });
});

describe("graphql-js's own aborts", () => {
  it('are told as the budget that ran out, never as a bare "Validation aborted."', () => {
    const format = (message: string) => formatErrors([new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })], { error: () => undefined })[0]!;
    const budget = format('Validation aborted.');
    expect(budget.message).toContain(`${GRAPHQL_JS_FIELD_COMPARISONS} field comparisons`);
    expect(budget.message).toContain(`${GRAPHQL_JS_FRAGMENT_WORK} fragment expansions`);
    expect(budget.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431, reason: 'GRAPHQL_VALIDATION_FAILED' });
    expect(format('Too many validation errors, error limit reached. Validation aborted.').message).toBe(
      `validation stopped after ${GRAPHQL_JS_MAX_VALIDATION_ERRORS} errors, the most it reports for one document`,
    );
    // The budgets are graphql-js's: if it changes them, this says so.
    const tooManyErrors = validate(schema, parse(`{ ${Array.from({ length: GRAPHQL_JS_MAX_VALIDATION_ERRORS + 1 }, (_, i) => `f${i}`).join(' ')} }`));
    expect(tooManyErrors.at(-1)?.message).toBe('Too many validation errors, error limit reached. Validation aborted.');
    expect(tooManyErrors).toHaveLength(GRAPHQL_JS_MAX_VALIDATION_ERRORS + 1);
  });
});

describe('complexity', () => {
  it('accepts a default page of instances with every field and a page of 100', () => {
    const query = (first: string) => parse(`{ virtualMachines${first} { nodes { ${FULL_INSTANCE} } pageInfo { hasNextPage endCursor } totalCount } }`);
    expect(() => assertWithinComplexity(schema, { document: query('') })).not.toThrow();
    expect(() => assertWithinComplexity(schema, { document: query('(first: 100)') })).not.toThrow();
  });

  it('weighs lists by first, default 50, including through variables', () => {
    const document = parse('query($n: Int) { virtualMachines(first: $n) { nodes { id } } }');
    const cost = (variables: Record<string, unknown>) => operationComplexity(schema, { document, variables }) ?? 0;
    expect(cost({ n: 10 })).toBeLessThan(cost({}));
    expect(cost({})).toBe(cost({ n: 50 }));
    expect(cost({ n: 500 })).toBeGreaterThan(cost({ n: 50 }) * 9);
  });

  it('rejects an expensive page of everything, naming the cost', () => {
    const document = parse(`{ virtualMachines(first: 500) { nodes { ${FULL_INSTANCE} } } }`);
    expect(() => assertWithinComplexity(schema, { document })).toThrow(/estimated cost is \d+; at most 10000/);
    try {
      assertWithinComplexity(schema, { document });
    } catch (error) {
      expect(error).toBeInstanceOf(GraphQLError);
      expect((error as GraphQLError).extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431 });
    }
  });

  it('keeps introspection cheap enough to run', () => {
    expect(operationComplexity(schema, { document: parse(getIntrospectionQuery()) })).toBeLessThan(MAX_COMPLEXITY);
  });

  it('counts only the selected operation', () => {
    const document = parse(`query Cheap { zones { nodes { id } } } query Dear { virtualMachines(first: 500) { nodes { ${FULL_INSTANCE} } } }`);
    expect(() => assertWithinComplexity(schema, { document, operationName: 'Cheap' })).not.toThrow();
    expect(() => assertWithinComplexity(schema, { document, operationName: 'Dear' })).toThrow(/estimated cost/);
  });

  it('reports variables that do not fit their types as BAD_USER_INPUT', () => {
    const document = parse('query($id: ID!) { virtualMachine(id: $id) { id } }');
    expect(() => operationComplexity(schema, { document, variables: {} })).toThrow(/\$id/);
  });
});

describe('document size', () => {
  it('accepts documents up to the limit and names the size beyond it', () => {
    expect(documentSizeError('{ zones { totalCount } }')).toBeUndefined();
    expect(documentSizeError(' '.repeat(MAX_DOCUMENT_BYTES))).toBeUndefined();
    const error = documentSizeError(' '.repeat(MAX_DOCUMENT_BYTES + 1));
    expect(error?.message).toBe(`the query document is ${MAX_DOCUMENT_BYTES + 1} bytes long; at most ${MAX_DOCUMENT_BYTES} are allowed`);
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431, field: 'query' });
    // Counted in bytes: three-byte characters reach the limit at a third of the length.
    expect(documentSizeError('€'.repeat(MAX_DOCUMENT_BYTES / 3 + 1))).toBeDefined();
  });
});

describe('checkOperation (the WebSocket pipeline)', () => {
  it('returns the document of an acceptable operation', () => {
    const checked = checkOperation(schema, { query: 'subscription { asyncJobUpdated(id: "j") { id status } }' });
    expect('document' in checked).toBe(true);
  });

  it('tags parse and validation errors as Apollo does, and applies every limit', () => {
    const codes = (query: string, variables?: Record<string, unknown>) => {
      const checked = checkOperation(schema, { query, variables });
      return 'errors' in checked ? checked.errors.map((error) => error.extensions['code']) : [];
    };
    expect(codes('{ zones {')).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect(codes('{ nope }')).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(codes(nestedOfType(MAX_DEPTH))).toEqual(['BAD_USER_INPUT']);
    expect(codes(`{ virtualMachines(first: 500) { nodes { ${FULL_INSTANCE} } } }`)).toEqual(['BAD_USER_INPUT']);
    expect(codes(' '.repeat(MAX_DOCUMENT_BYTES + 1))).toEqual(['BAD_USER_INPUT']);
  });

  it('reuses a document it validated, but weighs its cost with every set of variables', () => {
    const query = `query($n: Int) { virtualMachines(first: $n) { nodes { ${FULL_INSTANCE} } } }`;
    const first = checkOperation(schema, { query, variables: { n: 10 } });
    const again = checkOperation(schema, { query, variables: { n: 20 } });
    expect('document' in first && 'document' in again && first.document === again.document).toBe(true);
    const dear = checkOperation(schema, { query, variables: { n: 500 } });
    expect('errors' in dear ? dear.errors[0]?.message : '').toMatch(/estimated cost/);
    // An invalid text is never kept as valid: it fails again, however often it is sent.
    for (let i = 0; i < 2; i++) expect('errors' in checkOperation(schema, { query: '{ nope }' })).toBe(true);
  });

  it('stops parsing after the token limit', () => {
    const checked = checkOperation(schema, { query: `{ ${'a '.repeat(MAX_DOCUMENT_TOKENS)} }` });
    expect('errors' in checked ? checked.errors[0]?.message : '').toContain(`${MAX_DOCUMENT_TOKENS} tokens`);
  });
});
