// Bounds on a document's shape that depth and complexity do not catch: many aliases of the same
// expensive field (a mutation repeated 500 times), and sheer numbers of field selections.
//
// Counted when the document is entered, before any other rule looks inside it: graphql-js's own
// OverlappingFieldsCanBeMerged gives up ("Validation aborted.") on a selection set of about a
// thousand fields, so a count taken on the way out would never be reported.
import { Kind, type ASTVisitor, type SelectionSetNode, type ValidationContext } from '../graphql-js.js';
import { userInputError } from '../errors.js';

export const MAX_ALIASES = 30;
export const MAX_FIELD_SELECTIONS = 1_000;

interface Counts {
  fields: number;
  aliases: number;
}

/** Every field written in the document, fragments counted once where they are defined. */
function count(selectionSet: SelectionSetNode, counts: Counts): void {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      counts.fields += 1;
      if (selection.alias) counts.aliases += 1;
      if (selection.selectionSet) count(selection.selectionSet, counts);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      count(selection.selectionSet, counts);
    }
  }
}

export function selectionLimitRule(limits: { readonly maxAliases?: number; readonly maxFields?: number } = {}) {
  const maxAliases = limits.maxAliases ?? MAX_ALIASES;
  const maxFields = limits.maxFields ?? MAX_FIELD_SELECTIONS;
  return (context: ValidationContext): ASTVisitor => ({
    Document(document) {
      const counts: Counts = { fields: 0, aliases: 0 };
      for (const definition of document.definitions) {
        if (definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION) count(definition.selectionSet, counts);
      }
      if (counts.aliases > maxAliases) context.reportError(userInputError(`the document uses ${counts.aliases} aliases; at most ${maxAliases} are allowed`));
      if (counts.fields > maxFields) context.reportError(userInputError(`the document selects ${counts.fields} fields; at most ${maxFields} are allowed`));
      // Counted once; the rule has nothing to do inside.
      return false;
    },
  });
}
