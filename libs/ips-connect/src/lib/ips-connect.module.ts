import { DynamicModule, Module, Type } from '@nestjs/common';
import { BrowserChainService, CHAIN_OPTIONS, ChainOptions } from './browser-chain';
import { IpsActionsService } from './actions.service';
import { IpsActionsController } from './actions.controller';
import { IPS_ACTION_RUNNER, IpsActionRunner, IpsConnectGatewayController } from './gateway.controller';

/** Gateway side: the public endpoint; `runner` executes actions (AuthClient in production). */
@Module({})
export class IpsConnectGatewayModule {
  static forRoot(runner: Type<IpsActionRunner>, options: ChainOptions): DynamicModule {
    return {
      module: IpsConnectGatewayModule,
      controllers: [IpsConnectGatewayController],
      providers: [
        { provide: IPS_ACTION_RUNNER, useExisting: runner },
        { provide: CHAIN_OPTIONS, useValue: options },
        BrowserChainService,
      ],
      exports: [BrowserChainService],
    };
  }
}

/** Auth side: the action handlers and their internal endpoints (needs the global IdentityModule). */
@Module({
  controllers: [IpsActionsController],
  providers: [IpsActionsService],
})
export class IpsConnectActionsModule {}
