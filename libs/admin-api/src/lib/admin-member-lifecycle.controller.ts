import { Body, Controller, Delete, HttpCode, Param, Patch, Post, Res, UseGuards } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiBody, ApiConflictResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AuthClient } from '@switchboard/auth-client';
import {
  banMemberContract,
  deleteMemberContract,
  logoutMemberContract,
  mergeMemberContract,
  unbanMemberContract,
  updateMemberContract,
  validateMemberContract,
} from '@switchboard/contracts';
import { receive } from '@switchboard/runtime';
import { relay } from './admin-commands.controllers';
import { AdminTokenGuard } from './admin-token.guard';

/**
 * The member lifecycle (issue 12): each action is relayed to the auth service, which alone writes
 * members, and reaches every enabled slave exactly like the IPS action a slave would send
 * (changeName / changeEmail / changePassword, ban, validate, merge, delete).
 */
@ApiTags('members')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'missing or wrong admin token' })
@ApiNotFoundResponse({ description: 'no such member' })
@UseGuards(AdminTokenGuard)
@Controller('admin/members')
export class AdminMemberLifecycleController {
  constructor(private readonly auth: AuthClient) {}

  /**
   * Edits a member: any of `name`, `email`, `password` (hashed as the slaves do) or `pass_hash` +
   * `pass_salt`. Clashes are checked before anything changes (409, nothing changed); each changed
   * field reaches the slaves as changeEmail, changeName, changePassword.
   */
  @Patch(':id')
  @ApiBody({
    schema: {
      type: 'object',
      properties: { name: { type: 'string', maxLength: 255 }, email: { type: 'string', maxLength: 150 }, password: { type: 'string' }, pass_hash: { type: 'string' }, pass_salt: { type: 'string', maxLength: 22 } },
    },
  })
  @ApiOkResponse({ description: 'the member as it is now' })
  @ApiBadRequestResponse({ description: 'invalid body: one message per field' })
  @ApiConflictResponse({ description: 'error: email_in_use | name_in_use (nothing changed)' })
  update(@Param('id') id: string, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(updateMemberContract, { params: { id }, body: receive(updateMemberContract, body ?? {}) }));
  }

  /** Bans the member on the master and on every slave (IPS `ban`, status 1). */
  @Post(':id/ban')
  @HttpCode(200)
  ban(@Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(banMemberContract, { params: { id } }));
  }

  /** Lifts a ban everywhere (IPS `ban`, status 0). */
  @Post(':id/unban')
  @HttpCode(200)
  unban(@Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(unbanMemberContract, { params: { id } }));
  }

  /** Marks the member validated everywhere (IPS `validate`). */
  @Post(':id/validate')
  @HttpCode(200)
  validate(@Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(validateMemberContract, { params: { id } }));
  }

  /**
   * Logs the member out everywhere Switchboard can: every master session (SSO chains, consent page)
   * ends at its next use on every gateway. Slaves keep their own sessions (IPS Connect has no call
   * that ends them): ban the member or change the password to shut them out there too.
   */
  @Post(':id/logout')
  @HttpCode(200)
  logout(@Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(logoutMemberContract, { params: { id } }));
  }

  /** Merges member `remove` into this one (IPS `merge`): `remove` is deleted on every site. */
  @Post(':id/merge')
  @HttpCode(200)
  @ApiBody({ schema: { type: 'object', required: ['remove'], properties: { remove: { type: 'integer', minimum: 1 } } } })
  @ApiOkResponse({ description: 'the member kept' })
  merge(@Param('id') id: string, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(mergeMemberContract, { params: { id }, body: receive(mergeMemberContract, body ?? {}) }));
  }

  /** Deletes the member on the master and on every slave (IPS `delete`); the audit keeps its history. */
  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'deleted' })
  remove(@Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(deleteMemberContract, { params: { id } }));
  }
}
