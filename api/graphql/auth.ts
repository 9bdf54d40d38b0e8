// API keys: `Authorization: Bearer <key>` on HTTP, `Authorization`/`authorization` in the WebSocket
// connection_init payload. The control plane resolves keys; here they are only extracted.
import { HeaderMap } from '@apollo/server';
import { GraphQLError } from './graphql-js.js';
import { CLOUDSTACK_ERROR_CODES, type Caller, type ControlPlane } from '../control-plane/port.js';

/** Longer values are not keys; refusing them early keeps hashing and logging bounded. */
const MAX_KEY_LENGTH = 512;

/** The key in a `Bearer <key>` credential; undefined when there is none or it is not a bearer credential. */
export function bearerKey(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  const key = match?.[1];
  return key !== undefined && key.length <= MAX_KEY_LENGTH ? key : undefined;
}

/** The key in a graphql-ws connection_init payload: `{ Authorization: 'Bearer <key>' }`, or the bare key. */
export function connectionParamsKey(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const value = params?.['Authorization'] ?? params?.['authorization'];
  if (typeof value !== 'string') return undefined;
  const bearer = bearerKey(value);
  if (bearer !== undefined) return bearer;
  return /^\S+$/.test(value) && value.length <= MAX_KEY_LENGTH && !/^Bearer$/i.test(value) ? value : undefined;
}

/** UNAUTHENTICATED; over HTTP a 401 with a GraphQL body (Apollo takes `http` out of the extensions). */
export function unauthenticatedError(hadKey: boolean): GraphQLError {
  const message = hadKey ? 'the API key is unknown or disabled' : 'an API key is required: send the header "Authorization: Bearer <api key>"';
  return new GraphQLError(message, {
    extensions: {
      code: 'UNAUTHENTICATED',
      errorCode: CLOUDSTACK_ERROR_CODES.UNAUTHENTICATED,
      http: { status: 401, headers: new HeaderMap([['www-authenticate', 'Bearer realm="vmledger"']]) },
    },
  });
}

export function authenticate(controlPlane: ControlPlane, key: string | undefined): Caller | undefined {
  return key === undefined ? undefined : controlPlane.authenticate(key);
}
