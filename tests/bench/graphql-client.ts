// What the GraphQL benchmarks say to the main job: a POST as one key, and a job followed over the
// subscription until it settles.
import type { Client } from 'graphql-ws';

export type GraphqlRequest = <T>(url: string, query: string, variables?: Record<string, unknown>) => Promise<T>;

/** Requests as the holder of `apiKey`; a response with errors (or without data) throws them. */
export function graphqlAs(apiKey: string): GraphqlRequest {
  return async <T>(url: string, query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: unknown };
    if (body.errors || !body.data) throw new Error(`GraphQL error: ${JSON.stringify(body.errors)}`);
    return body.data;
  };
}

/** Resolves the job's status once it is no longer PENDING, as pushed by asyncJobUpdated. */
export function waitForJob(ws: Client, jobId: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stop = ws.subscribe<{ asyncJobUpdated: { status: string } }>(
      { query: 'subscription($id: ID!) { asyncJobUpdated(id: $id) { status } }', variables: { id: jobId } },
      {
        next: ({ data }) => {
          const status = data?.asyncJobUpdated.status;
          if (status && status !== 'PENDING') {
            stop();
            resolve(status);
          }
        },
        error: reject,
        complete: () => undefined,
      },
    );
  });
}
