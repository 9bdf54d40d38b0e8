// The subset of JSON Schema (draft 2020-12) that docs/usage-schema/ uses, so the contract can be
// checked without a dependency. A keyword outside the subset is an error, never silently ignored.
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = { readonly [keyword: string]: Json };

const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description']);
const KEYWORDS = new Set(['type', 'properties', 'required', 'additionalProperties', 'const', 'enum', 'minimum', 'minLength', 'pattern']);

/** The paths and reasons at which `value` breaks `schema`; empty when it conforms. */
export function validate(schema: Schema, value: Json, path = '$'): string[] {
  for (const keyword of Object.keys(schema)) {
    if (!ANNOTATIONS.has(keyword) && !KEYWORDS.has(keyword)) throw new Error(`unsupported keyword ${keyword} at ${path}`);
  }
  const errors: string[] = [];
  const type = schema.type;
  if (type !== undefined) {
    const types = Array.isArray(type) ? type : [type];
    if (!types.some((t) => typeof t === 'string' && hasType(value, t))) errors.push(`${path}: expected ${types.join(' or ')}, got ${describe(value)}`);
  }
  if ('const' in schema && !equal(schema.const!, value)) errors.push(`${path}: expected ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.some((option) => equal(option, value))) errors.push(`${path}: not one of ${JSON.stringify(schema.enum)}`);
  if (typeof value === 'number' && typeof schema.minimum === 'number' && value < schema.minimum) errors.push(`${path}: below ${schema.minimum}`);
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && [...value].length < schema.minLength) errors.push(`${path}: shorter than ${schema.minLength}`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) errors.push(`${path}: does not match ${schema.pattern}`);
  }
  if (isObject(value)) {
    const properties = isObject(schema.properties) ? schema.properties : {};
    for (const name of Array.isArray(schema.required) ? schema.required : []) {
      if (typeof name === 'string' && !(name in value)) errors.push(`${path}: missing ${name}`);
    }
    for (const [name, item] of Object.entries(value)) {
      const sub = properties[name];
      if (isObject(sub)) errors.push(...validate(sub, item, `${path}.${name}`));
      else if (schema.additionalProperties === false) errors.push(`${path}: unexpected ${name}`);
    }
  }
  return errors;
}

function hasType(value: Json, type: string): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'string':
      return typeof value === 'string';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isObject(value);
    default:
      throw new Error(`unknown type ${type}`);
  }
}

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function equal(a: Json, b: Json): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function describe(value: Json): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}
