import { Controller, Get, Post, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { AuthClient } from '@switchboard/auth-client';
import { auditPage, auditQuery, issueSlaveKeyCommand, issueSlaveKeyContract, slavePage, slavesQuery } from '@switchboard/contracts';
import { AdminController, AdminRoute, Checked } from './admin-route';
import { AdminTokenGuard } from './admin-token.guard';
import { relay } from './admin-commands.controllers';
import { AuditListing, SlaveListing } from './listings';

const SLAVE_EXAMPLE = {
  id: 1,
  url: 'https://forum.example/applications/core/interface/ipsconnect/ipsconnect.php',
  enabled: true,
  disabled_reason: null,
  verified: true,
  registered_at: '2025-01-01T12:00:00.000Z',
  last_access_at: '2025-01-02T08:30:00.000Z',
  pending: 0,
  dead: 0,
  last_success_at: '2025-01-02T08:29:59.000Z',
  failing_since: null,
};

@AdminController('slaves')
@UseGuards(AdminTokenGuard)
@Controller('admin/slaves')
export class AdminSlavesController {
  constructor(
    private readonly auth: AuthClient,
    private readonly slaves: SlaveListing,
  ) {}

  @Post()
  @AdminRoute({
    summary: 'Issue a per-slave master key',
    description:
      'Issues a per-slave master key for a slave URL (spec D5): configure that slave with it instead of the global key; it becomes enabled when it calls verifySettings with it. A URL already registered answers 409 (code `slave_exists`, nothing changed) unless `rotate: true`, which replaces its per-slave key (the old one is refused at once). The key is shown only in this answer. A URL refused by the outbound policy answers 400 (or 503 when its name cannot be resolved now) with `code` `slave_url_refused` and `rule` scheme | credentials | address | resolution.',
    body: issueSlaveKeyCommand,
    example: { url: 'https://forum.example/applications/core/interface/ipsconnect/ipsconnect.php' },
    response: { status: 201, schema: issueSlaveKeyContract.response, description: 'the slave and its master key (shown once)', example: { id: 1, url: SLAVE_EXAMPLE.url, master_key: '5f4dcc3b5aa765d61d8327deb882cf99f4dcc3b5aa765d61', created: true } },
    errors: [409],
  })
  issueKey(@Checked('body') body: z.output<typeof issueSlaveKeyCommand>, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(issueSlaveKeyContract, { body }));
  }

  @Get()
  @AdminRoute({
    summary: 'Slaves',
    description: 'Registered slaves by id, with their delivery health (never their keys).',
    query: slavesQuery,
    response: { schema: slavePage, description: 'a page of slaves', example: { items: [SLAVE_EXAMPLE], next_cursor: null } },
  })
  list(@Checked('query') query: z.output<typeof slavesQuery>) {
    return this.slaves.page(query);
  }
}

@AdminController('audit')
@UseGuards(AdminTokenGuard)
@Controller('admin/audit')
export class AdminAuditController {
  constructor(private readonly audit: AuditListing) {}

  @Get()
  @AdminRoute({
    summary: 'The audit log',
    description:
      'Newest first: the domain events of every service, and what the admin service records itself: `admin_action` (every change asked through the admin API or the web console, with the token name), `admin_authn_fail` (with the token name when a revoked token was used), `admin_authn_rate_limited`, `admin_csrf_refused` (a change made with the console session cookie from another site or without its CSRF token), `admin_token_created`, `admin_token_revoked`.',
    query: auditQuery,
    response: {
      schema: auditPage,
      description: 'a page of audit events',
      example: {
        items: [{ id: '7', event_id: '0f8fad5b-d9cb-469f-a165-70867728950e', type: 'admin_action', occurred_at: '2025-01-01T12:00:00.000Z', source: 'admin', slave_id: null, member_id: 42, details: { token_name: 'ops-laptop', method: 'POST', route: '/admin/members/:id/unlock', status: 200 } }],
        next_cursor: 'YXVkaXQ6Nw',
      },
    },
  })
  list(@Checked('query') query: z.output<typeof auditQuery>) {
    return this.audit.page(query);
  }
}
