import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseId } from '@switchboard/input-rules';
import { AdminRequest, AuditWriter } from './admin-token.guard';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Every admin action in the audit log (`admin_action`): each authenticated request that may change
 * something (not GET/HEAD), through the API or the web console (`/admin/console/...` routes), whatever its outcome, with the token's name, the route template (never
 * the URL as sent), the path parameters, the status and the request id. The change itself is also
 * recorded by the service that made it (auth's or the propagator's events); the request id ties them.
 */
@Injectable()
export class AdminActionAudit implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly audit: AuditWriter,
  ) {}

  onModuleInit() {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify?.addHook) return;
    fastify.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
      // Set by AdminTokenGuard on the request Nest hands the route (Fastify's request object).
      const actor = (request as unknown as AdminRequest).adminActor;
      if (!actor || READS.has(request.method)) return;
      const route = request.routeOptions.url ?? 'unmatched';
      const params = (request.params ?? {}) as Record<string, string>;
      const id = typeof params['id'] === 'string' ? parseId(params['id']) : null;
      await this.audit.record(
        'admin_action',
        {
          token_name: actor.name,
          token_id: actor.tokenId,
          method: request.method,
          route,
          // Path parameters are ids and application keys (not secrets); anything else is not copied.
          params: Object.fromEntries(Object.entries(params).filter(([, v]) => typeof v === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(v))),
          status: reply.statusCode,
          request_id: String(request.id),
        },
        {
          slaveId: id !== null && (route.startsWith('/admin/slaves/') || route.startsWith('/admin/console/slaves/')) ? id : null,
          memberId: id !== null && (route.startsWith('/admin/members/') || route.startsWith('/admin/console/members/')) ? id : null,
        },
      );
    });
  }
}
