import { BadRequestException, Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Patch, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiBody, ApiConflictResponse, ApiCreatedResponse, ApiOkResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { AuthClient } from '@switchboard/auth-client';
import {
  appUsageContract,
  createAppContract,
  createMemberContract,
  deleteAppContract,
  listAppsContract,
  lockedMembersContract,
  patchAppContract,
  putSettingsContract,
  readSettingsContract,
  rotateAppSecretContract,
  unlockMemberContract,
} from '@switchboard/contracts';
import { receive } from '@switchboard/runtime';
import { MemberEntity } from '@switchboard/db';
import { memberView, readLockouts } from '@switchboard/identity';
import { parseMemberId } from '@switchboard/input-rules';
import { AdminTokenGuard } from './admin-token.guard';

/** Relays an auth-service answer (validation errors and conflicts included) as the admin answer. */
export async function relay(reply: FastifyReply, call: Promise<{ status: number; body: unknown }>): Promise<unknown> {
  const { status, body } = await call;
  reply.status(status);
  return body;
}

@ApiTags('members')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'missing or wrong admin token' })
@UseGuards(AdminTokenGuard)
@Controller('admin/members')
export class AdminMembersController {
  constructor(
    private readonly auth: AuthClient,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  /**
   * Creates a member on the master and propagates it to every slave. Give `password` (hashed as the
   * slaves do: `$2a$13$` bcrypt with a 22-character salt, generated unless `pass_salt` is given; a
   * salt of another length uses the IP.Board 3 md5 scheme) or `pass_hash` + `pass_salt` (imports).
   * `id` keeps a member id from an existing network; later ids are allocated after it.
   */
  @Post()
  @HttpCode(201)
  @ApiBody({
    schema: {
      type: 'object',
      required: ['name', 'email'],
      properties: {
        id: { type: 'integer', minimum: 1, maximum: 2147483647 },
        name: { type: 'string', maxLength: 255 },
        email: { type: 'string', maxLength: 150 },
        password: { type: 'string' },
        pass_hash: { type: 'string' },
        pass_salt: { type: 'string', maxLength: 22 },
        validating: { type: 'boolean' },
        revalidate_url: { type: 'string', nullable: true },
      },
    },
  })
  @ApiCreatedResponse({ description: 'the member, with its pass_salt' })
  @ApiBadRequestResponse({ description: 'invalid body: one message per field' })
  @ApiConflictResponse({ description: 'error: email_in_use | name_in_use | id_in_use' })
  create(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(createMemberContract, { body: receive(createMemberContract, body ?? {}) }));
  }

  /** Members locked by the login brute-force protection now. */
  @Get('locked')
  @ApiOkResponse({ description: 'locked members' })
  locked(@Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(lockedMembersContract));
  }

  /** Clears a member's lock and failure count. */
  @Post(':id/unlock')
  @HttpCode(200)
  unlock(@Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(unlockMemberContract, { params: { id } }));
  }

  @Get(':id')
  async get(@Param('id') raw: string) {
    const id = parseMemberId(raw);
    const member = id === null ? null : await this.db.getRepository(MemberEntity).findOneBy({ id });
    if (!member) throw new NotFoundException('no such member');
    return memberView(member, (await readLockouts(this.db, [member.id])).get(member.id));
  }

  /** Members, by id; `q` filters on name or e-mail (case-insensitive substring). */
  @Get()
  @ApiBadRequestResponse({ description: 'q repeated, longer than 255 characters, or holding control characters' })
  async list(@Query('q') q?: unknown, @Query('after') after?: string) {
    // PostgreSQL text cannot hold NUL: a NUL in q used to reach the query and answer 500.
    if (q !== undefined && (typeof q !== 'string' || q.length > 255 || /[\u0000-\u001f\u007f]/.test(q))) {
      throw new BadRequestException('q must be given once, at most 255 characters, without control characters');
    }
    const qb = this.db.getRepository(MemberEntity).createQueryBuilder('m').orderBy('m.id', 'ASC').limit(100);
    if (typeof q === 'string' && q) qb.andWhere('(m.name_key LIKE :q OR m.email_key LIKE :q)', { q: `%${q.toLowerCase().replace(/[%_\\]/g, '\\$&')}%` });
    const afterId = parseMemberId(typeof after === 'string' ? after : undefined);
    if (afterId !== null) qb.andWhere('m.id > :afterId', { afterId });
    const members = await qb.getMany();
    const lockouts = await readLockouts(this.db, members.map((m) => m.id));
    return members.map((m) => memberView(m, lockouts.get(m.id)));
  }
}

@ApiTags('settings')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'missing or wrong admin token' })
@UseGuards(AdminTokenGuard)
@Controller('admin/settings')
export class AdminSettingsController {
  constructor(private readonly auth: AuthClient) {}

  @Get()
  read(@Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(readSettingsContract));
  }

  /** `{"global_master_key": false}` switches the global MASTER_KEY off: per-slave keys only (spec D5). */
  @Patch()
  @ApiBody({ schema: { type: 'object', required: ['global_master_key'], properties: { global_master_key: { type: 'boolean' } } } })
  update(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(putSettingsContract, { body: receive(putSettingsContract, body ?? {}) }));
  }
}

@ApiTags('apps')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'missing or wrong admin token' })
@UseGuards(AdminTokenGuard)
@Controller('admin/apps')
export class AdminAppsController {
  constructor(private readonly auth: AuthClient) {}

  /** Creates an application key: `{title, description, type: "web"|"desktop", callback_url?}` → `{api_key, secret, …}` (the secret is shown only here and on rotation). */
  @Post()
  @HttpCode(201)
  @ApiBody({ schema: { type: 'object', required: ['title', 'type'], properties: { title: { type: 'string' }, description: { type: 'string' }, type: { type: 'string', enum: ['web', 'desktop'] }, callback_url: { type: 'string' } } } })
  create(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(createAppContract, { body: receive(createAppContract, body ?? {}) }));
  }

  @Get()
  list(@Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(listAppsContract));
  }

  /** Flags of A4: always_signed, accept_order_a, signature_mode, enabled, allowed_networks, daily_quota, title, description, callback_url. */
  @Patch(':key')
  patch(@Param('key') key: string, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(patchAppContract, { params: { key }, body: receive(patchAppContract, body ?? {}) }));
  }

  @Post(':key/rotate-secret')
  @HttpCode(200)
  rotate(@Param('key') key: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(rotateAppSecretContract, { params: { key } }));
  }

  @Delete(':key')
  @HttpCode(204)
  remove(@Param('key') key: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(deleteAppContract, { params: { key } }));
  }

  /** Calls and errors per day (newest first). */
  @Get(':key/usage')
  usage(@Param('key') key: string, @Query('days') days: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(appUsageContract, { params: { key }, query: days ? `?days=${encodeURIComponent(days)}` : '' }));
  }
}
