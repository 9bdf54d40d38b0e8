// Query cost, computed with the request's variables (a `first: $n` must count as n), so it runs after
// validation: in an Apollo plugin over HTTP and in onSubscribe over WebSocket.
import {
  getNamedType,
  getNullableType,
  getOperationAST,
  GraphQLError,
  isListType,
  isObjectType,
  type DocumentNode,
  type GraphQLNamedType,
  type GraphQLSchema,
} from '../graphql-js.js';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import { DEFAULT_PAGE_SIZE } from '../../../projections/pagination.js';
import { userInputError } from '../errors.js';

/**
 * A page of 100 instances with every field, NICs and volumes costs about 9,000; the default page of
 * 50 about half that. Larger pages of everything must be fetched in smaller pages.
 */
export const MAX_COMPLEXITY = 10_000;
/** How many items a nested list of objects (an instance's NICs or volumes) is assumed to hold. */
export const NESTED_LIST_SIZE = 5;
/** A mutation appends events and may start a saga: it costs more than reading a field. */
export const MUTATION_COST = 10;
/** Expanded field nodes, so a fragment spread into itself a thousand ways cannot stall the estimate. */
export const MAX_QUERY_NODES = 10_000;

function isConnection(type: GraphQLNamedType): boolean {
  if (!isObjectType(type)) return false;
  const fields = type.getFields();
  return 'nodes' in fields && 'pageInfo' in fields && 'totalCount' in fields;
}

function pageSizeOf(args: Readonly<Record<string, unknown>>): number {
  const first = args['first'];
  // An invalid `first` is the control plane's to refuse; for cost it is at least one row.
  return typeof first === 'number' && Number.isFinite(first) ? Math.max(1, first) : DEFAULT_PAGE_SIZE;
}

export function costEstimator(schema: GraphQLSchema): ComplexityEstimator {
  const mutationType = schema.getMutationType();
  return ({ type, field, args, childComplexity }) => {
    // Introspection results are bounded by the schema's size; the depth rule bounds their nesting.
    if (type.name.startsWith('__') || field.name.startsWith('__')) return 1 + childComplexity;
    // The connection field already multiplied by the page size.
    if (field.name === 'nodes' && isConnection(type)) return 1 + childComplexity;
    const named = getNamedType(field.type);
    if (isConnection(named)) return 1 + childComplexity * pageSizeOf(args);
    if (isListType(getNullableType(field.type)) && isObjectType(named)) return 1 + childComplexity * NESTED_LIST_SIZE;
    if (mutationType && type === mutationType) return MUTATION_COST + childComplexity;
    return 1 + childComplexity;
  };
}

export interface OperationRequest {
  readonly document: DocumentNode;
  readonly variables?: Readonly<Record<string, unknown>> | null | undefined;
  readonly operationName?: string | null | undefined;
}

/** The cost of the operation the request selects; undefined when it selects none (execution reports that). */
export function operationComplexity(schema: GraphQLSchema, request: OperationRequest): number | undefined {
  const operation = getOperationAST(request.document, request.operationName);
  if (!operation) return undefined;
  try {
    return getComplexity({
      schema,
      query: request.document,
      variables: { ...(request.variables ?? {}) },
      // graphql-query-complexity reads `operation.name.value` whenever a name is given.
      ...(operation.name ? { operationName: operation.name.value } : {}),
      estimators: [costEstimator(schema)],
      maxQueryNodes: MAX_QUERY_NODES,
    });
  } catch (error) {
    // Variables that do not fit their types, or too many nodes: the request's fault.
    if (error instanceof GraphQLError) throw userInputError(error.message, { nodes: error.nodes ?? [] });
    throw error;
  }
}

/** Throws BAD_USER_INPUT when the selected operation costs more than `max`. */
export function assertWithinComplexity(schema: GraphQLSchema, request: OperationRequest, max: number = MAX_COMPLEXITY): void {
  const complexity = operationComplexity(schema, request);
  if (complexity !== undefined && complexity > max) {
    throw userInputError(
      `the operation's estimated cost is ${complexity}; at most ${max} is allowed (lists cost their page size, \`first\`, default ${DEFAULT_PAGE_SIZE}, times their fields)`,
    );
  }
}
