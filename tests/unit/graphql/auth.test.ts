import { describe, expect, it } from 'vitest';
import { bearerKey, connectionParamsKey, unauthenticatedError } from '../../../api/graphql/auth.js';
import { formatGraphqlError } from '../../../api/graphql/errors.js';

describe('API key extraction', () => {
  it('reads a bearer credential from the Authorization header', () => {
    expect(bearerKey('Bearer abc.DEF-123')).toBe('abc.DEF-123');
    expect(bearerKey('bearer   abc ')).toBe('abc');
  });

  it.each([undefined, '', 'abc', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', 'Bearer a b', `Bearer ${'k'.repeat(513)}`])('finds no key in %j', (header) => {
    expect(bearerKey(header)).toBeUndefined();
  });

  it('reads Authorization or authorization from connection_init, with or without Bearer', () => {
    expect(connectionParamsKey({ Authorization: 'Bearer k1' })).toBe('k1');
    expect(connectionParamsKey({ authorization: 'Bearer k2' })).toBe('k2');
    expect(connectionParamsKey({ Authorization: 'k3' })).toBe('k3');
    expect(connectionParamsKey({ Authorization: 'Bearer' })).toBeUndefined();
    expect(connectionParamsKey({ Authorization: 42 })).toBeUndefined();
    expect(connectionParamsKey({})).toBeUndefined();
    expect(connectionParamsKey(undefined)).toBeUndefined();
  });

  it('reports UNAUTHENTICATED 401, with an HTTP 401 for Apollo only', () => {
    const error = unauthenticatedError(false);
    expect(error.extensions).toMatchObject({ code: 'UNAUTHENTICATED', errorCode: 401, http: { status: 401 } });
    expect(error.message).toContain('Authorization: Bearer');
    const { http: _http, ...withoutHttp } = error.extensions;
    expect(formatGraphqlError({ message: error.message, extensions: withoutHttp }, error).extensions).toEqual({ code: 'UNAUTHENTICATED', errorCode: 401 });
    expect(unauthenticatedError(true).message).toBe('the API key is unknown or disabled');
  });
});
