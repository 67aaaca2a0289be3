import { STATUS_CODES } from 'node:http';
import { Controller, Delete, Get, HttpException, NotFoundException, Param, Patch, Post, Res, UseGuards } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { AuthClient } from '@switchboard/auth-client';
import {
  AppView,
  MemberView,
  appPage,
  appUsageContract,
  appUsageQuery,
  appView,
  appsQuery,
  createAppCommand,
  createAppContract,
  createMemberCommand,
  createMemberContract,
  deleteAppContract,
  listAppsContract,
  lockedMembersContract,
  lockedMembersQuery,
  memberPage,
  memberView as memberViewSchema,
  membersQuery,
  patchAppCommand,
  patchAppContract,
  putSettingsContract,
  readSettingsContract,
  rotateAppSecretContract,
  settingsCommand,
  unlockMemberContract,
} from '@switchboard/contracts';
import { MemberEntity } from '@switchboard/db';
import { memberView, readLockouts } from '@switchboard/identity';
import { parseMemberId } from '@switchboard/input-rules';
import { AdminController, AdminRoute, Checked } from './admin-route';
import { AdminTokenGuard } from './admin-token.guard';
import { decodeCursor, pageOf } from './cursor';

/** An auth-service answer relayed as the admin answer: a 2xx as it is, a 4xx as a problem (its words kept). */
export async function relay(reply: FastifyReply, call: Promise<{ status: number; body: unknown }>): Promise<unknown> {
  const { status, body } = await relayed(call);
  reply.status(status);
  return body;
}

/** The 2xx answer of an auth (or propagator) call; its 4xx thrown as the same error (a problem to the admin's client). */
export async function relayed(call: Promise<{ status: number; body: unknown }>): Promise<{ status: number; body: unknown }> {
  const answer = await call;
  if (answer.status >= 400) {
    const words = STATUS_CODES[answer.status] ?? 'Error';
    const body = typeof answer.body === 'object' && answer.body !== null ? answer.body : { statusCode: answer.status, error: words, message: words };
    throw new HttpException(body as object, answer.status);
  }
  return answer;
}

/** The member of the admin API's examples. */
export const MEMBER_EXAMPLE: MemberView = {
  id: 42,
  name: 'Alice',
  email: 'alice@example.test',
  validating: false,
  revalidate_url: null,
  banned: false,
  locked_until: null,
  failed_logins: 0,
  created_at: '2025-01-01T12:00:00.000Z',
};
const APP_EXAMPLE: AppView = {
  api_key: '0123456789abcdef0123456789abcdef',
  title: 'Gallery',
  description: 'Uploads photos',
  type: 'web',
  callback_url: 'https://gallery.example/callback',
  always_signed: false,
  accept_order_a: false,
  signature_mode: 'md5',
  enabled: true,
  allowed_networks: [],
  daily_quota: null,
  created_at: '2025-01-01T12:00:00.000Z',
};
/** The `:id` path parameter of member routes. */
export const MEMBER_ID = { id: 'member id (1–2147483647)' };
const KEY = { key: 'the application key (32 lowercase hex characters)' };

@AdminController('members')
@UseGuards(AdminTokenGuard)
@Controller('admin/members')
export class AdminMembersController {
  constructor(
    private readonly auth: AuthClient,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  @Post()
  @AdminRoute({
    summary: 'Create (or import) a member',
    description:
      'Creates a member on the master and propagates it to every slave. Give `password` (hashed as the slaves do: `$2a$13$` bcrypt with a 22-character salt, generated unless `pass_salt` is given; a salt of another length uses the IP.Board 3 md5 scheme) or `pass_hash` + `pass_salt` (imports). `id` keeps a member id from an existing network; later ids are allocated after it.',
    body: createMemberCommand,
    example: { name: 'Alice', email: 'alice@example.test', password: 'correct horse battery staple' },
    response: { status: 201, schema: createMemberContract.response, description: 'the member, with its pass_salt', example: { ...MEMBER_EXAMPLE, pass_salt: 'a1B2c3D4e5F6g7H8i9J0kL' } },
    errors: [409],
  })
  create(@Checked('body') body: z.output<typeof createMemberCommand>, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(createMemberContract, { body }));
  }

  @Get('locked')
  @AdminRoute({
    summary: 'Members locked out now',
    description: 'Members locked by the login brute-force protection now, by id.',
    query: lockedMembersQuery,
    response: { schema: memberPage, description: 'a page of locked members', example: { items: [{ ...MEMBER_EXAMPLE, locked_until: '2025-01-01T12:15:00.000Z', failed_logins: 5 }], next_cursor: null } },
  })
  async locked(@Checked('query') query: z.output<typeof lockedMembersQuery>) {
    const after = Number(decodeCursor('locked', query.cursor) ?? 0);
    const { body } = await relayed(this.auth.admin(lockedMembersContract));
    const rows = (body as MemberView[]).filter((m) => m.id > after).sort((a, b) => a.id - b.id);
    return pageOf('locked', rows, query.limit, (m) => m.id, (m) => m);
  }

  @Post(':id/unlock')
  @AdminRoute({
    summary: "Unlock a member's login",
    description: "Clears a member's lock and failure count.",
    params: MEMBER_ID,
    response: { schema: memberViewSchema, description: 'the member', example: MEMBER_EXAMPLE },
    errors: [404],
  })
  unlock(@Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(unlockMemberContract, { params: { id } }));
  }

  @Get(':id')
  @AdminRoute({ summary: 'One member', params: MEMBER_ID, response: { schema: memberViewSchema, description: 'the member', example: MEMBER_EXAMPLE }, errors: [404] })
  async get(@Param('id') raw: string) {
    const id = parseMemberId(raw);
    const member = id === null ? null : await this.db.getRepository(MemberEntity).findOneBy({ id });
    if (!member) throw new NotFoundException('no such member');
    return memberView(member, (await readLockouts(this.db, [member.id])).get(member.id));
  }

  @Get()
  @AdminRoute({
    summary: 'Members',
    description: 'Members by id; `q` filters on name or e-mail (case-insensitive substring).',
    query: membersQuery,
    response: { schema: memberPage, description: 'a page of members', example: { items: [MEMBER_EXAMPLE], next_cursor: 'bWVtYmVyczo0Mg' } },
  })
  async list(@Checked('query') query: z.output<typeof membersQuery>) {
    const limit = query.limit ?? 100;
    const qb = this.db.getRepository(MemberEntity).createQueryBuilder('m').orderBy('m.id', 'ASC').limit(limit + 1);
    if (query.q) qb.andWhere('(m.name_key LIKE :q OR m.email_key LIKE :q)', { q: `%${query.q.toLowerCase().replace(/[%_\\]/g, '\\$&')}%` });
    const after = decodeCursor('members', query.cursor);
    if (after !== undefined) qb.andWhere('m.id > :after', { after: Number(after) });
    const members = await qb.getMany();
    const lockouts = await readLockouts(this.db, members.map((m) => m.id));
    return pageOf('members', members, limit, (m) => m.id, (m) => memberView(m, lockouts.get(m.id)));
  }
}

@AdminController('settings')
@UseGuards(AdminTokenGuard)
@Controller('admin/settings')
export class AdminSettingsController {
  constructor(private readonly auth: AuthClient) {}

  @Get()
  @AdminRoute({ summary: 'Network settings', response: { schema: readSettingsContract.response, description: 'the settings', example: { global_master_key: true } } })
  read(@Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(readSettingsContract));
  }

  @Patch()
  @AdminRoute({
    summary: 'Change network settings',
    description: '`{"global_master_key": false}` switches the global MASTER_KEY off: per-slave keys only (spec D5).',
    body: settingsCommand,
    example: { global_master_key: false },
    response: { schema: putSettingsContract.response, description: 'the settings now', example: { global_master_key: false } },
  })
  update(@Checked('body') body: z.output<typeof settingsCommand>, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(putSettingsContract, { body }));
  }
}

/** Apps in a stable order for paging: creation time, then key. */
const appPosition = (a: AppView) => `${Date.parse(a.created_at)}.${a.api_key}`;
const comparePosition = (a: string, b: string) => {
  const [ta, ka] = a.split('.');
  const [tb, kb] = b.split('.');
  return Number(ta) - Number(tb) || (ka < kb ? -1 : ka > kb ? 1 : 0);
};

@AdminController('apps')
@UseGuards(AdminTokenGuard)
@Controller('admin/apps')
export class AdminAppsController {
  constructor(private readonly auth: AuthClient) {}

  @Post()
  @AdminRoute({
    summary: 'Create an application key',
    description: 'The secret is shown only in this answer and on rotation.',
    body: createAppCommand,
    example: { title: 'Gallery', description: 'Uploads photos', type: 'web', callback_url: 'https://gallery.example/callback' },
    response: { status: 201, schema: createAppContract.response, description: 'the application, with its secret', example: { ...APP_EXAMPLE, secret: '9f86d081884c7d659a2feaa0c55ad015' } },
  })
  create(@Checked('body') body: z.output<typeof createAppCommand>, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(createAppContract, { body }));
  }

  @Get()
  @AdminRoute({
    summary: 'Application keys',
    description: 'By creation time; never their secrets.',
    query: appsQuery,
    response: { schema: appPage, description: 'a page of applications', example: { items: [APP_EXAMPLE], next_cursor: null } },
  })
  async list(@Checked('query') query: z.output<typeof appsQuery>) {
    const after = decodeCursor('apps', query.cursor, /^[0-9]{1,16}\.[0-9a-f]{32}$/);
    const { body } = await relayed(this.auth.admin(listAppsContract));
    const rows = (body as AppView[])
      .filter((a) => (query.enabled === undefined || a.enabled === query.enabled) && (query.type === undefined || a.type === query.type))
      .filter((a) => after === undefined || comparePosition(appPosition(a), after) > 0)
      .sort((a, b) => comparePosition(appPosition(a), appPosition(b)));
    return pageOf('apps', rows, query.limit, appPosition, (a) => a);
  }

  @Patch(':key')
  @AdminRoute({
    summary: 'Change an application key',
    description: 'Flags of A4: always_signed, accept_order_a, signature_mode, enabled, allowed_networks, daily_quota; and title, description, callback_url.',
    params: KEY,
    body: patchAppCommand,
    example: { enabled: false },
    response: { schema: appView, description: 'the application now', example: { ...APP_EXAMPLE, enabled: false } },
    errors: [404],
  })
  patch(@Param('key') key: string, @Checked('body') body: z.output<typeof patchAppCommand>, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(patchAppContract, { params: { key }, body }));
  }

  @Post(':key/rotate-secret')
  @AdminRoute({
    summary: "Rotate an application's secret",
    description: 'The old secret stops working at once; the new one is shown only here.',
    params: KEY,
    response: { schema: rotateAppSecretContract.response, description: 'the new secret', example: { api_key: APP_EXAMPLE.api_key, secret: '2c26b46b68ffc68ff99b453c1d304134' } },
    errors: [404],
  })
  rotate(@Param('key') key: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(rotateAppSecretContract, { params: { key } }));
  }

  @Delete(':key')
  @AdminRoute({ summary: 'Delete an application key', description: 'Its tokens and grants end with it.', params: KEY, response: { status: 204, description: 'deleted' }, errors: [404] })
  remove(@Param('key') key: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(deleteAppContract, { params: { key } }));
  }

  @Get(':key/usage')
  @AdminRoute({
    summary: "An application's usage",
    description: 'Calls and errors per day, newest first.',
    params: KEY,
    query: appUsageQuery,
    response: { schema: appUsageContract.response, description: 'calls and errors per day', example: { api_key: APP_EXAMPLE.api_key, days: [{ day: '2025-01-01', calls: 120, errors: 3 }] } },
    errors: [404],
  })
  usage(@Param('key') key: string, @Checked('query') query: z.output<typeof appUsageQuery>, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(appUsageContract, { params: { key }, query: query.days ? `?days=${query.days}` : '' }));
  }
}
