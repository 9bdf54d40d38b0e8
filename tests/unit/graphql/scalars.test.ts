import { describe, expect, it } from 'vitest';
import { buildExecutableSchema } from '../../../api/graphql/executable-schema.js';
import { GraphQLError, GraphQLScalarType, parse, specifiedRules, validate, type GraphQLSchema } from '../../../api/graphql/graphql-js.js';
import { limitRules } from '../../../api/graphql/limits/index.js';
import { MAX_JSON_DEPTH, normalizeDateTime, parseDateTime, parseJson, serializeDateTime } from '../../../api/graphql/scalars.js';

const schema: GraphQLSchema = buildExecutableSchema();

function scalar(name: string): GraphQLScalarType {
  const type = schema.getType(name);
  if (!(type instanceof GraphQLScalarType)) throw new Error(`${name} is not a scalar`);
  return type;
}

function badInput(run: () => unknown): GraphQLError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    expect((error as GraphQLError).extensions).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 431 });
    return error as GraphQLError;
  }
  throw new Error('expected BAD_USER_INPUT');
}

describe('DateTime', () => {
  it('accepts ISO-8601 date-times with a zone and normalises them to UTC with milliseconds', () => {
    expect(parseDateTime('2025-01-31T12:00:00Z')).toBe('2025-01-31T12:00:00.000Z');
    expect(parseDateTime('2025-01-31T12:00Z')).toBe('2025-01-31T12:00:00.000Z');
    expect(parseDateTime('2025-01-31T12:00:00.123456Z')).toBe('2025-01-31T12:00:00.123Z');
    expect(parseDateTime('2025-01-31T14:00:00+02:00')).toBe('2025-01-31T12:00:00.000Z');
    expect(parseDateTime('2025-01-31T07:00:00-0500')).toBe('2025-01-31T12:00:00.000Z');
    expect(parseDateTime('2024-02-29T00:00:00z')).toBe('2024-02-29T00:00:00.000Z');
  });

  it.each([
    'yesterday',
    '2025-01-31',
    '2025-01-31T12:00:00',
    '2025-02-30T00:00:00Z',
    '2025-13-01T00:00:00Z',
    '2025-01-31T24:00:00Z',
    '2025-01-31T12:60:00Z',
    '2025-01-31 12:00:00Z',
    '1738324800',
    '',
  ])('rejects %j, quoting it', (value) => {
    expect(normalizeDateTime(value)).toBeUndefined();
    expect(badInput(() => parseDateTime(value)).message).toContain(JSON.stringify(value));
  });

  it('rejects non-strings from variables', () => {
    badInput(() => parseDateTime(1738324800000));
    badInput(() => parseDateTime(null));
  });

  it('is wired into the schema for variables and literals', () => {
    expect(scalar('DateTime').parseValue('2025-01-31T12:00:00Z')).toBe('2025-01-31T12:00:00.000Z');
    const errors = validate(schema, parse('{ virtualMachineAsOf(id: "vm-1", at: "last tuesday") { id } }'), [...specifiedRules, ...limitRules]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toContain('"last tuesday"');
    expect(validate(schema, parse('{ virtualMachineAsOf(id: "vm-1", at: 5) { id } }'))).toHaveLength(1);
    expect(validate(schema, parse('{ virtualMachineAsOf(id: "vm-1", at: "2025-01-31T12:00:00Z") { id } }'))).toEqual([]);
  });

  it('serialises stored ISO strings and Dates, and refuses anything else', () => {
    expect(serializeDateTime('2025-01-31T12:00:00.000Z')).toBe('2025-01-31T12:00:00.000Z');
    expect(serializeDateTime(new Date('2025-01-31T12:00:00Z'))).toBe('2025-01-31T12:00:00.000Z');
    expect(() => serializeDateTime('soon')).toThrow();
  });
});

describe('JSON', () => {
  it('accepts any JSON value from variables', () => {
    const value = { a: [1, 2.5, 'x', true, null], b: { c: 'd' } };
    expect(parseJson(value)).toEqual(value);
    expect(parseJson('text')).toBe('text');
    expect(parseJson(null)).toBeNull();
  });

  it.each([
    ['a non-finite number', Number.NaN],
    ['undefined', undefined],
    ['a function', () => 1],
    ['a Date', new Date()],
    ['a __proto__ key', JSON.parse('{"__proto__": {"polluted": true}}') as unknown],
  ])('rejects %s', (_label, value) => {
    badInput(() => parseJson(value));
  });

  it(`rejects nesting deeper than ${MAX_JSON_DEPTH}`, () => {
    let deep: unknown = 'leaf';
    for (let level = 0; level <= MAX_JSON_DEPTH; level += 1) deep = [deep];
    expect(badInput(() => parseJson(deep)).message).toContain(`deeper than ${MAX_JSON_DEPTH}`);
  });

  it('parses literals, including variables inside them, and refuses unquoted words', () => {
    const json = scalar('JSON');
    const literal = (text: string) => {
      const document = parse(`{ f(a: ${text}) }`);
      const definition = document.definitions[0];
      if (definition?.kind !== 'OperationDefinition') throw new Error('no operation');
      const field = definition.selectionSet.selections[0];
      if (field?.kind !== 'Field') throw new Error('no field');
      const argument = field.arguments?.[0];
      if (!argument) throw new Error('no argument');
      return argument.value;
    };
    expect(json.parseLiteral(literal('{ cpuNumber: "2", memory: 1024, tags: ["a"], ok: true, none: null, x: $v }'), { v: 1.5 })).toEqual({
      cpuNumber: '2',
      memory: 1024,
      tags: ['a'],
      ok: true,
      none: null,
      x: 1.5,
    });
    badInput(() => json.parseLiteral(literal('{ cpuNumber: TWO }'), {}));
    badInput(() => json.parseLiteral(literal('{ __proto__: "x" }'), {}));
  });
});
