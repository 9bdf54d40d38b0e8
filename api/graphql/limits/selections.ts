// Bounds on a document's shape that depth and complexity do not catch: many aliases of the same
// expensive field (a mutation repeated 500 times), and sheer numbers of field selections.
import type { ASTVisitor, ValidationContext } from '../graphql-js.js';
import { userInputError } from '../errors.js';

export const MAX_ALIASES = 30;
export const MAX_FIELD_SELECTIONS = 1_000;

export function selectionLimitRule(limits: { readonly maxAliases?: number; readonly maxFields?: number } = {}) {
  const maxAliases = limits.maxAliases ?? MAX_ALIASES;
  const maxFields = limits.maxFields ?? MAX_FIELD_SELECTIONS;
  return (context: ValidationContext): ASTVisitor => {
    let aliases = 0;
    let fields = 0;
    return {
      Field(node) {
        fields += 1;
        if (node.alias) aliases += 1;
      },
      Document: {
        leave() {
          if (aliases > maxAliases) context.reportError(userInputError(`the document uses ${aliases} aliases; at most ${maxAliases} are allowed`));
          if (fields > maxFields) context.reportError(userInputError(`the document selects ${fields} fields; at most ${maxFields} are allowed`));
        },
      },
    };
  };
}
