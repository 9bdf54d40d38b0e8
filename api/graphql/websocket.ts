// WebSocket /graphql (graphql-transport-ws): subscriptions, and queries and mutations too, with the
// schema, auth, limits and error formatting of the HTTP transport. A connection_init without a
// known key is closed with 4403 "Forbidden", graphql-ws's answer to a refused onConnect.
import type { Server } from 'node:http';
import type { ExecutionArgs, GraphQLError, GraphQLSchema } from './graphql-js.js';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { ControlPlane } from '../control-plane/port.js';
import { authenticate, connectionParamsKey, unauthenticatedError } from './auth.js';
import type { GraphqlContext } from './context.js';
import { formatErrors, type ErrorLogger } from './errors.js';
import { MAX_BODY_BYTES } from './limits/index.js';
import { checkOperation } from './operation.js';

export interface GraphqlWebSocketOptions {
  readonly httpServer: Server;
  readonly schema: GraphQLSchema;
  readonly controlPlane: ControlPlane;
  readonly logger: ErrorLogger;
  readonly production: boolean;
  readonly path?: string;
}

export interface GraphqlWebSocket {
  /** Closes every client (1001 "Going away"), ending their subscriptions, and stops accepting new ones. */
  dispose(): Promise<void>;
}

const MESSAGE_TOO_BIG = `a message may be at most ${MAX_BODY_BYTES} bytes`;

// A type alias, not an interface: graphql-ws requires an index-signature-compatible record.
type ConnectionExtra = { apiKey: string };

export function attachGraphqlWebSocket(options: GraphqlWebSocketOptions): GraphqlWebSocket {
  const { schema, controlPlane, logger } = options;
  const wsServer = new WebSocketServer({ server: options.httpServer, path: options.path ?? '/graphql', maxPayload: MAX_BODY_BYTES });
  // ws closes a connection whose message is over maxPayload with 1009 and no reason; the reason names
  // the limit, as the HTTP transport's 413 body does. (A close reason holds at most 123 bytes.)
  wsServer.on('connection', (socket) => {
    const close = socket.close.bind(socket);
    socket.close = (code?: number, reason?: string | Buffer) => close(code, code === 1009 && !reason ? MESSAGE_TOO_BIG : reason);
  });
  const disposable = useServer<Record<string, unknown> | undefined, ConnectionExtra>(
    {
      isProd: options.production,
      onConnect: (ctx) => {
        const key = connectionParamsKey(ctx.connectionParams);
        if (key === undefined || !authenticate(controlPlane, key)) return false;
        ctx.extra.apiKey = key;
        return true;
      },
      onSubscribe: (ctx, _id, payload): ExecutionArgs | readonly GraphQLError[] => {
        // Resolved again per operation: a key disabled after connecting stops working at once.
        const caller = authenticate(controlPlane, ctx.extra.apiKey);
        if (!caller) return [unauthenticatedError(true)];
        const checked = checkOperation(schema, payload);
        if ('errors' in checked) return checked.errors;
        const contextValue: GraphqlContext = { caller, controlPlane };
        return {
          schema,
          document: checked.document,
          variableValues: payload.variables ?? undefined,
          operationName: payload.operationName ?? undefined,
          contextValue,
        };
      },
      onNext: (_ctx, _id, _payload, _args, result) => {
        if (!result.errors) return undefined;
        const { errors, ...rest } = result;
        return { ...rest, errors: formatErrors(errors, logger) };
      },
      onError: (_ctx, _id, _payload, errors) => formatErrors(errors, logger),
    },
    wsServer,
  );
  return {
    async dispose() {
      await disposable.dispose();
    },
  };
}
