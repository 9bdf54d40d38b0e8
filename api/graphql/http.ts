// POST /graphql: Apollo Server behind express, with the limits and error formatting shared with the
// WebSocket transport. Unauthenticated requests get HTTP 401 with a GraphQL body whose error says
// UNAUTHENTICATED, before anything is parsed.
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import express, { type ErrorRequestHandler, type RequestHandler, type Router } from 'express';
import { GraphQLError, type GraphQLSchema } from './graphql-js.js';
import type { ControlPlane } from '../control-plane/port.js';
import { authenticate, bearerKey, unauthenticatedError } from './auth.js';
import type { GraphqlContext } from './context.js';
import { apiGraphQLError, formatErrors, formatGraphqlError, userInputError, type ErrorLogger } from './errors.js';
import { assertWithinComplexity, documentSizeError, limitRules, MAX_BODY_BYTES, MAX_DOCUMENT_TOKENS } from './limits/index.js';

/** A request error thrown from a plugin hook; Apollo would answer 500 without the status. */
function badRequest(error: GraphQLError): GraphQLError {
  return new GraphQLError(error.message, { nodes: error.nodes ?? null, extensions: { ...error.extensions, http: { status: 400 } } });
}

/** Runs once the operation is known: its cost needs the variables, which validation does not see. */
function operationChecksPlugin(): ApolloServerPlugin<GraphqlContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, schema, operation }) {
          // Apollo would run a subscription like a query and fail on the missing source stream.
          if (operation?.operation === 'subscription') {
            throw badRequest(userInputError('subscriptions are served over WebSocket at /graphql (protocol graphql-transport-ws), not over HTTP'));
          }
          try {
            assertWithinComplexity(schema, { document, variables: request.variables, operationName: request.operationName });
          } catch (error) {
            throw error instanceof GraphQLError ? badRequest(error) : error;
          }
        },
      };
    },
  };
}

// The q-value an Accept header gives a media type: from its most specific matching range (the type
// itself, then its type wildcard, then the full wildcard); no header at all accepts everything.
function acceptQuality(accept: string | undefined, mediaType: string): number {
  if (accept === undefined || accept.trim() === '') return 1;
  const [type] = mediaType.split('/');
  let best = 0;
  let bestSpecificity = -1;
  for (const range of accept.split(',')) {
    const [name = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    const specificity = name === mediaType ? 2 : name === `${type}/*` ? 1 : name === '*/*' ? 0 : -1;
    if (specificity < 0 || specificity < bestSpecificity) continue;
    const q = parameters.find((parameter) => parameter.startsWith('q='));
    const quality = q === undefined ? 1 : Number(q.slice(2));
    best = specificity > bestSpecificity ? quality : Math.max(best, quality);
    bestSpecificity = specificity;
  }
  return Number.isFinite(best) ? best : 0;
}

/**
 * GraphQL over HTTP: a request error (the document does not parse or validate, the variables do not
 * coerce) is a 4xx for clients that take application/graphql-response+json, but SHOULD be 200 with an
 * application/json body for clients that take only that, which cannot tell a GraphQL error from a
 * broken server by a 4xx.
 */
function requestErrorStatusPlugin(): ApolloServerPlugin<GraphqlContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ request, response }) {
          if (response.http.status !== 400 || response.body.kind !== 'single' || 'data' in response.body.singleResult) return;
          const accept = request.http?.headers.get('accept');
          if (acceptQuality(accept, 'application/graphql-response+json') >= acceptQuality(accept, 'application/json') && acceptQuality(accept, 'application/graphql-response+json') > 0) return;
          response.http.status = 200;
          response.http.headers.set('content-type', 'application/json; charset=utf-8');
        },
      };
    },
  };
}

export interface ApolloOptions {
  readonly schema: GraphQLSchema;
  readonly logger: ErrorLogger;
  readonly production: boolean;
  readonly plugins?: readonly ApolloServerPlugin<GraphqlContext>[];
}

export function createApollo(options: ApolloOptions): ApolloServer<GraphqlContext> {
  return new ApolloServer<GraphqlContext>({
    schema: options.schema,
    // A request that carries a bearer key cannot be a simple cross-site request (browsers preflight
    // Authorization), so it is let through like Apollo's own preflight headers: GET queries with a
    // key work, while a key-less GET from a foreign page is still refused.
    csrfPrevention: { requestHeaders: ['x-apollo-operation-name', 'apollo-require-preflight', 'authorization'] },
    // Clients generate code from it; depth and complexity bound it like any other query.
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // One way in for a document, so the size check in front of Apollo sees every one.
    persistedQueries: false,
    // The composition root decides when the process stops.
    stopOnTerminationSignals: false,
    validationRules: [...limitRules],
    parseOptions: { maxTokens: MAX_DOCUMENT_TOKENS },
    formatError: (formatted, error) => formatGraphqlError(formatted, error, options.logger),
    plugins: [operationChecksPlugin(), requestErrorStatusPlugin(), ...(options.production ? [ApolloServerPluginLandingPageDisabled()] : []), ...(options.plugins ?? [])],
  });
}

function sendErrors(res: express.Response, status: number, errors: readonly GraphQLError[], logger: ErrorLogger): void {
  res.status(status).type('application/json').send(JSON.stringify({ errors: formatErrors(errors, logger) }));
}

function bodyParserError(error: unknown): { status: number; type: unknown; expose: boolean; message: string } {
  if (typeof error !== 'object' || error === null) return { status: 500, type: undefined, expose: false, message: '' };
  const status = 'status' in error && typeof error.status === 'number' ? error.status : 500;
  const expose = 'expose' in error && error.expose === true;
  return { status, type: 'type' in error ? error.type : undefined, expose, message: error instanceof Error ? error.message : '' };
}

function queryOf(req: express.Request): unknown {
  const body: unknown = req.body;
  if (typeof body === 'object' && body !== null && 'query' in body) return body.query;
  return req.query['query'];
}

/** The /graphql router: body parsing, the document-size check, then Apollo. */
export function graphqlHttpRouter(apollo: ApolloServer<GraphqlContext>, controlPlane: ControlPlane, logger: ErrorLogger): Router {
  const router = express.Router();
  const ensureBody: RequestHandler = (req, _res, next) => {
    // Express 5 leaves req.body unset for bodies it did not parse; Apollo then answers the client
    // (CSRF or "POST body missing") instead of reporting a server misconfiguration.
    if (!Object.hasOwn(req, 'body')) req.body = undefined;
    next();
  };
  const limitDocument: RequestHandler = (req, res, next) => {
    const tooLarge = documentSizeError(queryOf(req));
    if (tooLarge) sendErrors(res, 413, [tooLarge], logger);
    else next();
  };
  const onBodyError: ErrorRequestHandler = (error: unknown, _req, res, next) => {
    if (res.headersSent) return next(error);
    const { status, type, expose, message } = bodyParserError(error);
    if (status === 413) return sendErrors(res, 413, [userInputError(`the request body is larger than ${MAX_BODY_BYTES} bytes`)], logger);
    if (type === 'entity.parse.failed') return sendErrors(res, 400, [userInputError('the request body is not valid JSON')], logger);
    // body-parser marks the messages that are safe to show (unsupported charset, aborted request, ...).
    if (status >= 400 && status < 500 && expose) return sendErrors(res, status, [userInputError(`the request body could not be read: ${message}`)], logger);
    logger.error('GraphQL HTTP request failed', error);
    return sendErrors(res, 500, [apiGraphQLError('INTERNAL_ERROR', 'Internal server error')], logger);
  };
  router.use(
    express.json({ limit: MAX_BODY_BYTES }),
    ensureBody,
    limitDocument,
    expressMiddleware(apollo, {
      context: async ({ req }): Promise<GraphqlContext> => {
        const key = bearerKey(req.headers.authorization);
        const caller = authenticate(controlPlane, key);
        if (!caller) throw unauthenticatedError(req.headers.authorization !== undefined);
        return { caller, controlPlane };
      },
    }),
    onBodyError,
  );
  return router;
}
