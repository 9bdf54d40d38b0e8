import type { Request, RequestHandler, Response } from 'express';
import { printSchema, type GraphQLSchema } from './graphql-js.js';

/**
 * GET /graphql/schema.graphql: the SDL of the schema being served, printed once. It is the public
 * contract (docs/api.md describes it), so it needs no API key; what the data behind it holds does.
 */
export function schemaSdlHandler(schema: GraphQLSchema): RequestHandler {
  const sdl = `${printSchema(schema)}\n`;
  return (_req: Request, res: Response): void => {
    // text/plain: browsers and curl show it as is; there is no registered media type for SDL.
    res.type('text/plain; charset=utf-8').setHeader('cache-control', 'no-cache');
    res.send(sdl);
  };
}
