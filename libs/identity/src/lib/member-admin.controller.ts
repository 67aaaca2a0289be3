import { BadRequestException, Body, ConflictException, Controller, Delete, HttpCode, Inject, NotFoundException, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  MemberView,
  banMemberContract,
  deleteMemberContract,
  logoutMemberContract,
  mergeMemberContract,
  unbanMemberContract,
  updateMemberContract,
  validateMemberContract,
} from '@switchboard/contracts';
import { parseMemberId } from '@switchboard/input-rules';
import { InternalTokenGuard, answer, receive } from '@switchboard/runtime';
import { CLOCK, Clock } from './clock';
import { adminCredentials, memberView } from './identity-admin.controller';
import { readLockouts } from './login.service';
import { MembersService, Origin } from './members.service';

/** Changes made from the admin API: recorded with source `admin`, propagated to every enabled slave. */
const ADMIN: Origin = { slaveId: null, source: 'admin' };

/**
 * The member lifecycle behind the admin API (auth alone writes `members`): edit, ban and unban,
 * validate, merge, delete and "log out everywhere". Each change is the same method, the same
 * outbox event and the same slave call as the IPS action a slave would send (spec §2), with no
 * originating slave, so every enabled slave receives it.
 */
@ApiExcludeController()
@Controller('internal/admin/members')
@UseGuards(InternalTokenGuard)
export class MemberAdminController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly members: MembersService,
  ) {}

  private id(raw: string): number {
    const id = parseMemberId(raw);
    if (id === null) throw new NotFoundException('no such member');
    return id;
  }

  private async view(id: number): Promise<MemberView> {
    const member = await this.members.findById(id);
    if (!member) throw new NotFoundException('no such member');
    return memberView(member, (await readLockouts(this.db, [id])).get(id));
  }

  /** 200 the member as it is now; 404; 409 `{error: email_in_use | name_in_use}` (nothing changed). */
  @Patch(':id')
  async update(@Param('id') raw: string, @Body() body: unknown) {
    const id = this.id(raw);
    const cmd = receive(updateMemberContract, body);
    const credentials = await adminCredentials(cmd);
    const outcome = await this.members.update(id, { name: cmd.name, email: cmd.email, ...credentials }, ADMIN, this.clock.now());
    if (outcome === 'not_found') throw new NotFoundException('no such member');
    if (typeof outcome === 'object') {
      const error = `${outcome.inUse}_in_use`;
      throw new ConflictException({ statusCode: 409, error, message: `${outcome.inUse} in use` });
    }
    return answer(updateMemberContract, await this.view(id));
  }

  @Post(':id/ban')
  @HttpCode(200)
  async ban(@Param('id') raw: string) {
    return answer(banMemberContract, await this.change(raw, (id, now) => this.members.ban(id, true, ADMIN, now)));
  }

  @Post(':id/unban')
  @HttpCode(200)
  async unban(@Param('id') raw: string) {
    return answer(unbanMemberContract, await this.change(raw, (id, now) => this.members.ban(id, false, ADMIN, now)));
  }

  @Post(':id/validate')
  @HttpCode(200)
  async validate(@Param('id') raw: string) {
    return answer(validateMemberContract, await this.change(raw, (id, now) => this.members.validate(id, ADMIN, now)));
  }

  /** Ends every master session of the member (the session epoch moves on); slaves keep theirs. */
  @Post(':id/logout')
  @HttpCode(200)
  async logout(@Param('id') raw: string) {
    return answer(logoutMemberContract, await this.change(raw, (id, now) => this.members.logoutEverywhere(id, ADMIN, now)));
  }

  /** IPS `merge`: `remove` is merged into this member and deleted; 404 when either is unknown; 400 the same id. */
  @Post(':id/merge')
  @HttpCode(200)
  async merge(@Param('id') raw: string, @Body() body: unknown) {
    const id = this.id(raw);
    const { remove } = receive(mergeMemberContract, body);
    if (remove === id) throw new BadRequestException(['remove: must be another member']);
    const outcome = await this.members.merge(id, remove, ADMIN, this.clock.now());
    if (outcome === 'not_found') throw new NotFoundException('no such member');
    return answer(mergeMemberContract, await this.view(id));
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') raw: string) {
    const outcome = await this.members.delete(this.id(raw), ADMIN, this.clock.now());
    if (outcome === 'not_found') throw new NotFoundException('no such member');
    answer(deleteMemberContract, undefined);
  }

  private async change(raw: string, run: (id: number, now: Date) => Promise<'changed' | 'not_found'>): Promise<MemberView> {
    const id = this.id(raw);
    if ((await run(id, this.clock.now())) === 'not_found') throw new NotFoundException('no such member');
    return this.view(id);
  }
}
