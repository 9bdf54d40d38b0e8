import type { GraphQLFieldResolver } from './graphql-js.js';
import type { Args } from '../control-plane/args.js';
import type { Caller, ControlPlane } from '../control-plane/port.js';

export type { Args };

/** What every resolver receives: the authenticated caller and the application behind the API. */
export interface GraphqlContext {
  readonly caller: Caller;
  readonly controlPlane: ControlPlane;
}

export type Resolver = GraphQLFieldResolver<unknown, GraphqlContext, Args>;

export interface SubscriptionResolver {
  readonly subscribe: Resolver;
  readonly resolve: Resolver;
}

/** Resolvers by type name, then field name; fields without one read the property of the same name. */
export interface ResolverMap {
  readonly Query: Readonly<Record<string, Resolver>>;
  readonly Mutation: Readonly<Record<string, Resolver>>;
  readonly Subscription: Readonly<Record<string, SubscriptionResolver>>;
  readonly types: Readonly<Record<string, Readonly<Record<string, Resolver>>>>;
}
