import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { AuthClient } from '@switchboard/auth-client';
import { REDIS } from '@switchboard/redis';
import { ADMIN_CONTROLLERS } from './admin-api.module';
import { ADMIN_API_OPTIONS, AdminAuthenticator, AdminTokens, AuditWriter } from './admin-token.guard';
import { DeliveryQueries } from './delivery-queries';
import { AuditListing, SlaveListing } from './listings';
import { adminOpenApiDocument } from './openapi';
import { PropagatorClient } from './propagator-client';

const COMMITTED = join(__dirname, '../../../../docs/openapi.json');

/** The admin controllers with every dependency stubbed: enough to build the document, no stores needed. */
@Module({
  controllers: ADMIN_CONTROLLERS,
  providers: [DataSource, REDIS, AuthClient, DeliveryQueries, PropagatorClient, AdminTokens, AuditWriter, AdminAuthenticator, ADMIN_API_OPTIONS, SlaveListing, AuditListing].map((provide) => ({ provide, useValue: {} })),
})
class DocsOnlyModule {}

/** The document as committed: sorted keys, two-space indent, a final newline. */
const render = (doc: OpenAPIObject) => JSON.stringify(doc, null, 2) + '\n';

describe('the admin OpenAPI document (generated from the zod schemas that validate)', () => {
  let app: NestFastifyApplication;
  let doc: OpenAPIObject;

  beforeAll(async () => {
    app = await NestFactory.create<NestFastifyApplication>(DocsOnlyModule, new FastifyAdapter(), { logger: false });
    doc = adminOpenApiDocument(app);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
  }, 60_000);

  it('is the committed docs/openapi.json (regenerate: UPDATE_OPENAPI=1 npm test -- libs/admin-api/src/lib/openapi.spec.ts)', () => {
    if (process.env['UPDATE_OPENAPI'] === '1') writeFileSync(COMMITTED, render(doc));
    expect(readFileSync(COMMITTED, 'utf8')).toBe(render(doc));
  });

  it('describes every admin route: summary, bearer (not JWT), schemas, problem+json errors, examples', () => {
    expect(doc.components?.securitySchemes).toEqual({ 'admin-token': { type: 'http', scheme: 'bearer', description: expect.stringContaining('not a JWT') } });
    expect(doc.components?.schemas?.['Problem']).toEqual(expect.objectContaining({ type: 'object', required: expect.arrayContaining(['type', 'title', 'status', 'detail', 'instance']) }));
    const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op: op as Record<string, any> })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(23);
    for (const { route, op } of operations) {
      expect([route, typeof op['summary'], op['security']]).toEqual([route, 'string', [{ 'admin-token': [] }]]);
      const statuses = Object.keys(op['responses']);
      const ok = statuses.filter((s) => s.startsWith('2'));
      expect([route, ok.length]).toEqual([route, 1]);
      if (ok[0] !== '204') {
        const content = op['responses'][ok[0]].content?.['application/json'];
        expect([route, !!content?.schema, content?.example !== undefined]).toEqual([route, true, true]);
      }
      for (const status of ['401', '429', '503']) expect([route, statuses.includes(status)]).toEqual([route, true]);
      for (const status of statuses.filter((s) => /^[45]/.test(s))) {
        expect([route, status, op['responses'][status].content?.['application/problem+json']?.schema]).toEqual([route, status, { $ref: '#/components/schemas/Problem' }]);
      }
      if (op['requestBody']) {
        const body = op['requestBody'].content['application/json'];
        expect([route, !!body.schema, !!body.examples]).toEqual([route, true, true]);
        expect([route, statuses.includes('400')]).toEqual([route, true]);
      }
    }
    // Lists: limit and cursor on each, documented from the same schema.
    for (const path of ['/admin/members', '/admin/members/locked', '/admin/slaves', '/admin/audit', '/admin/deliveries', '/admin/apps', '/admin/tokens']) {
      const params = (doc.paths[path].get!.parameters ?? []) as { name: string; in: string }[];
      expect([path, params.filter((p) => p.in === 'query').map((p) => p.name)]).toEqual([path, expect.arrayContaining(['limit', 'cursor'])]);
      const schema = (doc.paths[path].get!.responses['200'] as any).content['application/json'].schema;
      expect([path, schema.required]).toEqual([path, ['items', 'next_cursor']]);
    }
    // Request bodies are the contracts' commands (what the routes parse with): e.g. createMember's fields.
    const member = (doc.paths['/admin/members'].post!.requestBody as any).content['application/json'].schema;
    expect(Object.keys(member.properties).sort()).toEqual(['email', 'id', 'name', 'pass_hash', 'pass_salt', 'password', 'revalidate_url', 'validating']);
    expect(member.additionalProperties).toBe(false);
  });
});
