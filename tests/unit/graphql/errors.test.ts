import { describe, expect, it } from 'vitest';
import { ApiError, CLOUDSTACK_ERROR_CODES, type ErrorCode } from '../../../api/control-plane/port.js';
import { formatErrors, formatGraphqlError, type ErrorLogger } from '../../../api/graphql/errors.js';
import { GraphQLError, type GraphQLFormattedError } from '../../../api/graphql/graphql-js.js';
import { InvalidPageRequestError } from '../../../projections/pagination.js';

function recordingLogger(): ErrorLogger & { readonly logged: unknown[] } {
  const logged: unknown[] = [];
  return { logged, error: (_message, error) => logged.push(error) };
}

/** As graphql-js reports a resolver's throw: wrapped, with a path. */
function fromResolver(error: Error): GraphQLError {
  return new GraphQLError(error.message, { path: ['virtualMachine'], originalError: error });
}

function format(error: GraphQLError, logger: ErrorLogger = recordingLogger()): GraphQLFormattedError {
  return formatGraphqlError(error.toJSON(), error, logger);
}

describe('error formatting', () => {
  const codes = Object.keys(CLOUDSTACK_ERROR_CODES) as ErrorCode[];

  it.each(codes)('maps ApiError %s to code, CloudStack errorCode and field', (code) => {
    const formatted = format(fromResolver(new ApiError(code, `instance "vm-1" says ${code}`, 'id')));
    expect(formatted).toEqual({
      message: `instance "vm-1" says ${code}`,
      path: ['virtualMachine'],
      extensions: { code, errorCode: CLOUDSTACK_ERROR_CODES[code], field: 'id' },
    });
  });

  it('has API.md numbers for the codes', () => {
    expect(CLOUDSTACK_ERROR_CODES).toEqual({
      BAD_USER_INPUT: 431,
      INVALID_STATE: 431,
      NOT_FOUND: 431,
      FORBIDDEN: 531,
      UNAUTHENTICATED: 401,
      CONFLICT: 530,
      INSUFFICIENT_CAPACITY: 533,
      INTERNAL_ERROR: 530,
    });
  });

  it('leaves field out when the ApiError has none', () => {
    expect(format(fromResolver(new ApiError('FORBIDDEN', 'only the root admin may create zones'))).extensions).toEqual({ code: 'FORBIDDEN', errorCode: 531 });
  });

  it('finds an ApiError behind Error.cause', () => {
    const wrapped = new Error('saga failed', { cause: new ApiError('CONFLICT', 'instance vm-1 changed concurrently') });
    expect(format(fromResolver(wrapped)).extensions).toEqual({ code: 'CONFLICT', errorCode: 530 });
  });

  it('maps a bad page request to BAD_USER_INPUT naming first or after', () => {
    const formatted = format(fromResolver(new InvalidPageRequestError('after', 'after is not a cursor this API issued: "zzz"')));
    expect(formatted.message).toBe('after is not a cursor this API issued: "zzz"');
    expect(formatted.extensions).toEqual({ code: 'BAD_USER_INPUT', errorCode: 431, field: 'after' });
  });

  it('maps anything else to a generic INTERNAL_ERROR, logs it, and shows no stack or detail', () => {
    const logger = recordingLogger();
    const secret = new Error('SQLITE_CORRUPT at /var/lib/vmledger/read-model.sqlite');
    const formatted = format(fromResolver(secret), logger);
    expect(formatted.message).toMatch(/^Internal server error \(reference [0-9a-f-]{36}\)$/);
    expect(formatted.extensions).toEqual({ code: 'INTERNAL_ERROR', errorCode: 530, reference: expect.any(String) });
    expect(JSON.stringify(formatted)).not.toContain('SQLITE');
    expect(JSON.stringify(formatted)).not.toContain('stacktrace');
    expect(logger.logged).toEqual([secret]);
  });

  it('strips whatever else an error carried in its extensions, stack traces included', () => {
    const leaky: GraphQLFormattedError = {
      message: 'instance vm-1 is Stopped',
      extensions: { code: 'INVALID_STATE', errorCode: 431, stacktrace: ['Error: at decide (domain/instance/decide-stop.ts:10)'], exception: {} },
    };
    expect(formatGraphqlError(leaky, new GraphQLError(leaky.message)).extensions).toEqual({ code: 'INVALID_STATE', errorCode: 431 });
    const internal: GraphQLFormattedError = { message: 'boom', extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['at x'] } };
    expect(formatGraphqlError(internal, new Error('boom'), recordingLogger()).extensions).not.toHaveProperty('stacktrace');
  });

  it.each(['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'BAD_USER_INPUT', 'BAD_REQUEST', 'OPERATION_RESOLUTION_FAILURE'])(
    "maps Apollo's %s to BAD_USER_INPUT 431, keeping the message and the original code as reason",
    (apolloCode) => {
      const formatted = formatGraphqlError(
        { message: 'Cannot query field "nope" on type "Query".', locations: [{ line: 1, column: 3 }], extensions: { code: apolloCode } },
        new GraphQLError('Cannot query field "nope" on type "Query".'),
      );
      expect(formatted).toEqual({
        message: 'Cannot query field "nope" on type "Query".',
        locations: [{ line: 1, column: 3 }],
        extensions: { code: 'BAD_USER_INPUT', errorCode: 431, reason: apolloCode },
      });
    },
  );

  it('keeps errors this layer raised (limits, auth) as they are', () => {
    const unauthenticated = new GraphQLError('the API key is unknown or disabled', { extensions: { code: 'UNAUTHENTICATED', errorCode: 401 } });
    expect(format(unauthenticated).extensions).toEqual({ code: 'UNAUTHENTICATED', errorCode: 401 });
  });

  it('formats errors outside Apollo the same way (WebSocket)', () => {
    const logger = recordingLogger();
    const [apiError, internal] = formatErrors([fromResolver(new ApiError('NOT_FOUND', 'async job "j-1" does not exist', 'id')), fromResolver(new TypeError('x is undefined'))], logger);
    expect(apiError?.extensions).toEqual({ code: 'NOT_FOUND', errorCode: 431, field: 'id' });
    expect(internal?.extensions?.['code']).toBe('INTERNAL_ERROR');
    expect(logger.logged).toHaveLength(1);
  });
});
