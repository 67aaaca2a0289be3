import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { InternalTokenGuard } from '@switchboard/identity';
import { ChainPlan, IpsAnswer, chainPlanContract, ipsActionContract } from '@switchboard/contracts';
import { answer, receive } from '@switchboard/runtime';
import { IpsActionsService } from './actions.service';

/** Internal endpoints of the auth service that run IPS Connect actions for the gateway. */
@ApiExcludeController()
@Controller('internal/ipsconnect')
@UseGuards(InternalTokenGuard)
export class IpsActionsController {
  constructor(private readonly actions: IpsActionsService) {}

  @Post()
  @HttpCode(200)
  async run(@Body() body: unknown): Promise<IpsAnswer> {
    return answer(ipsActionContract, await this.actions.run(receive(ipsActionContract, body)));
  }

  @Post('chain')
  @HttpCode(200)
  async chain(@Body() body: unknown): Promise<ChainPlan> {
    return answer(chainPlanContract, await this.actions.planChain(receive(chainPlanContract, body)));
  }
}
