// docs/api.md is the API's user documentation: it must describe the schema that is served, operation
// by operation with its exact signature, and describe nothing the schema does not have. A failure
// here means the schema changed and the page did not (or the other way round).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { astFromValue, print, type GraphQLField, type GraphQLObjectType } from '../../../api/graphql/graphql-js.js';
import { buildExecutableSchema } from '../../../api/graphql/executable-schema.js';
import { CLOUDSTACK_ERROR_CODES } from '../../../api/control-plane/port.js';

const doc = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8');
const schema = buildExecutableSchema();
const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter(
  (type): type is GraphQLObjectType => type !== null && type !== undefined,
);
const operations = roots.flatMap((root) => Object.values(root.getFields()).map((field) => ({ root: root.name, field })));

/** How the page writes an operation: `name(arg: Type, arg: Type = default)` → `ReturnType`. */
function signature(field: GraphQLField<unknown, unknown>): string {
  const args = field.args.map((arg) => {
    const value = arg.defaultValue === undefined ? undefined : astFromValue(arg.defaultValue, arg.type);
    return `${arg.name}: ${String(arg.type)}${value ? ` = ${print(value)}` : ''}`;
  });
  return `\`${field.name}(${args.join(', ')})\` → \`${String(field.type)}\``;
}

describe('docs/api.md', () => {
  it.each(operations.map(({ root, field }) => [`${root}.${field.name}`, field] as const))('documents %s with its signature', (_name, field) => {
    const written = signature(field);
    expect(doc.includes(written), `docs/api.md should have ${written}`).toBe(true);
  });

  it('documents no operation the schema does not serve', () => {
    const served = new Set(operations.map(({ field }) => field.name));
    const documented = [...doc.matchAll(/`(\w+)\(/g)].map((match) => match[1]!);
    expect(documented.filter((name) => !served.has(name))).toEqual([]);
  });

  it.each(Object.entries(CLOUDSTACK_ERROR_CODES))('lists the error code %s with its errorCode %i', (code, errorCode) => {
    const row = `| \`${code}\` | ${errorCode} |`;
    expect(doc.includes(row), `docs/api.md should have a row ${row}`).toBe(true);
  });
});
