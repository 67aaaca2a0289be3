import { Body, Controller, HttpCode, Param, Patch, Post, Res, UseGuards } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiBody, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AuthClient } from '@switchboard/auth-client';
import { disableSlaveAdminContract, enableSlaveContract, updateSlaveContract } from '@switchboard/contracts';
import { receive } from '@switchboard/runtime';
import { relay } from './admin-commands.controllers';
import { AdminTokenGuard } from './admin-token.guard';

/**
 * The slave lifecycle (issue 12), relayed to the auth service, which alone writes slaves: disable
 * (the one disable path: its pending deliveries are parked), enable, change URL.
 */
@ApiTags('slaves')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'missing or wrong admin token' })
@ApiNotFoundResponse({ description: 'no such slave' })
@UseGuards(AdminTokenGuard)
@Controller('admin/slaves')
export class AdminSlaveLifecycleController {
  constructor(private readonly auth: AuthClient) {}

  /** Disables a slave: no more deliveries or chains to it; its pending deliveries are parked until it is enabled again. */
  @Post(':id/disable')
  @HttpCode(200)
  @ApiBody({ required: false, schema: { type: 'object', properties: { reason: { type: 'string', maxLength: 200 } } } })
  @ApiOkResponse({ description: '{id, url, enabled, disabled_reason, verified}' })
  disable(@Param('id') id: string, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(disableSlaveAdminContract, { params: { id }, body: receive(disableSlaveAdminContract, body ?? {}) }));
  }

  /** Enables a disabled slave again; its parked deliveries go back in line, in order. */
  @Post(':id/enable')
  @HttpCode(200)
  @ApiOkResponse({ description: '{id, url, enabled, disabled_reason, verified}' })
  @ApiConflictResponse({ description: 'error not_verified: the slave never registered its key (verifySettings)' })
  enable(@Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(enableSlaveContract, { params: { id } }));
  }

  /** Points a slave at another URL, checked under the outbound policy like a registration. */
  @Patch(':id')
  @ApiBody({ schema: { type: 'object', required: ['url'], properties: { url: { type: 'string' } } } })
  @ApiOkResponse({ description: '{id, url, enabled, disabled_reason, verified}' })
  @ApiBadRequestResponse({ description: 'not an http(s) URL, or refused by the outbound policy (error slave_url_refused)' })
  @ApiConflictResponse({ description: 'error url_in_use: another slave has this URL' })
  update(@Param('id') id: string, @Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(updateSlaveContract, { params: { id }, body: receive(updateSlaveContract, body ?? {}) }));
  }
}
