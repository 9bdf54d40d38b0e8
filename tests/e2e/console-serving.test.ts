// The main job serves the built web console at / beside /graphql: its assets with their content
// types, its index.html for the client routes (never cached), and, when it is not built, a page that
// says how to build it. A console built here into a temporary directory stands in for dist/console.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';

const INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body><div id="root"></div></body></html>';

describe('the web console, served at /', () => {
  let built: Harness;
  let unbuilt: Harness;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vmledger-console-'));
    mkdirSync(join(dir, 'build', 'assets'), { recursive: true });
    writeFileSync(join(dir, 'build', 'index.html'), INDEX);
    writeFileSync(join(dir, 'build', 'assets', 'index-abc123.js'), 'console.log("console")');
    writeFileSync(join(dir, 'build', 'assets', 'index-abc123.css'), 'body{margin:0}');
    [built, unbuilt] = await Promise.all([
      startHarness({ consoleDirectory: join(dir, 'build') }),
      startHarness({ consoleDirectory: join(dir, 'missing') }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([built?.stop(), unbuilt?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers / and any client route with index.html, never cached, under a same-origin content security policy', async () => {
    for (const path of ['/', '/instances', '/instances/5d0c2a7e-0000-4000-8000-000000000000/history', '/admin/hosts']) {
      const response = await fetch(`${built.origin}${path}`, { headers: { accept: 'text/html' } });
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toMatch(/^text\/html/);
      expect(response.headers.get('cache-control'), path).toBe('no-store');
      expect(response.headers.get('content-security-policy'), path).toContain("default-src 'self'");
      expect(response.headers.get('content-security-policy'), path).toContain("frame-ancestors 'none'");
      expect(await response.text(), path).toBe(INDEX);
    }
  });

  it('serves the assets with their content types, cacheable for good since their names carry their hash', async () => {
    const script = await fetch(`${built.origin}/assets/index-abc123.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript|^application\/javascript/);
    expect(script.headers.get('cache-control')).toContain('immutable');
    expect(await script.text()).toBe('console.log("console")');
    const style = await fetch(`${built.origin}/assets/index-abc123.css`);
    expect(style.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('answers a missing asset or non-page file with 404, not with the page', async () => {
    const asset = await fetch(`${built.origin}/assets/gone-000.js`);
    expect(asset.status).toBe(404);
    expect(await asset.text()).toBe('Not found');
    const icon = await fetch(`${built.origin}/favicon.ico`, { headers: { accept: 'image/avif,image/webp,image/*' } });
    expect(icon.status).toBe(404);
  });

  it('leaves /graphql, /graphql/schema.graphql and /healthz as they were', async () => {
    const health = await fetch(built.healthUrl);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    const sdl = await fetch(`${built.origin}/graphql/schema.graphql`);
    expect(sdl.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await sdl.text()).toContain('type Query');
    const unauthenticated = await fetch(built.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ zones { totalCount } }"}' });
    expect(unauthenticated.status).toBe(401);
    const query = await fetch(built.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${built.adminKey}` },
      body: '{"query":"{ zones { totalCount } }"}',
    });
    expect(await query.json()).toEqual({ data: { zones: { totalCount: 1 } } });
    const unknown = await fetch(`${built.origin}/graphql/nothing-here`, { headers: { accept: 'text/html' } });
    expect(await unknown.text()).not.toBe(INDEX);
  });

  it('says how to build the console when it is not built, and the API still answers', async () => {
    const response = await fetch(`${unbuilt.origin}/instances`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(503);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.text()).toContain('npm run build');
    expect((await fetch(unbuilt.healthUrl)).status).toBe(200);
  });
});
