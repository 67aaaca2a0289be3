import { DynamicModule, Module, Type } from '@nestjs/common';
import { API_OPTIONS, ApiCallService, ApiOptions } from './api-call.service';
import { ApiInternalController } from './api-auth.controllers';
import { API_CALL_RUNNER, ApiCallRunner, ApiGatewayController } from './api-gateway.controller';
import { AppKeysService } from './app-keys.service';
import { CONSENT_RUNNER, ConsentController, ConsentRunner } from './consent.controller';
import { AuthorizeService } from './authorize.service';
import { ConsentSignIn } from './consent-signin';
import { GrantsService } from './grants.service';

/** Auth side: keys, frobs, grants, tokens, and the call pipeline (needs the global IdentityModule). */
@Module({})
export class AppApiAuthModule {
  static forRoot(options: ApiOptions): DynamicModule {
    return {
      module: AppApiAuthModule,
      controllers: [ApiInternalController],
      providers: [{ provide: API_OPTIONS, useValue: options }, AppKeysService, GrantsService, ApiCallService, AuthorizeService],
      exports: [AppKeysService, GrantsService, ApiCallService],
    };
  }
}

/**
 * Gateway side: the public `/api/<method>[/<format>]` routes and the consent pages. `runner` is the
 * AuthClient; `sessions` the master sessions (BrowserChainService of the IPS Connect module).
 */
@Module({})
export class AppApiGatewayModule {
  static forRoot(runner: Type<ApiCallRunner & ConsentRunner>, sessionsFrom: DynamicModule): DynamicModule {
    return {
      module: AppApiGatewayModule,
      imports: [sessionsFrom],
      controllers: [ApiGatewayController, ConsentController],
      providers: [
        { provide: API_CALL_RUNNER, useExisting: runner },
        { provide: CONSENT_RUNNER, useExisting: runner },
        ConsentSignIn,
      ],
      exports: [ConsentSignIn],
    };
  }
}
