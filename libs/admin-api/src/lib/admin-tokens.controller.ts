import { Controller, Delete, Get, NotFoundException, Param, Post, Req, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { adminTokenCreated, adminTokenPage, adminTokenView, adminTokensQuery, createAdminTokenCommand } from '@switchboard/contracts';
import { AdminTokenEntity } from '@switchboard/db';
import { parseId } from '@switchboard/input-rules';
import { AdminController, AdminRoute, Checked } from './admin-route';
import { AdminActor, AdminRequest, AdminTokenGuard, AdminTokens, AuditWriter } from './admin-token.guard';
import { decodeCursor, pageOf } from './cursor';

const tokenView = (t: AdminTokenEntity): z.output<typeof adminTokenView> => ({
  id: t.id,
  name: t.name,
  created_at: t.createdAt.toISOString(),
  created_by: t.createdBy,
  last_used_at: t.lastUsedAt?.toISOString() ?? null,
  revoked_at: t.revokedAt?.toISOString() ?? null,
  revoked_by: t.revokedBy,
});

const TOKEN_EXAMPLE = { id: 3, name: 'ops-laptop', created_at: '2025-01-01T12:00:00.000Z', created_by: 'bootstrap', last_used_at: null, revoked_at: null, revoked_by: null };
const actorOf = (req: AdminRequest): AdminActor => req.adminActor!;

/**
 * Named admin tokens (besides the bootstrap ADMIN_TOKEN): created and revoked through the API,
 * stored as SHA-256 digests, shown once. Every token has the same rights; the audit log names the
 * token behind every action.
 */
@AdminController('admin tokens')
@UseGuards(AdminTokenGuard)
@Controller('admin/tokens')
export class AdminTokensController {
  constructor(
    private readonly tokens: AdminTokens,
    private readonly audit: AuditWriter,
  ) {}

  @Post()
  @AdminRoute({
    summary: 'Create a named admin token',
    description: 'The token is shown only in this answer (the service keeps its SHA-256 digest). Names of live tokens are unique; `bootstrap` is ADMIN_TOKEN\'s.',
    body: createAdminTokenCommand,
    example: { name: 'ops-laptop' },
    response: { status: 201, schema: adminTokenCreated, description: 'the token, shown once', example: { ...TOKEN_EXAMPLE, token: 'sbat_3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } },
    errors: [409],
  })
  async create(@Checked('body') body: z.output<typeof createAdminTokenCommand>, @Req() req: AdminRequest) {
    const by = actorOf(req);
    const { row, token } = await this.tokens.create(body.name, by);
    await this.audit.record('admin_token_created', { token_id: row.id, name: row.name, by: by.name, by_token_id: by.tokenId });
    return { ...tokenView(row), token };
  }

  @Get()
  @AdminRoute({
    summary: 'Admin tokens',
    description: 'Named admin tokens by id, live and revoked (never the tokens themselves).',
    query: adminTokensQuery,
    response: { schema: adminTokenPage, description: 'a page of admin tokens', example: { items: [TOKEN_EXAMPLE], next_cursor: null } },
  })
  async list(@Checked('query') query: z.output<typeof adminTokensQuery>) {
    const limit = query.limit ?? 100;
    const after = decodeCursor('tokens', query.cursor);
    const rows = await this.tokens.list({ revoked: query.revoked, after: after === undefined ? undefined : Number(after) }, limit);
    return pageOf('tokens', rows, limit, (t) => t.id, tokenView);
  }

  @Delete(':id')
  @AdminRoute({
    summary: 'Revoke a named admin token',
    description: 'Refused from its next request on. The row is kept (revoked_at, revoked_by) for the audit log.',
    params: { id: 'admin token id' },
    response: { schema: adminTokenView, description: 'the revoked token', example: { ...TOKEN_EXAMPLE, revoked_at: '2025-02-01T09:00:00.000Z', revoked_by: 'bootstrap' } },
    errors: [404],
  })
  async revoke(@Param('id') raw: string, @Req() req: AdminRequest) {
    const id = parseId(raw);
    if (id === null) throw new NotFoundException('no such live admin token');
    const by = actorOf(req);
    const row = await this.tokens.revoke(id, by);
    await this.audit.record('admin_token_revoked', { token_id: row.id, name: row.name, by: by.name, by_token_id: by.tokenId });
    return tokenView(row);
  }
}
