import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ADMIN_SECURITY, openApiComponents } from './admin-route';

export const ADMIN_API_TITLE = 'Switchboard admin API';
export const ADMIN_API_DESCRIPTION = [
  'Operators manage the IPS Connect network here: slaves, members, application keys, deliveries, the audit log and admin tokens.',
  '',
  'Authentication: `Authorization: Bearer <token>` on every route, with the bootstrap `ADMIN_TOKEN` or a named admin token (`POST /admin/tokens`). Tokens are opaque random strings, not JWTs. Failed authentications are limited per client address (429 with Retry-After).',
  '',
  'Errors: RFC 9457 `application/problem+json` (schema Problem); validation errors name every field in `errors`.',
  '',
  'Lists: `?limit=` (1–500, default 100) and `?cursor=` (the previous page\'s `next_cursor`, opaque) → `{items, next_cursor}`; filters are exact matches named after the field (`slave_id`, `member_id`, `status`, `enabled`…); an unknown parameter is a 400.',
  '',
  'Schemas are generated from the zod schemas the service validates with (libs/contracts); docs/openapi.json is this document, held in sync by a test.',
].join('\n');

/**
 * The admin OpenAPI document: the controllers' operations (AdminRoute), the components generated
 * from the zod schemas, and the bearer scheme (an opaque token, not a JWT). Keys sorted, so the
 * committed docs/openapi.json diffs cleanly.
 */
export function adminOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle(ADMIN_API_TITLE)
    .setDescription(ADMIN_API_DESCRIPTION)
    .setVersion('1')
    .addSecurity(ADMIN_SECURITY, { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN or a named admin token (opaque; not a JWT)' })
    .build();
  const document = SwaggerModule.createDocument(app, config, { operationIdFactory: (controller, method) => `${controller.replace(/^Admin|Controller$/g, '')}_${method}` });
  // The admin routes only (health and metrics, served by every service, are in docs/operations.md).
  document.paths = Object.fromEntries(Object.entries(document.paths).filter(([path]) => path.startsWith('/admin/') || path === '/admin'));
  document.tags = [...new Set(Object.values(document.paths).flatMap((item) => Object.values(item).flatMap((op) => (op as { tags?: string[] }).tags ?? [])))].sort().map((name) => ({ name }));
  document.components = { ...document.components, schemas: { ...(document.components?.schemas ?? {}), ...openApiComponents() } };
  return sortKeys(document) as OpenAPIObject;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
}
