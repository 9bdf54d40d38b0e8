// graphql-js, always as the one CommonJS instance that Apollo, graphql-ws and graphql-query-complexity
// load. graphql@16 has no `exports` map, so bundler-style resolvers (vitest) pick its `module` build
// for a bare 'graphql' import while Node loads `main` for the dependencies: two copies, and every
// schema object fails graphql's "from another module or realm" check. The explicit file avoids that.
export * from 'graphql/index.js';
