import { Controller, Delete, Param, Patch, Post, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { AuthClient } from '@switchboard/auth-client';
import {
  MemberView,
  banMemberContract,
  deleteMemberContract,
  logoutMemberContract,
  memberView,
  mergeMemberCommand,
  mergeMemberContract,
  unbanMemberContract,
  updateMemberCommand,
  updateMemberContract,
  validateMemberContract,
} from '@switchboard/contracts';
import { MEMBER_EXAMPLE, MEMBER_ID, relay } from './admin-commands.controllers';
import { AdminController, AdminRoute, Checked } from './admin-route';
import { AdminTokenGuard } from './admin-token.guard';

const member = (description: string, example: MemberView = MEMBER_EXAMPLE) => ({ schema: memberView, description, example });

/**
 * The member lifecycle (issue 12): each action is relayed to the auth service, which alone writes
 * members, and reaches every enabled slave exactly like the IPS action a slave would send
 * (changeName / changeEmail / changePassword, ban, validate, merge, delete).
 */
@AdminController('members')
@UseGuards(AdminTokenGuard)
@Controller('admin/members')
export class AdminMemberLifecycleController {
  constructor(private readonly auth: AuthClient) {}

  @Patch(':id')
  @AdminRoute({
    summary: 'Edit a member',
    description:
      'Any of `name`, `email`, `password` (hashed as the slaves do) or `pass_hash` + `pass_salt`. Clashes are checked before anything changes (409, code `email_in_use` or `name_in_use`, nothing changed); each changed field reaches every slave as changeEmail, changeName, changePassword, in one transaction.',
    params: MEMBER_ID,
    body: updateMemberCommand,
    example: { email: 'alice@new.example' },
    response: member('the member as it is now', { ...MEMBER_EXAMPLE, email: 'alice@new.example' }),
    errors: [404, 409],
  })
  update(@Param('id') id: string, @Checked('body') body: z.output<typeof updateMemberCommand>, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(updateMemberContract, { params: { id }, body }));
  }

  @Post(':id/ban')
  @AdminRoute({ summary: 'Ban a member everywhere', description: 'On the master and on every slave (IPS `ban`, status 1); the master sessions end.', params: MEMBER_ID, response: member('the member', { ...MEMBER_EXAMPLE, banned: true }), errors: [404] })
  ban(@Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(banMemberContract, { params: { id } }));
  }

  @Post(':id/unban')
  @AdminRoute({ summary: 'Lift a ban everywhere', description: 'IPS `ban`, status 0, to every slave.', params: MEMBER_ID, response: member('the member'), errors: [404] })
  unban(@Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(unbanMemberContract, { params: { id } }));
  }

  @Post(':id/validate')
  @AdminRoute({ summary: 'Mark a member validated everywhere', description: 'IPS `validate` to every slave.', params: MEMBER_ID, response: member('the member'), errors: [404] })
  validate(@Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(validateMemberContract, { params: { id } }));
  }

  @Post(':id/logout')
  @AdminRoute({
    summary: 'Log a member out everywhere',
    description:
      'Every master session of the member (SSO chains, the consent page) ends at its next use, on every gateway. Slaves keep their own sessions: IPS Connect has no call that ends them (ban the member or change the password to shut them out there too).',
    params: MEMBER_ID,
    response: member('the member'),
    errors: [404],
  })
  logout(@Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(logoutMemberContract, { params: { id } }));
  }

  @Post(':id/merge')
  @AdminRoute({
    summary: 'Merge a member into this one',
    description: 'IPS `merge`: member `remove` is merged into this one and deleted on every site. 404 when either is unknown; 400 for the same id.',
    params: MEMBER_ID,
    body: mergeMemberCommand,
    example: { remove: 43 },
    response: member('the member kept'),
    errors: [400, 404],
  })
  merge(@Param('id') id: string, @Checked('body') body: z.output<typeof mergeMemberCommand>, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(mergeMemberContract, { params: { id }, body }));
  }

  @Delete(':id')
  @AdminRoute({ summary: 'Delete a member everywhere', description: 'On the master and on every slave (IPS `delete`); the audit keeps its history.', params: MEMBER_ID, response: { status: 204, description: 'deleted' }, errors: [404] })
  remove(@Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(deleteMemberContract, { params: { id } }));
  }
}
