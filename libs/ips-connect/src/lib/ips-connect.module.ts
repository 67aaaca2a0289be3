import { DynamicModule, Module, Type } from '@nestjs/common';
import { BrowserChainService, CHAIN_OPTIONS, ChainOptions } from './browser-chain';
import { IPS_ACTION_RUNNER, IpsActionRunner, IpsConnectGatewayController } from './gateway.controller';
import { GatewayKeyring, KEYRING_SOURCE, KeyringSource } from './gateway-keyring';
import { LOGIN_OPTIONS, LoginGate, LoginOptions } from './login-gate';
import { MemberReads } from './member-reads';
import { IpsReadActions } from './read-actions';
import { SlaveSeen } from './slave-seen';

/**
 * Gateway side: the public endpoint and the read actions. `runner` executes the other actions and
 * `keys` hands over key material (both the AuthClient in production). Needs TypeORM's DataSource
 * (read-only use of `members` and `settings`), the Redis client and a StreamEmitter (the app's
 * StreamEmitterModule, which names the stream).
 */
@Module({})
export class IpsConnectGatewayModule {
  static forRoot(runner: Type<IpsActionRunner & KeyringSource>, options: ChainOptions, login: LoginOptions): DynamicModule {
    return {
      module: IpsConnectGatewayModule,
      providers: [
        { provide: IPS_ACTION_RUNNER, useExisting: runner },
        { provide: KEYRING_SOURCE, useExisting: runner },
        { provide: CHAIN_OPTIONS, useValue: options },
        { provide: LOGIN_OPTIONS, useValue: login },
        LoginGate,
        BrowserChainService,
        IpsConnectGatewayController,
        GatewayKeyring,
        MemberReads,
        SlaveSeen,
        IpsReadActions,
      ],
      // The API's network.sites.getList lists the slaves of the same key material; the consent page
      // signs in through the same LoginGate.
      exports: [BrowserChainService, LoginGate, GatewayKeyring],
    };
  }
}
