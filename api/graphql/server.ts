// The GraphQL server: POST /graphql (Apollo), WebSocket /graphql (graphql-ws), GET /healthz, the SDL
// at GET /graphql/schema.graphql and the web console at / on one HTTP server. It does not listen: the composition root calls
// httpServer.listen and, on shutdown, stop().
import { createServer, type Server } from 'node:http';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import express, { type Express } from 'express';
import type { ControlPlane } from '../control-plane/port.js';
import { consoleRouter, defaultConsoleDirectory } from './console.js';
import { consoleLogger, type ErrorLogger } from './errors.js';
import { buildExecutableSchema } from './executable-schema.js';
import { healthzHandler } from './healthz.js';
import { createApollo, graphqlHttpRouter } from './http.js';
import { schemaSdlHandler } from './schema-sdl.js';
import { attachGraphqlWebSocket } from './websocket.js';

export interface GraphqlServerOptions {
  readonly controlPlane: ControlPlane;
  /** Used for the WebSocket upgrade and drained on stop(); created around `app` when absent. */
  readonly httpServer?: Server;
  /** The routes are added to it; created when absent (and then attached to a given httpServer). */
  readonly app?: Express;
  /** Where internal errors are logged with their stack; console.error by default. */
  readonly logger?: ErrorLogger;
  /** No landing page, terse WebSocket close reasons; defaults to NODE_ENV === 'production'. */
  readonly production?: boolean;
  /** The built web console served at /; dist/console of this checkout by default. */
  readonly consoleDirectory?: string;
}

export interface GraphqlServer {
  readonly app: Express;
  readonly httpServer: Server;
  /** Closes WebSocket clients, lets in-flight HTTP requests finish (10 s at most), stops Apollo and closes the HTTP server. */
  stop(): Promise<void>;
}

export async function createGraphqlServer(options: GraphqlServerOptions): Promise<GraphqlServer> {
  const { controlPlane } = options;
  const logger = options.logger ?? consoleLogger;
  const production = options.production ?? process.env['NODE_ENV'] === 'production';
  const app = options.app ?? express();
  const httpServer = options.httpServer ?? createServer(app);
  if (options.httpServer && !options.app) httpServer.on('request', app);
  app.disable('x-powered-by');

  const schema = buildExecutableSchema();
  const webSocket = attachGraphqlWebSocket({ httpServer, schema, controlPlane, logger, production });
  const apollo = createApollo({
    schema,
    logger,
    production,
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer })],
  });
  await apollo.start();

  app.get('/healthz', healthzHandler(controlPlane, logger));
  // Before the /graphql router, which would ask for an API key.
  app.get('/graphql/schema.graphql', schemaSdlHandler(schema));
  app.use('/graphql', graphqlHttpRouter(apollo, controlPlane, logger));
  // Last: its page answers every other GET (the console's client routes).
  app.use(consoleRouter(options.consoleDirectory ?? defaultConsoleDirectory()));

  let stopping: Promise<void> | undefined;
  return {
    app,
    httpServer,
    // WebSocket clients first, so their subscriptions end (and unsubscribe) before the HTTP server closes.
    stop: () => (stopping ??= webSocket.dispose().then(() => apollo.stop())),
  };
}
