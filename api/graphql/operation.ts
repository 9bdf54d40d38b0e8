// Parsing, validation and cost checks for a transport that is not Apollo (the WebSocket), with the
// same rules and the same error codes as Apollo's pipeline over HTTP.
import { GraphQLError, parse, specifiedRules, validate, type DocumentNode, type GraphQLSchema } from './graphql-js.js';
import { assertWithinComplexity, documentSizeError, limitRules, MAX_DOCUMENT_TOKENS } from './limits/index.js';

export interface OperationPayload {
  readonly query: string;
  readonly variables?: Readonly<Record<string, unknown>> | null | undefined;
  readonly operationName?: string | null | undefined;
}

/** Apollo's codes for these failures, so the formatter treats both transports alike. */
function tagged(error: GraphQLError, code: 'GRAPHQL_PARSE_FAILED' | 'GRAPHQL_VALIDATION_FAILED'): GraphQLError {
  if (error.extensions['code'] !== undefined) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes ?? null,
    source: error.source ?? null,
    positions: error.positions ?? null,
    originalError: error.originalError ?? null,
    extensions: { ...error.extensions, code },
  });
}

/** Documents that parsed and validated, by query text, as Apollo's document store keeps them for HTTP. */
const VALID_DOCUMENTS_KEPT = 1000;
const validDocuments = new WeakMap<GraphQLSchema, Map<string, DocumentNode>>();

/** The parsed document when the operation may run; otherwise the errors to send instead. */
export function checkOperation(schema: GraphQLSchema, payload: OperationPayload): { document: DocumentNode } | { errors: GraphQLError[] } {
  const checked = validDocument(schema, payload.query);
  if ('errors' in checked) return checked;
  const { document } = checked;
  // Cost depends on the variables, so it is weighed every time.
  try {
    assertWithinComplexity(schema, { document, variables: payload.variables, operationName: payload.operationName });
  } catch (error) {
    if (error instanceof GraphQLError) return { errors: [error] };
    throw error;
  }
  return { document };
}

/** Parsed and validated once per query text: clients send the same few operations over and over. */
function validDocument(schema: GraphQLSchema, query: string): { document: DocumentNode } | { errors: GraphQLError[] } {
  let kept = validDocuments.get(schema);
  if (!kept) validDocuments.set(schema, (kept = new Map()));
  const known = kept.get(query);
  if (known) return { document: known };
  const tooLarge = documentSizeError(query);
  if (tooLarge) return { errors: [tooLarge] };
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: MAX_DOCUMENT_TOKENS });
  } catch (error) {
    if (error instanceof GraphQLError) return { errors: [tagged(error, 'GRAPHQL_PARSE_FAILED')] };
    throw error;
  }
  const invalid = validate(schema, document, [...specifiedRules, ...limitRules]);
  if (invalid.length > 0) return { errors: invalid.map((error) => tagged(error, 'GRAPHQL_VALIDATION_FAILED')) };
  // Oldest first out, so a client sending endless distinct queries cannot grow the map.
  if (kept.size >= VALID_DOCUMENTS_KEPT) kept.delete(kept.keys().next().value!);
  kept.set(query, document);
  return { document };
}
