// The web console (console/, built by `npm run build` into dist/console): static files at `/`, beside
// /graphql. It is a single-page application, so any other GET that asks for HTML is answered with its
// index.html and the client routes it. The console talks to the public GraphQL API only; serving it
// from the same origin is what lets its requests and WebSocket need no CORS.
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';

/**
 * dist/console of the checkout this module belongs to: found by walking up to package.json, since this
 * file runs both from api/graphql (tsx, tests) and from dist/api/graphql (npm start).
 */
export function defaultConsoleDirectory(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return resolve('dist', 'console');
    dir = parent;
  }
  return join(dir, 'dist', 'console');
}

// The console loads only its own files and talks only to its own origin ('self' covers the WebSocket
// too); nothing may frame it, since its buttons act on instances.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vmledger</title></head>
<body><h1>The web console is not built</h1>
<p>Build it with <code>npm run build</code> (or <code>npm run build:console</code>) and reload this page.
The GraphQL API is served at <a href="/graphql/schema.graphql">/graphql</a> meanwhile.</p></body></html>
`;

/** Paths the console never answers: the API's own (they are routed before it, this only keeps a typo there a 404). */
function isApiPath(path: string): boolean {
  return path === '/graphql' || path.startsWith('/graphql/') || path === '/healthz';
}

export function consoleRouter(directory: string): Router {
  const router = express.Router();
  const index = join(directory, 'index.html');

  // Vite names every asset by its content's hash, so an asset never changes under its name.
  router.use(
    '/assets',
    express.static(join(directory, 'assets'), {
      index: false,
      immutable: true,
      maxAge: '365d',
    }),
  );
  router.use('/assets', (_req: Request, res: Response) => {
    res.status(404).type('text/plain').send('Not found');
  });

  const page: RequestHandler = (req: Request, res: Response, next) => {
    if (isApiPath(req.path)) return next();
    // A client route (/instances/…) is the page; a missing file (/favicon.ico, /x.js) is a 404.
    if (req.path !== '/' && !req.accepts('html')) return next();
    res.setHeader('x-content-type-options', 'nosniff');
    // index.html names the current build's assets: a cached copy would load the last build's.
    res.setHeader('cache-control', 'no-store');
    if (!isFile(index)) {
      res.status(503).type('html').send(NOT_BUILT);
      return;
    }
    res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
    res.sendFile(index);
  };
  router.get('/', page);
  router.get(/.*/, page);
  return router;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
