import { BadRequestException, Body, Controller, Delete, Get, Header, HttpCode, NotFoundException, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import {
  ApiResult,
  AppKeysSnapshot,
  apiExecuteContract,
  appKeysContract,
  appUsageContract,
  approveContract,
  checkLinkContract,
  createAppContract,
  listAppsContract,
  memberGrantsContract,
  patchAppContract,
  revokeGrantContract,
  rotateAppSecretContract,
} from '@switchboard/contracts';
import { InternalTokenGuard } from '@switchboard/identity';
import { answer, receive } from '@switchboard/runtime';
import { parseMemberId } from '@switchboard/input-rules';
import { ApiExecuteService } from './api-execute.service';
import { AppKeysService, appView } from './app-keys.service';
import { AuthorizeService } from './authorize.service';
import { GrantsService } from './grants.service';

/** Keys are 32 lowercase hex characters (AppKeysService.create); anything else names no key and never reaches SQL. */
function appKey(raw: string): string {
  if (!/^[0-9a-f]{32}$/.test(raw)) throw new NotFoundException('no such application key');
  return raw;
}

/** Member and grant ids are positive int4 (`^[1-9][0-9]{0,9}$`, at most 2147483647); anything else names nothing. */
function rowId(raw: string, what: string): number {
  const id = parseMemberId(raw);
  if (id === null) throw new NotFoundException(`no such ${what}`);
  return id;
}

/** The auth service's internal endpoints of the application API (the gateway and admin call them). */
@ApiExcludeController()
@Controller('internal')
@UseGuards(InternalTokenGuard)
export class ApiInternalController {
  constructor(
    private readonly calls: ApiExecuteService,
    private readonly keys: AppKeysService,
    private readonly authorize: AuthorizeService,
    private readonly grants: GrantsService,
  ) {}

  /**
   * Executes a call of a method that changes what auth owns, already checked by the gateway (key,
   * limits, signature, token, permission): trusted for the internal token.
   */
  @Post('api/execute')
  @HttpCode(200)
  async execute(@Body() body: unknown): Promise<ApiResult> {
    return answer(apiExecuteContract, await this.calls.execute(receive(apiExecuteContract, body)));
  }

  /**
   * Hands every application key, secrets unsealed, with their keyring version to the gateway (which
   * keeps them per version): like `/internal/keyring`, the only way they leave auth. Never cached by HTTP.
   */
  @Get('app-keys')
  @Header('cache-control', 'no-store')
  async appKeys(): Promise<AppKeysSnapshot> {
    return answer(appKeysContract, await this.keys.snapshot());
  }

  @Post('api/authorize/check')
  @HttpCode(200)
  async check(@Body() body: unknown) {
    return answer(checkLinkContract, await this.authorize.check(receive(checkLinkContract, body).params));
  }

  @Post('api/authorize/approve')
  @HttpCode(200)
  async approve(@Body() body: unknown) {
    const b = receive(approveContract, body);
    return answer(approveContract, await this.authorize.approve(b.params, b.memberId));
  }

  @Get('api/grants/:member')
  async memberGrants(@Param('member') member: string) {
    return answer(
      memberGrantsContract,
      (await this.grants.grantsOf(rowId(member, 'member'))).map(({ grant, title }) => ({ id: grant.id, api_key: grant.apiKey, title, permissions: grant.permissions, since: grant.createdAt.toISOString() })),
    );
  }

  @Post('api/grants/:member/:grant/revoke')
  @HttpCode(200)
  async revokeGrant(@Param('member') member: string, @Param('grant') grant: string) {
    const grantId = rowId(grant, 'grant');
    const mine = (await this.grants.grantsOf(rowId(member, 'member'))).find((g) => g.grant.id === grantId);
    if (!mine) throw new NotFoundException('no such grant');
    await this.grants.revoke(mine.grant.id);
    return answer(revokeGrantContract, { revoked: mine.grant.id });
  }

  @Post('admin/apps')
  @HttpCode(201)
  async create(@Body() body: unknown) {
    const { entity, secret } = await this.keys.create(receive(createAppContract, body));
    return answer(createAppContract, { ...appView(entity), secret });
  }

  @Get('admin/apps')
  async list() {
    return answer(listAppsContract, (await this.keys.list()).map(appView));
  }

  @Patch('admin/apps/:key')
  async patch(@Param('key') key: string, @Body() body: unknown) {
    const updated = await this.keys.patch(appKey(key), receive(patchAppContract, body));
    if (!updated) throw new NotFoundException('no such application key');
    return answer(patchAppContract, appView(updated));
  }

  @Post('admin/apps/:key/rotate-secret')
  @HttpCode(200)
  async rotate(@Param('key') key: string) {
    const secret = await this.keys.rotate(appKey(key));
    if (!secret) throw new NotFoundException('no such application key');
    return answer(rotateAppSecretContract, { api_key: key, secret });
  }

  @Delete('admin/apps/:key')
  @HttpCode(204)
  async remove(@Param('key') key: string) {
    if (!(await this.keys.remove(appKey(key)))) throw new NotFoundException('no such application key');
  }

  @Get('admin/apps/:key/usage')
  async usage(@Param('key') key: string, @Query('days') days?: string) {
    if (!(await this.keys.get(appKey(key)))) throw new NotFoundException('no such application key');
    const n = days === undefined ? 7 : Number(days);
    if (!Number.isInteger(n) || n < 1 || n > 31) throw new BadRequestException('days must be a whole number from 1 to 31');
    return answer(appUsageContract, { api_key: key, days: await this.calls.usage(key, n) });
  }
}
