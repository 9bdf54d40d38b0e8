// The SDL made executable: scalars get their parsing, fields their resolvers, and every root field
// its argument-size guard. Building fails when an operation has no resolver or a resolver no field,
// so a half-wired schema never starts.
import { buildSchema, GraphQLError, GraphQLScalarType, isObjectType, Kind, type GraphQLField, type GraphQLSchema } from './graphql-js.js';
import type { GraphqlContext, Resolver, ResolverMap } from './context.js';
import { guardArguments } from './limits/input-size.js';
import { resolvers as defaultResolvers } from './resolvers/index.js';
import { parseDateTime, parseJson, parseJsonLiteral, serializeDateTime, serializeJson } from './scalars.js';
import { typeDefs } from './schema/index.js';

function attachScalars(schema: GraphQLSchema): void {
  const dateTime = schema.getType('DateTime');
  const json = schema.getType('JSON');
  if (!(dateTime instanceof GraphQLScalarType) || !(json instanceof GraphQLScalarType)) throw new Error('the SDL must declare scalars DateTime and JSON');
  // buildSchema cannot take scalar implementations; setting them on its types is how graphql-tools does it too.
  Object.assign(dateTime, {
    serialize: serializeDateTime,
    parseValue: parseDateTime,
    parseLiteral: (node: Parameters<GraphQLScalarType['parseLiteral']>[0]) => {
      if (node.kind !== Kind.STRING) throw new GraphQLError(`DateTime must be a string, e.g. "2025-01-31T12:00:00Z"`);
      return parseDateTime(node.value);
    },
  });
  Object.assign(json, { serialize: serializeJson, parseValue: (value: unknown) => parseJson(value), parseLiteral: parseJsonLiteral });
}

function fieldOf(schema: GraphQLSchema, typeName: string, fieldName: string): GraphQLField<unknown, GraphqlContext> {
  const type = schema.getType(typeName);
  const field = isObjectType(type) ? type.getFields()[fieldName] : undefined;
  if (!field) throw new Error(`resolver ${typeName}.${fieldName} has no field in the schema`);
  return field;
}

const guarded =
  (resolve: Resolver): Resolver =>
  (source, args, context, info) => {
    guardArguments(info.fieldName, args);
    return resolve(source, args, context, info);
  };

function attachRoot(schema: GraphQLSchema, typeName: 'Query' | 'Mutation' | 'Subscription', resolvers: ResolverMap): void {
  const type = schema.getType(typeName);
  if (!isObjectType(type)) throw new Error(`the SDL must declare type ${typeName}`);
  const forRoot = resolvers[typeName];
  for (const name of Object.keys(type.getFields())) {
    if (!Object.hasOwn(forRoot, name)) throw new Error(`operation ${typeName}.${name} has no resolver`);
  }
  for (const [name, resolver] of Object.entries(forRoot)) {
    const field = fieldOf(schema, typeName, name);
    if (typeof resolver === 'function') {
      field.resolve = guarded(resolver);
    } else {
      field.subscribe = guarded(resolver.subscribe);
      field.resolve = resolver.resolve;
    }
  }
}

export function buildExecutableSchema(resolvers: ResolverMap = defaultResolvers): GraphQLSchema {
  const schema = buildSchema(typeDefs);
  attachScalars(schema);
  attachRoot(schema, 'Query', resolvers);
  attachRoot(schema, 'Mutation', resolvers);
  attachRoot(schema, 'Subscription', resolvers);
  for (const [typeName, fields] of Object.entries(resolvers.types)) {
    for (const [name, resolver] of Object.entries(fields)) fieldOf(schema, typeName, name).resolve = resolver;
  }
  return schema;
}
