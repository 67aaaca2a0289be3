import { DynamicModule, Module, Provider, Type } from '@nestjs/common';
import { IdentityModule } from '@switchboard/identity';
import { IPS_ACTIONS_OPTIONS, IpsActionsOptions, IpsActionsService } from './actions.service';
import { IpsActionsController } from './actions.controller';
import { IPS_ACTION_RUNNER, IpsActionRunner, IpsConnectGatewayController } from './gateway.controller';

/** Gateway side: the public endpoint; `runner` executes actions (AuthClient in production). */
@Module({})
export class IpsConnectGatewayModule {
  static forRoot(runner: Type<IpsActionRunner>, providers: Provider[] = []): DynamicModule {
    return {
      module: IpsConnectGatewayModule,
      controllers: [IpsConnectGatewayController],
      providers: [...providers, runner, { provide: IPS_ACTION_RUNNER, useExisting: runner }],
    };
  }
}

/** Auth side: the action handlers and their internal endpoint. */
@Module({})
export class IpsConnectActionsModule {
  static forRoot(options: IpsActionsOptions): DynamicModule {
    return {
      module: IpsConnectActionsModule,
      imports: [IdentityModule],
      controllers: [IpsActionsController],
      providers: [{ provide: IPS_ACTIONS_OPTIONS, useValue: options }, IpsActionsService],
    };
  }
}
