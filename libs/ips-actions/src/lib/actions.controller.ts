import { BadRequestException, Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { InternalTokenGuard } from '@switchboard/identity';
import { ChainPlan, ChainRequest, IpsActionRequest, IpsAnswer, isBrowserAction, isIpsAction } from '@switchboard/ips-protocol';
import { IpsActionsService } from './actions.service';

function checkParams(params: unknown): void {
  if (typeof params !== 'object' || params === null) throw new BadRequestException('params must be an object');
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && typeof value !== 'string') throw new BadRequestException('params must be strings or null');
    // The gateway's parser strips NUL (PHP-style); PostgreSQL text cannot hold it.
    if (name.includes('\u0000') || value?.includes('\u0000')) throw new BadRequestException('params must not contain NUL');
  }
}

/** Internal endpoints of the auth service that run IPS Connect actions for the gateway. */
@ApiExcludeController()
@Controller('internal/ipsconnect')
@UseGuards(InternalTokenGuard)
export class IpsActionsController {
  constructor(private readonly actions: IpsActionsService) {}

  @Post()
  @HttpCode(200)
  run(@Body() body: IpsActionRequest): Promise<IpsAnswer> {
    if (!body || !isIpsAction(body.action)) throw new BadRequestException('expected {action, params}');
    checkParams(body.params);
    return this.actions.run(body);
  }

  @Post('chain')
  @HttpCode(200)
  chain(@Body() body: ChainRequest): Promise<ChainPlan> {
    if (!body || !isBrowserAction(body.action)) throw new BadRequestException('expected {action, params}');
    checkParams(body.params);
    return this.actions.planChain(body);
  }
}
