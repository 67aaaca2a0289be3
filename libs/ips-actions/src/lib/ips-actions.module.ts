import { Module } from '@nestjs/common';
import { IpsActionsController } from './actions.controller';
import { IpsActionsService } from './actions.service';

/** Auth side: the action handlers and their internal endpoints (needs the global IdentityModule). */
@Module({
  controllers: [IpsActionsController],
  providers: [IpsActionsService],
})
export class IpsConnectActionsModule {}
