import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { ApiErrorBody } from '../common/api-error-body';

export const OPENAPI_UI_PATH = 'docs';
export const OPENAPI_JSON_PATH = 'docs-json';

/**
 * Serves the OpenAPI document built from the controllers' decorators: the UI at /docs and the JSON
 * at /docs-json. Call before app.init()/listen().
 */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Inventory sync service')
    .setDescription(
      "A local, always-readable copy of the partner's experience availability (slots, seats and " +
        'prices per passenger type), kept fresh under the partner rate limit. Errors are JSON ' +
        '`{ statusCode, error, message }`.',
    )
    .setVersion('0.1.0')
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    // Relative: the document describes whichever origin serves it (every instance serves all).
    .addServer('/', 'the service that serves this document')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' })
    .build();
  const document = markPublicOperations(
    SwaggerModule.createDocument(app, config, { extraModels: [ApiErrorBody] }),
  );
  SwaggerModule.setup(OPENAPI_UI_PATH, app, document, {
    jsonDocumentUrl: OPENAPI_JSON_PATH,
    raw: ['json'],
  });
}

/**
 * Operations without a security requirement (everything but the control endpoints, which carry
 * @ApiBearerAuth) get an explicit `security: []`, so "public" is stated, not implied.
 */
export function markPublicOperations(document: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const) {
      const operation = item[method];
      if (operation && !operation.security) operation.security = [];
    }
  }
  return document;
}
