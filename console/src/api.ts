// The console's only way to the control plane: the public GraphQL API (docs/api.md). Queries and
// mutations go over HTTP POST /graphql, job pushes over the WebSocket at /graphql with
// graphql-transport-ws, both with the API key the user signed in with.
import { createClient, type Client } from 'graphql-ws';

/** A GraphQL error as the API words it: its message, `extensions.code`, and the argument at fault. */
export class ApiError extends Error {
  readonly code: string;
  readonly field: string | null;
  constructor(message: string, code: string, field: string | null) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.field = field;
  }
}

interface GraphqlError {
  message: string;
  extensions?: { code?: string; field?: string };
}

let apiKey: string | null = null;
let socket: Client | null = null;
const unauthenticatedListeners = new Set<() => void>();

export function setApiKey(key: string | null): void {
  apiKey = key;
  void socket?.dispose();
  socket = null;
}

/** Called when the API refuses the key (it was removed, or the server's data was reset). */
export function onUnauthenticated(listener: () => void): () => void {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}

function toApiError(error: GraphqlError): ApiError {
  return new ApiError(error.message, error.extensions?.code ?? 'INTERNAL_ERROR', error.extensions?.field ?? null);
}

/** Runs a query or mutation; throws the first GraphQL error as an ApiError, in the API's words. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}, key: string | null = apiKey): Promise<T> {
  let response: Response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(key ? { authorization: `Bearer ${key}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError('The server did not answer: is vmledger running?', 'NETWORK', null);
  }
  let body: { data?: T | null; errors?: GraphqlError[] };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new ApiError(`The server answered HTTP ${response.status} without a GraphQL body`, 'INTERNAL_ERROR', null);
  }
  const first = body.errors?.[0];
  if (first) {
    const error = toApiError(first);
    if (error.code === 'UNAUTHENTICATED' && key === apiKey) for (const listener of unauthenticatedListeners) listener();
    throw error;
  }
  if (body.data == null) throw new ApiError(`The server answered HTTP ${response.status} without data`, 'INTERNAL_ERROR', null);
  return body.data;
}

function webSocket(): Client {
  if (socket) return socket;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  const key = apiKey;
  socket = createClient({
    url,
    lazy: true,
    connectionParams: () => ({ Authorization: `Bearer ${key ?? ''}` }),
    retryAttempts: 5,
  });
  return socket;
}

/**
 * Subscribes to a subscription field; `onData` gets each pushed value, `onEnd` the end (an error, in
 * the API's words, or null when it completed). Returns the unsubscribe function.
 */
export function subscribe<T>(
  query: string,
  variables: Record<string, unknown>,
  onData: (data: T) => void,
  onEnd: (error: ApiError | null) => void,
): () => void {
  return webSocket().subscribe<T>(
    { query, variables },
    {
      next: (result) => {
        const first = (result.errors as GraphqlError[] | undefined)?.[0];
        if (first) onEnd(toApiError(first));
        else if (result.data) onData(result.data as T);
      },
      error: (error) => {
        const message = error instanceof Error ? error.message : Array.isArray(error) ? String((error[0] as GraphqlError | undefined)?.message) : 'The push connection closed';
        onEnd(new ApiError(message, 'NETWORK', null));
      },
      complete: () => onEnd(null),
    },
  );
}

/** What to show for any error: an ApiError's message is the API's own. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
