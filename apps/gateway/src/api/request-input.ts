import { contractSchemas, DsgError, ErrorCodes, type RpcDef } from '@dsg/contracts';
import type { Request } from 'express';
import type { RouteDef } from './route-table';

/** Names that would reach an object's prototype instead of a member. */
const UNSAFE_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

type JsonType = 'integer' | 'number' | 'boolean' | 'array' | 'string' | 'object' | undefined;

/**
 * Turns an HTTP request into the operation's request object: path parameters, then the JSON body
 * (POST, PUT) or the query string (GET), whose strings are read as the request's schema says
 * (integers, booleans, comma-separated arrays) and whose register-filter members go into
 * `filter`. It does not validate: the service does, and answers each bad member by field.
 */
export class RequestInput {
  /** Member types of every request class the routes name, from the contracts' JSON schemas. */
  private readonly types = new Map<string, Record<string, JsonType>>();
  /** The request classes' schemas as the contracts give them, for the OpenAPI document. */
  private readonly schemas: Record<
    string,
    { properties?: Record<string, object>; required?: string[] }
  >;

  constructor(routes: readonly RouteDef[]) {
    const classes = routes.flatMap((r) => (r.rpc ? [r.rpc.op.request] : []));
    const schemas = contractSchemas(classes as (new () => unknown)[], '#/components/schemas/');
    this.schemas = schemas as typeof this.schemas;
    for (const cls of classes) {
      const properties = (schemas[cls.name]?.properties ?? {}) as Record<
        string,
        { type?: JsonType }
      >;
      this.types.set(
        cls.name,
        Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, v.type])),
      );
    }
  }

  of(
    route: RouteDef,
    params: Record<string, string>,
    query: Record<string, unknown>,
    body: unknown,
    req?: Pick<Request, 'headers' | 'is'>,
  ): Record<string, unknown> {
    if (route.method === 'GET') return { ...this.fromQuery(route, query), ...params };
    const sent =
      req !== undefined &&
      (req.headers['transfer-encoding'] !== undefined ||
        Number(req.headers['content-length'] ?? 0) > 0);
    if (sent && !req.is('application/json')) {
      throw new DsgError(ErrorCodes.UNSUPPORTED, 'The body must be application/json');
    }
    if (body === undefined || body === null || (typeof body === 'object' && isEmpty(body))) {
      return { ...params };
    }
    if (typeof body !== 'object' || Array.isArray(body)) {
      throw new DsgError(ErrorCodes.MALFORMED, 'The request body must be a JSON object');
    }
    for (const name of Object.keys(params)) {
      const given = (body as Record<string, unknown>)[name];
      if (given !== undefined && given !== params[name]) {
        throw new DsgError(ErrorCodes.VALIDATION_FAILED, 'The body disagrees with the path', [
          { field: name, constraint: 'matchesPath', message: `${name} must match the path` },
        ]);
      }
    }
    return { ...(body as Record<string, unknown>), ...params };
  }

  /** Query members as typed values; unknown ones pass as given (the service refuses them). */
  fromQuery(route: RouteDef, query: Record<string, unknown>): Record<string, unknown> {
    const types = route.rpc ? (this.types.get(route.rpc.op.request.name) ?? {}) : {};
    const out: Record<string, unknown> = {};
    const filter: Record<string, unknown> = {};
    for (const [name, raw] of Object.entries(query)) {
      if (UNSAFE_NAMES.has(name)) {
        throw new DsgError(ErrorCodes.VALIDATION_FAILED, 'The query is not valid', [
          { field: name, constraint: 'whitelistValidation', message: `${name} is not a member` },
        ]);
      }
      if (route.filterParams?.includes(name)) {
        filter[name] = raw;
        continue;
      }
      out[name] = coerce(raw, types[name]);
    }
    if (Object.keys(filter).length > 0) out.filter = filter;
    return out;
  }

  /** The request members an operation takes, with their schemas, for the OpenAPI document. */
  membersOf(op: RpcDef<unknown, unknown>): { name: string; schema: object; required: boolean }[] {
    const schema = this.schemas[op.request.name] ?? {};
    return Object.entries(schema.properties ?? {}).map(([name, member]) => ({
      name,
      schema: member,
      required: schema.required?.includes(name) ?? false,
    }));
  }
}

function coerce(raw: unknown, type: JsonType): unknown {
  if (typeof raw !== 'string') return raw;
  switch (type) {
    case 'integer':
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    case 'array':
      return raw === '' ? [] : raw.split(',');
    default:
      return raw;
  }
}

function isEmpty(value: object): boolean {
  for (const _ in value) return false;
  return true;
}
