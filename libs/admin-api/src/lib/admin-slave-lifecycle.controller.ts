import { Controller, Delete, Param, Patch, Post, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { AuthClient } from '@switchboard/auth-client';
import { SlaveState, deleteSlaveContract, disableSlaveAdminContract, disableSlaveCommand, enableSlaveContract, slaveState, updateSlaveCommand, updateSlaveContract } from '@switchboard/contracts';
import { relay } from './admin-commands.controllers';
import { AdminController, AdminRoute, Checked } from './admin-route';
import { AdminTokenGuard } from './admin-token.guard';

const ID = { id: 'slave id' };
const SLAVE: SlaveState = { id: 1, url: 'https://forum.example/applications/core/interface/ipsconnect/ipsconnect.php', enabled: true, disabled_reason: null, verified: true };

/**
 * The slave lifecycle (issue 12), relayed to the auth service, which alone writes slaves: disable
 * (the one disable path: its pending deliveries are parked), enable, change URL.
 */
@AdminController('slaves')
@UseGuards(AdminTokenGuard)
@Controller('admin/slaves')
export class AdminSlaveLifecycleController {
  constructor(private readonly auth: AuthClient) {}

  @Post(':id/disable')
  @AdminRoute({
    summary: 'Disable a slave',
    description: 'No more deliveries or chains to it; its pending deliveries are parked until it is enabled again (changes made meanwhile are not for it). Disabling a disabled slave changes nothing.',
    params: ID,
    body: disableSlaveCommand,
    example: { reason: 'maintenance' },
    response: { schema: slaveState, description: 'the slave', example: { ...SLAVE, enabled: false, disabled_reason: 'admin: maintenance' } },
    errors: [404],
  })
  disable(@Param('id') id: string, @Checked('body') body: z.output<typeof disableSlaveCommand>, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(disableSlaveAdminContract, { params: { id }, body }));
  }

  @Post(':id/enable')
  @AdminRoute({
    summary: 'Enable a slave again',
    description: 'Its parked deliveries go back in line, each member\'s changes in order. 409 (code `not_verified`) when it never registered its key (verifySettings).',
    params: ID,
    response: { schema: slaveState, description: 'the slave', example: SLAVE },
    errors: [404, 409],
  })
  enable(@Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(enableSlaveContract, { params: { id } }));
  }

  @Delete(':id')
  @AdminRoute({
    summary: 'Delete a slave',
    description: 'For a typo or a site gone for good: its row and keys go at once (its calls are refused on the next request), its pending and dead deliveries end `discarded` (never sent), and the audit keeps its history (`slave_deleted` with its URL). To stop it only for a while, disable it.',
    params: ID,
    response: { status: 204, description: 'deleted' },
    errors: [404],
  })
  remove(@Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(deleteSlaveContract, { params: { id } }));
  }

  @Patch(':id')
  @AdminRoute({
    summary: "Change a slave's URL",
    description: 'Fixes a URL in place (its keys, state and deliveries stay; the next deliveries go to the new URL), checked under the outbound policy like a registration (400 code `slave_url_refused`; 503 when its name cannot be resolved now). 409 (code `url_in_use`) when another slave has it.',
    params: ID,
    body: updateSlaveCommand,
    example: { url: SLAVE.url },
    response: { schema: slaveState, description: 'the slave', example: SLAVE },
    errors: [400, 404, 409],
  })
  update(@Param('id') id: string, @Checked('body') body: z.output<typeof updateSlaveCommand>, @Res({ passthrough: true }) reply: FastifyReply) {
    return relay(reply, this.auth.admin(updateSlaveContract, { params: { id }, body }));
  }
}
