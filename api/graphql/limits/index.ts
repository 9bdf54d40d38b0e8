// Every limit, applied identically by the HTTP and the WebSocket transport.
import type { ValidationRule } from '../graphql-js.js';
import { depthLimitRule } from './depth.js';
import { selectionLimitRule } from './selections.js';

export { MAX_DEPTH, depthLimitRule } from './depth.js';
export { MAX_ALIASES, MAX_FIELD_SELECTIONS, selectionLimitRule } from './selections.js';
export { MAX_COMPLEXITY, assertWithinComplexity, operationComplexity, costEstimator, type OperationRequest } from './complexity.js';
export { MAX_BODY_BYTES, MAX_DOCUMENT_BYTES, MAX_DOCUMENT_TOKENS, documentSizeError } from './document.js';
export { MAX_LIST_LENGTH, MAX_NAME_LENGTH, MAX_STRING_BYTES, guardArguments } from './input-size.js';
export { GRAPHQL_JS_FIELD_COMPARISONS, GRAPHQL_JS_FRAGMENT_WORK, GRAPHQL_JS_MAX_VALIDATION_ERRORS, namedValidationAbort } from './aborts.js';

/** Validation rules run after graphql-js's specified rules. */
export const limitRules: readonly ValidationRule[] = [depthLimitRule(), selectionLimitRule()];
