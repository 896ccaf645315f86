import {
  contractSchemas,
  PingReply,
  PingRequest,
  RotateSigningKeyReply,
  SigningKeysReply,
  StackHealthReply,
} from '@dsg/contracts';
import { packageVersion, PLATFORM_LOGGER, type Logger } from '@dsg/platform';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { RequestInput } from './api/request-input';
import { type RouteDef, ROUTES } from './api/route-table';
import { GATEWAY_CONFIG, type GatewayConfig } from './config/gateway.config';
import { hardenHttp } from './http/hardening';

/** Problem+json, as HttpProblemFilter writes it (RFC 9457). */
const PROBLEM_SCHEMA = {
  type: 'object',
  required: ['type', 'title', 'status', 'code'],
  properties: {
    type: { type: 'string', example: 'urn:dsg:problem:request.validation_failed' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', example: 'REQUEST.VALIDATION_FAILED' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          field: { type: 'string' },
          constraint: { type: 'string' },
          message: { type: 'string' },
        },
      },
    },
    correlationId: { type: 'string' },
  },
};

/** The access log's query (the gateway's own route: no contract class). */
const ACCESS_LOG_QUERY: [string, string, string][] = [
  ['since', 'string', 'entries at or after this RFC 3339 time'],
  ['until', 'string', 'entries before this RFC 3339 time'],
  ['actor', 'string', "the person's subject at the identity provider"],
  ['action', 'string', 'a route id of the role matrix (register.export, accountings.get, ...)'],
  ['after', 'integer', "the previous page's nextAfter"],
  ['limit', 'integer', '1 to 1000 (default 100)'],
];

const PROBLEM = {
  'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
};

/** The gateway's HTTP set-up: hardening first, then the OpenAPI document at /docs. */
export function configureGatewayHttp(app: INestApplication): void {
  hardenHttp(app, app.get<GatewayConfig>(GATEWAY_CONFIG), app.get<Logger>(PLATFORM_LOGGER));
  setupOpenApi(app);
}

/**
 * The gateway's OpenAPI document at /docs (UI) and /docs-json: the controllers' own routes, and
 * every route of the people's API from the route table with its roles, parameters and the
 * contract schemas of what it takes and answers.
 */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('DSG gateway')
    .setDescription(
      'HTTP API for auditors, privacy officers and operators. Every /v1 route needs an OIDC Bearer token; its roles are listed on each operation (the role matrix). Errors are application/problem+json (RFC 9457).',
    )
    .setVersion(packageVersion())
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  const classes = ROUTES.flatMap((r) => (r.rpc ? [r.rpc.op.request, r.rpc.op.reply] : []));
  document.components = {
    ...document.components,
    schemas: {
      ...document.components?.schemas,
      ...contractSchemas(
        [
          PingRequest,
          PingReply,
          StackHealthReply,
          SigningKeysReply,
          RotateSigningKeyReply,
          ...(classes as (new () => unknown)[]),
        ],
        '#/components/schemas/',
      ),
      Problem: PROBLEM_SCHEMA,
    },
  };
  addRoutes(document, new RequestInput(ROUTES));
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}

function addRoutes(document: OpenAPIObject, input: RequestInput): void {
  for (const route of ROUTES) {
    const path = route.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const pathParams = [...route.path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]);
    document.paths[path] = {
      ...document.paths[path],
      [route.method.toLowerCase()]: operation(route, pathParams, input),
    };
  }
}

function operation(route: RouteDef, pathParams: string[], input: RequestInput) {
  const parameters: object[] = pathParams.map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  if (route.method === 'GET' && route.rpc) {
    for (const { name, schema, required } of input.membersOf(route.rpc.op)) {
      if (pathParams.includes(name) || name === 'filter') continue;
      parameters.push({ name, in: 'query', required, schema });
    }
  }
  if (route.id === 'access-log.list') {
    for (const [name, type, description] of ACCESS_LOG_QUERY) {
      parameters.push({ name, in: 'query', description, schema: { type } });
    }
  }
  for (const name of route.filterParams ?? []) {
    parameters.push({ name, in: 'query', schema: { type: 'string' } });
  }
  if (route.idempotent) {
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: true,
      schema: { type: 'string' },
    });
  }
  const reply = route.rpc?.op.reply.name;
  const ok = route.binary
    ? { content: { [route.binary]: { schema: { type: 'string', format: 'binary' } } } }
    : route.id === 'rights.report'
      ? {
          description: 'JSON, or with format=pdf the PDF itself (Dsg-Content-Hash: its hash)',
          content: {
            'application/json': { schema: { $ref: `#/components/schemas/${reply}` } },
            'application/pdf': { schema: { type: 'string', format: 'binary' } },
          },
        }
      : route.id === 'register.export'
        ? {
            headers: {
              'Dsg-Export-Manifest': {
                description: 'The signed manifest, base64url JSON',
                schema: { type: 'string' },
              },
              'Dsg-Export-Entries': {
                description: 'Lines of entries that follow',
                schema: { type: 'integer' },
              },
            },
            content: {
              'text/csv': { schema: { type: 'string' } },
              'application/x-ndjson': { schema: { type: 'string' } },
            },
          }
        : reply
          ? {
              content: {
                'application/json': { schema: { $ref: `#/components/schemas/${reply}` } },
              },
            }
          : { content: { 'application/json': { schema: { type: 'object' } } } };
  return {
    operationId: route.id,
    summary: route.summary,
    description: `Roles: ${route.roles.join(', ')}.${route.audited ? ' Every access is written to the access log (POL-7).' : ''}`,
    tags: [route.path.split('/')[2]],
    security: [{ bearer: [] }],
    parameters,
    ...(route.method !== 'GET' && route.rpc
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: { $ref: `#/components/schemas/${route.rpc.op.request.name}` },
              },
            },
          },
        }
      : {}),
    responses: {
      200: { description: 'OK', ...ok },
      400: { description: 'Bad input, by field', content: PROBLEM },
      401: { description: 'No valid token', content: PROBLEM },
      403: { description: 'The role does not permit this', content: PROBLEM },
      404: { description: 'No such resource', content: PROBLEM },
      413: { description: 'The body is too large', content: PROBLEM },
      429: { description: 'Too many requests (Retry-After)', content: PROBLEM },
      503: { description: 'A service is unavailable', content: PROBLEM },
    },
  };
}
