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

/** The parsed document when the operation may run; otherwise the errors to send instead. */
export function checkOperation(schema: GraphQLSchema, payload: OperationPayload): { document: DocumentNode } | { errors: GraphQLError[] } {
  const tooLarge = documentSizeError(payload.query);
  if (tooLarge) return { errors: [tooLarge] };
  let document: DocumentNode;
  try {
    document = parse(payload.query, { maxTokens: MAX_DOCUMENT_TOKENS });
  } catch (error) {
    if (error instanceof GraphQLError) return { errors: [tagged(error, 'GRAPHQL_PARSE_FAILED')] };
    throw error;
  }
  const invalid = validate(schema, document, [...specifiedRules, ...limitRules]);
  if (invalid.length > 0) return { errors: invalid.map((error) => tagged(error, 'GRAPHQL_VALIDATION_FAILED')) };
  try {
    assertWithinComplexity(schema, { document, variables: payload.variables, operationName: payload.operationName });
  } catch (error) {
    if (error instanceof GraphQLError) return { errors: [error] };
    throw error;
  }
  return { document };
}
