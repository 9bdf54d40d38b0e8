// Bounds on the raw request, checked before anything is parsed.
import type { GraphQLError } from '../graphql-js.js';
import { userInputError } from '../errors.js';

/** The query text, in UTF-8 bytes. */
export const MAX_DOCUMENT_BYTES = 100 * 1024;
/** Lexical tokens graphql-js may read from one document (its parse option `maxTokens`). */
export const MAX_DOCUMENT_TOKENS = 15_000;
/** An HTTP body, and a WebSocket message. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** An error when `query` is longer than allowed; the caller decides how to report it. */
export function documentSizeError(query: unknown): GraphQLError | undefined {
  if (typeof query !== 'string') return undefined;
  // Characters first: a string shorter in characters than the limit in bytes cannot exceed it.
  if (query.length <= MAX_DOCUMENT_BYTES / 3) return undefined;
  const bytes = Buffer.byteLength(query, 'utf8');
  return bytes > MAX_DOCUMENT_BYTES
    ? userInputError(`the query document is ${bytes} bytes long; at most ${MAX_DOCUMENT_BYTES} are allowed`, { field: 'query' })
    : undefined;
}
