// graphql-js's own validation budgets. When one runs out, graphql-js ends validation with a bare
// "Validation aborted." (or its error-count variant), which names nothing; the client is told instead
// which budget it was and what to do. They sit behind this project's own limits (a document within
// MAX_FIELD_SELECTIONS stays within them), so they are met only by documents refused anyway.
import { MAX_FIELD_SELECTIONS } from './selections.js';

/** OverlappingFieldsCanBeMergedRule's budget of field-pair comparisons (graphql-js 16). */
export const GRAPHQL_JS_FIELD_COMPARISONS = 500_000;
/** ValidationContext's budget of fragment-spread expansions (graphql-js 16). */
export const GRAPHQL_JS_FRAGMENT_WORK = 50_000;
/** validate()'s default maxErrors, which neither Apollo nor the WebSocket path changes. */
export const GRAPHQL_JS_MAX_VALIDATION_ERRORS = 100;

const BUDGET_ABORT = 'Validation aborted.';
const ERRORS_ABORT = 'Too many validation errors, error limit reached. Validation aborted.';

/** The message to show for a graphql-js validation abort; undefined for any other message. */
export function namedValidationAbort(message: string): string | undefined {
  if (message === BUDGET_ABORT) {
    return (
      `validation stopped: the document needs more than graphql-js's budget of ${GRAPHQL_JS_FIELD_COMPARISONS} field comparisons ` +
      `or ${GRAPHQL_JS_FRAGMENT_WORK} fragment expansions to check; select fewer fields in one selection set ` +
      `(at most ${MAX_FIELD_SELECTIONS} in a document) or spread fewer fragments`
    );
  }
  if (message === ERRORS_ABORT) return `validation stopped after ${GRAPHQL_JS_MAX_VALIDATION_ERRORS} errors, the most it reports for one document`;
  return undefined;
}
