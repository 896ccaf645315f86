import {
  contractSchemas,
  PingReply,
  PingRequest,
  RotateSigningKeyReply,
  SigningKeysReply,
  StackHealthReply,
} from '@dsg/contracts';
import { packageVersion } from '@dsg/platform';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

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

/**
 * The gateway's OpenAPI document at /docs (UI) and /docs-json. Routes come from the controllers;
 * schemas from the same contract classes the validation pipe uses.
 */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('DSG gateway')
    .setDescription(
      'HTTP API for auditors, privacy officers and operators. Errors are application/problem+json.',
    )
    .setVersion(packageVersion())
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components = {
    ...document.components,
    schemas: {
      ...document.components?.schemas,
      ...contractSchemas(
        [PingRequest, PingReply, StackHealthReply, SigningKeysReply, RotateSigningKeyReply],
        '#/components/schemas/',
      ),
      Problem: PROBLEM_SCHEMA,
    },
  };
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
