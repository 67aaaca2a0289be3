import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { InternalTokenGuard } from '@switchboard/identity';
import { IpsActionsService } from './actions.service';
import { IpsActionRequest, IpsAnswer, isIpsAction } from './protocol';
import { BadRequestException } from '@nestjs/common';

/** Internal endpoint of the auth service that runs IPS Connect actions for the gateway. */
@ApiExcludeController()
@Controller('internal/ipsconnect')
@UseGuards(InternalTokenGuard)
export class IpsActionsController {
  constructor(private readonly actions: IpsActionsService) {}

  @Post()
  @HttpCode(200)
  run(@Body() body: IpsActionRequest): Promise<IpsAnswer> {
    if (!body || !isIpsAction(body.action) || typeof body.params !== 'object' || body.params === null) {
      throw new BadRequestException('expected {action, params}');
    }
    for (const value of Object.values(body.params)) {
      if (value !== null && typeof value !== 'string') throw new BadRequestException('params must be strings or null');
    }
    return this.actions.run(body);
  }
}
