import { BadRequestException, Body, ConflictException, Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, Put, ServiceUnavailableException, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SettingEntity, bumpKeyringVersion } from '@switchboard/db';
import { CLOCK, Clock } from './clock';
import { createMemberContract, issueSlaveKeyContract, lockedMembersContract, putSettingsContract, readSettingsContract, unlockMemberContract } from '@switchboard/contracts';
import { InternalTokenGuard, answer, receive } from '@switchboard/runtime';
import { GLOBAL_KEY_SETTING, KeyringService } from './keyring.service';
import { LoginService, MemberLockout } from './login.service';
import { parseMemberId } from '@switchboard/input-rules';
import { MembersService } from './members.service';
import { generateSalt, hashMatchesSaltFormat, protocolHash } from '@switchboard/credentials';
import { SecurityEventsService } from './security-events.service';
import { SlaveUrlGuard } from './slave-url-guard';
import { SlavesService } from './slaves.service';

/** A member as the admin API shows it, with the lockout that counts (readLockouts). */
export function memberView(
  m: { id: number; name: string; email: string; validating: boolean; revalidateUrl: string | null; banned: boolean; createdAt: Date },
  lockout: MemberLockout = { lockedUntil: null, failedLogins: 0 },
) {
  return {
    id: m.id,
    name: m.name,
    email: m.email,
    validating: m.validating || m.revalidateUrl !== null,
    revalidate_url: m.revalidateUrl,
    banned: m.banned,
    locked_until: lockout.lockedUntil?.toISOString() ?? null,
    failed_logins: lockout.failedLogins,
    created_at: m.createdAt.toISOString(),
  };
}

/**
 * The password material of an admin command: `password` hashed as the slaves do (`pass_salt`, or a
 * generated salt), or `pass_hash` + `pass_salt` as given; null when the command sets neither. 400
 * when the hash does not have the format its salt implies.
 */
export async function adminCredentials(cmd: { password?: string; pass_hash?: string; pass_salt?: string }): Promise<{ passHash: string; passSalt: string } | null> {
  if (cmd.password === undefined && cmd.pass_hash === undefined) return null;
  const passSalt = cmd.pass_salt ?? generateSalt();
  const passHash = cmd.pass_hash ?? (await protocolHash(cmd.password!, passSalt));
  if (!hashMatchesSaltFormat(passHash, passSalt)) {
    throw new BadRequestException(['pass_hash: must be $2a$13$ bcrypt for a 22-character salt, 32 lowercase hex otherwise']);
  }
  return { passHash, passSalt };
}

/** The auth service's internal endpoints behind the admin API (auth alone writes these tables). */
@ApiExcludeController()
@Controller('internal/admin')
@UseGuards(InternalTokenGuard)
export class IdentityAdminController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly members: MembersService,
    private readonly logins: LoginService,
    private readonly slaves: SlavesService,
    private readonly keyring: KeyringService,
    private readonly events: SecurityEventsService,
    private readonly slaveUrls: SlaveUrlGuard,
  ) {}

  @Post('members')
  @HttpCode(201)
  async createMember(@Body() body: unknown) {
    const cmd = receive(createMemberContract, body);
    const { passHash, passSalt } = (await adminCredentials(cmd))!;
    const result = await this.members.register(
      { id: cmd.id, name: cmd.name, email: cmd.email, passHash, passSalt, revalidateUrl: cmd.revalidate_url ?? null, validating: cmd.validating },
      { slaveId: null, source: 'admin' },
      this.clock.now(),
    );
    if (result.outcome === 'created') return answer(createMemberContract, { ...memberView(result.member), pass_salt: passSalt });
    const error = result.outcome === 'existing' ? 'email_in_use' : result.outcome;
    throw new ConflictException({ statusCode: 409, error, message: `${error.replace(/_/g, ' ')}` });
  }

  @Get('members/locked')
  async locked() {
    return answer(lockedMembersContract, (await this.logins.locked()).map(({ member, lockout }) => memberView(member, lockout)));
  }

  @Post('members/:id/unlock')
  @HttpCode(200)
  async unlock(@Param('id') raw: string) {
    const id = parseMemberId(raw);
    if (id === null || !(await this.logins.unlock(id))) throw new NotFoundException('no such member');
    return answer(unlockMemberContract, memberView((await this.members.findById(id))!));
  }

  @Post('slaves')
  @HttpCode(201)
  async issueSlaveKey(@Body() body: unknown) {
    const cmd = receive(issueSlaveKeyContract, body);
    // The outbound policy (docs/ips-connect.md): 400 naming the rule; 503 when DNS cannot answer now.
    const refusal = await this.slaveUrls.refusal(cmd.url, 'admin', null);
    if (refusal) {
      const answer = { error: 'slave_url_refused', rule: refusal.rule, message: [`url: refused by the outbound policy (rule: ${refusal.rule}): ${refusal.message}`] };
      throw refusal.temporary ? new ServiceUnavailableException({ statusCode: 503, ...answer }) : new BadRequestException({ statusCode: 400, ...answer });
    }
    const r = await this.slaves.issueMasterKey(cmd.url, this.clock.now(), { rotate: cmd.rotate });
    if ('exists' in r) {
      // Re-posting a URL used to replace a live slave's key silently: key rotation is an explicit action.
      throw new ConflictException({ statusCode: 409, error: 'slave_exists', slave_id: r.exists, message: `this URL is already registered (slave ${r.exists}): send rotate: true to replace its per-slave key` });
    }
    return answer(issueSlaveKeyContract, { id: r.id, url: r.url, master_key: r.masterKey, created: r.created });
  }

  @Put('settings')
  async settings(@Body() body: unknown) {
    const cmd = receive(putSettingsContract, body);
    await this.db.transaction(async (manager) => {
      await manager
        .createQueryBuilder()
        .insert()
        .into(SettingEntity)
        .values({ key: GLOBAL_KEY_SETTING, value: cmd.global_master_key, updatedAt: this.clock.now() })
        .orUpdate(['value', 'updated_at'], ['key'])
        .execute();
      await bumpKeyringVersion(manager);
    });
    await this.events.record('settings_changed', { data: { global_master_key: cmd.global_master_key } }, this.clock.now());
    return answer(putSettingsContract, { global_master_key: cmd.global_master_key });
  }

  @Get('settings')
  async readSettings() {
    return answer(readSettingsContract, { global_master_key: await this.keyring.globalKeyEnabled() });
  }
}
