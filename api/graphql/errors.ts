// Every error a client sees passes through here, so API.md's error contract (extensions.code,
// extensions.errorCode, extensions.field) holds for each transport, and nothing unexpected (stack
// traces, SQL, file paths) leaks: what we do not recognise becomes a generic INTERNAL_ERROR that is
// logged with a reference the client can quote.
import { randomUUID } from 'node:crypto';
import { GraphQLError, type ASTNode, type GraphQLFormattedError } from './graphql-js.js';
import { ApiError, CLOUDSTACK_ERROR_CODES, type ErrorCode } from '../control-plane/port.js';
import { InvalidPageRequestError } from '../../projections/pagination.js';
import { namedValidationAbort } from './limits/aborts.js';

export interface ErrorLogger {
  error(message: string, error: unknown): void;
}

export const consoleLogger: ErrorLogger = { error: (message, error) => console.error(message, error) };

function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(CLOUDSTACK_ERROR_CODES, code);
}

/** A GraphQL error that already speaks API.md's contract (used where throwing an ApiError is not possible). */
export function apiGraphQLError(
  code: ErrorCode,
  message: string,
  options: { readonly field?: string; readonly nodes?: ASTNode | readonly ASTNode[] } = {},
): GraphQLError {
  return new GraphQLError(message, {
    ...(options.nodes === undefined ? {} : { nodes: options.nodes }),
    extensions: {
      code,
      errorCode: CLOUDSTACK_ERROR_CODES[code],
      ...(options.field === undefined ? {} : { field: options.field }),
    },
  });
}

export function userInputError(message: string, options: { readonly field?: string; readonly nodes?: ASTNode | readonly ASTNode[] } = {}): GraphQLError {
  return apiGraphQLError('BAD_USER_INPUT', message, options);
}

// Apollo's and graphql-js's names for "the request itself is wrong": all of them are API.md's
// BAD_USER_INPUT to a client; the original name is kept in `reason`.
const REQUEST_ERROR_CODES: ReadonlySet<string> = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/** The first ApiError or page-request error behind an error, through GraphQL's and Error's wrapping. */
function knownCause(error: unknown): ApiError | InvalidPageRequestError | undefined {
  let current: unknown = error;
  for (let hops = 0; hops < 10 && current instanceof Error; hops += 1) {
    if (current instanceof ApiError || current instanceof InvalidPageRequestError) return current;
    current = current instanceof GraphQLError && current.originalError !== undefined ? current.originalError : current.cause;
  }
  return undefined;
}

function innermost(error: unknown): unknown {
  let current: unknown = error;
  for (let hops = 0; hops < 10 && current instanceof GraphQLError && current.originalError !== undefined; hops += 1) {
    current = current.originalError;
  }
  return current;
}

type Extensions = Record<string, unknown>;

function withExtensions(formatted: GraphQLFormattedError, message: string, extensions: Extensions): GraphQLFormattedError {
  return {
    message,
    ...(formatted.locations === undefined ? {} : { locations: formatted.locations }),
    ...(formatted.path === undefined ? {} : { path: formatted.path }),
    extensions,
  };
}

function contractExtensions(code: ErrorCode, field: unknown, reason?: string): Extensions {
  return {
    code,
    errorCode: CLOUDSTACK_ERROR_CODES[code],
    ...(typeof field === 'string' ? { field } : {}),
    ...(reason === undefined ? {} : { reason }),
  };
}

/**
 * Maps an error to what the client sees. `formatted` is the error as graphql-js/Apollo would
 * serialise it, `error` the thrown value behind it.
 */
export function formatGraphqlError(formatted: GraphQLFormattedError, error: unknown, logger: ErrorLogger = consoleLogger): GraphQLFormattedError {
  const cause = knownCause(error);
  if (cause instanceof ApiError) {
    // The control plane chose its message for the client, but an internal failure still needs a trace here.
    if (cause.code === 'INTERNAL_ERROR') logger.error(`GraphQL internal error: ${cause.message}`, cause);
    return withExtensions(formatted, cause.message, contractExtensions(cause.code, cause.field));
  }
  if (cause instanceof InvalidPageRequestError) return withExtensions(formatted, cause.message, contractExtensions('BAD_USER_INPUT', cause.field));

  const extensions: Extensions = formatted.extensions ?? {};
  const code = extensions['code'];
  if (isErrorCode(code) && typeof extensions['errorCode'] === 'number') {
    return withExtensions(formatted, formatted.message, contractExtensions(code, extensions['field']));
  }
  if (typeof code === 'string' && REQUEST_ERROR_CODES.has(code)) {
    const message = (code === 'GRAPHQL_VALIDATION_FAILED' ? namedValidationAbort(formatted.message) : undefined) ?? formatted.message;
    return withExtensions(formatted, message, contractExtensions('BAD_USER_INPUT', extensions['field'], code));
  }

  const reference = randomUUID();
  logger.error(`GraphQL internal error ${reference}${formatted.path ? ` at ${formatted.path.join('.')}` : ''}: ${formatted.message}`, innermost(error));
  return withExtensions(formatted, `Internal server error (reference ${reference})`, { ...contractExtensions('INTERNAL_ERROR', undefined), reference });
}

/** Formats errors that never went through Apollo (WebSocket, express), the same way. */
export function formatErrors(errors: readonly GraphQLError[], logger: ErrorLogger): GraphQLFormattedError[] {
  return errors.map((error) => formatGraphqlError(error.toJSON(), error, logger));
}
