// The GraphQL-over-HTTP conformance audits of graphql-http, run against /graphql with a valid
// Authorization header: every audit, MUST, SHOULD and MAY, has to pass.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverAudits } from 'graphql-http';
import { startHarness, type Harness } from './harness.js';

describe('graphql-http server audits', () => {
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    h = await startHarness();
    key = (await h.createUser('audit-user')).key;
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('passes every MUST, SHOULD and MAY audit', async () => {
    const fetchFn = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${key}`);
      return fetch(input, { ...init, headers, signal: AbortSignal.timeout(5_000) });
    };
    const audits = serverAudits({ url: h.url, fetchFn });
    expect(audits.length).toBeGreaterThan(20);
    const results = [];
    for (const audit of audits) results.push(await audit.fn());

    const must = results.filter((r) => r.name.startsWith('MUST'));
    expect(must.length).toBeGreaterThan(10);
    const failedMust = must.filter((r) => r.status !== 'ok').map((r) => `${r.id} ${r.name}: ${'reason' in r ? r.reason : ''}`);
    const failedShould = results.filter((r) => r.name.startsWith('SHOULD') && r.status !== 'ok').map((r) => `${r.id} ${r.name}: ${'reason' in r ? r.reason : ''}`);
    const failedMay = results.filter((r) => r.name.startsWith('MAY') && r.status !== 'ok').map((r) => `${r.id} ${r.name}: ${'reason' in r ? r.reason : ''}`);
    expect(failedMust).toEqual([]);
    expect(failedShould).toEqual([]);
    expect(failedMay).toEqual([]);
  });

  it('answers queries over GET with a key, refuses mutations over GET, and refuses a key-less GET as a possible CSRF', async () => {
    const get = (query: string, headers: Record<string, string>) => fetch(`${h.url}?query=${encodeURIComponent(query)}`, { headers });
    const withKey = { authorization: `Bearer ${key}` };
    const query = await get('{ __typename }', withKey);
    expect(query.status).toBe(200);
    expect(await query.json()).toEqual({ data: { __typename: 'Query' } });

    const mutation = await get('mutation { expungeVirtualMachine(id: "x") }', withKey);
    expect(mutation.status).toBe(405);
    expect(((await mutation.json()) as { data?: unknown }).data).toBeUndefined();

    const keyless = await get('{ __typename }', {});
    expect(keyless.status).toBe(400);
    expect(await keyless.text()).toMatch(/Cross-Site Request Forgery/);
  });

  it('an unauthenticated request still gets a GraphQL JSON body with errors and no data', async () => {
    const response = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/json/);
    const body = (await response.json()) as { errors?: unknown[]; data?: unknown };
    expect(Array.isArray(body.errors)).toBe(true);
    expect(body.data).toBeUndefined();
  });
});
