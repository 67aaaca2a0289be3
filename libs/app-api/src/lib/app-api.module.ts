import { DynamicModule, Module, Type } from '@nestjs/common';
import { CLOCK, Clock, SYSTEM_CLOCK } from '@switchboard/identity';
import { ApiInternalController } from './api-auth.controllers';
import { ApiExecuteService } from './api-execute.service';
import { ApiGatewayController } from './api-gateway.controller';
import { API_EXECUTOR, API_OPTIONS, ApiExecutor, ApiGatewayService, ApiOptions } from './api-gateway.service';
import { ApiReads, TokenUse } from './api-reads';
import { AppKeysService } from './app-keys.service';
import { CONSENT_RUNNER, ConsentController, ConsentRunner } from './consent.controller';
import { AuthorizeService } from './authorize.service';
import { ConsentSignIn } from './consent-signin';
import { APP_KEY_SOURCE, AppKeySource, GatewayAppKeys } from './gateway-app-keys';
import { GrantsService } from './grants.service';

/**
 * Auth side: keys, frobs, grants, tokens; executes the methods that change them (checked by the
 * gateway) and hands the application keys to the gateway (needs the global IdentityModule).
 */
@Module({})
export class AppApiAuthModule {
  static forRoot(): DynamicModule {
    return {
      module: AppApiAuthModule,
      controllers: [ApiInternalController],
      providers: [AppKeysService, GrantsService, ApiExecuteService, AuthorizeService],
      exports: [AppKeysService, GrantsService, ApiExecuteService],
    };
  }
}

/**
 * Gateway side: the public `/api/<method>[/<format>]` routes (the whole call pipeline, reads
 * answered here) and the consent pages. `runner` is the AuthClient (app keys, execution of changes,
 * consent); `sessionsFrom` the IPS Connect module (master sessions, and the IPS keyring whose slaves
 * network.sites.getList lists). Needs TypeORM's DataSource (read-only) and the Redis client.
 */
@Module({})
export class AppApiGatewayModule {
  static forRoot(runner: Type<ApiExecutor & AppKeySource & ConsentRunner>, sessionsFrom: DynamicModule, options: ApiOptions & { clock?: Clock }): DynamicModule {
    const { clock, ...apiOptions } = options;
    return {
      module: AppApiGatewayModule,
      imports: [sessionsFrom],
      controllers: [ConsentController],
      providers: [
        { provide: API_EXECUTOR, useExisting: runner },
        { provide: APP_KEY_SOURCE, useExisting: runner },
        { provide: CONSENT_RUNNER, useExisting: runner },
        ConsentSignIn,
        { provide: API_OPTIONS, useValue: apiOptions },
        { provide: CLOCK, useValue: clock ?? SYSTEM_CLOCK },
        GatewayAppKeys,
        ApiReads,
        TokenUse,
        ApiGatewayService,
        ApiGatewayController,
      ],
      exports: [ConsentSignIn],
    };
  }
}
