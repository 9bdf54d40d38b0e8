// Query depth: the schema's only cycles are in introspection (__Type.ofType, fields.type), but a
// document can still nest them arbitrarily, so every operation is bounded, introspection included.
import { Kind, type ASTVisitor, type SelectionSetNode, type ValidationContext } from '../graphql-js.js';
import { userInputError } from '../errors.js';

/**
 * Root fields are at depth 1 and leaves count. The standard introspection query (graphql-js's
 * getIntrospectionQuery, with nine levels of `ofType`) reaches 14, so 15 leaves GraphiQL, Apollo
 * Sandbox and code generators working while stopping anything deeper.
 */
export const MAX_DEPTH = 15;

class DepthMeter {
  // A fragment's depth does not depend on where it is spread, so each is measured once: a
  // document that spreads fragments into fragments costs its size, not its expansion.
  private readonly fragmentDepths = new Map<string, number>();
  private readonly measuring = new Set<string>();

  constructor(private readonly context: ValidationContext) {}

  depth(selectionSet: SelectionSetNode): number {
    let deepest = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        deepest = Math.max(deepest, 1 + (selection.selectionSet ? this.depth(selection.selectionSet) : 0));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        deepest = Math.max(deepest, this.depth(selection.selectionSet));
      } else {
        deepest = Math.max(deepest, this.fragmentDepth(selection.name.value));
      }
    }
    return deepest;
  }

  private fragmentDepth(name: string): number {
    const known = this.fragmentDepths.get(name);
    if (known !== undefined) return known;
    const fragment = this.context.getFragment(name);
    // Unknown fragments and cycles are other rules' to report; here they must only not loop.
    if (!fragment || this.measuring.has(name)) return 0;
    this.measuring.add(name);
    const depth = this.depth(fragment.selectionSet);
    this.measuring.delete(name);
    this.fragmentDepths.set(name, depth);
    return depth;
  }
}

export function depthLimitRule(maxDepth: number = MAX_DEPTH) {
  return (context: ValidationContext): ASTVisitor => {
    const meter = new DepthMeter(context);
    return {
      OperationDefinition(operation) {
        const depth = meter.depth(operation.selectionSet);
        if (depth > maxDepth) {
          const name = operation.name ? `operation ${operation.name.value}` : 'the operation';
          context.reportError(userInputError(`${name} is nested ${depth} levels deep; at most ${maxDepth} are allowed`, { nodes: operation }));
        }
        return false;
      },
    };
  };
}
