// GET /graphql/schema.graphql: the SDL of the schema the server executes, for clients that generate
// code from it. It is the public contract, so it needs no API key (introspection, which does, stays
// behind the key like every other operation).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSchema, printSchema } from '../../api/graphql/graphql-js.js';
import { buildExecutableSchema } from '../../api/graphql/executable-schema.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
let schemaUrl: string;

beforeAll(async () => {
  h = await startHarness();
  schemaUrl = `${h.url}/schema.graphql`;
});

afterAll(async () => {
  await h?.stop();
});

describe('GET /graphql/schema.graphql', () => {
  it('given no API key, when the SDL is fetched, then it is the executable schema, printed, as text', async () => {
    const response = await fetch(schemaUrl);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; charset=utf-8/);
    const sdl = await response.text();
    expect(sdl).toBe(`${printSchema(buildExecutableSchema())}\n`);
    // Whatever a client feeds it to, it parses back into the same operations.
    const parsed = buildSchema(sdl);
    expect(Object.keys(parsed.getMutationType()!.getFields())).toContain('deployVirtualMachine');
    expect(Object.keys(parsed.getSubscriptionType()!.getFields())).toEqual(['asyncJobUpdated']);
  });

  it('given a HEAD request, when it is answered, then it carries the headers and no body', async () => {
    const response = await fetch(schemaUrl, { method: 'HEAD' });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await response.text()).toBe('');
  });

  it('given no API key, when GraphQL itself is asked, then it still answers UNAUTHENTICATED', async () => {
    const response = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __schema { queryType { name } } }' }),
    });

    expect(response.status).toBe(401);
  });
});
