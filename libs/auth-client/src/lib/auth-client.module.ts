import { DynamicModule, Global, Injectable, Module } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { AUTH_CLIENT_OPTIONS, AuthClient, AuthClientOptions } from './auth-client';

@Global()
@Module({})
export class AuthClientModule {
  static forRoot(options: AuthClientOptions): DynamicModule {
    return {
      module: AuthClientModule,
      providers: [{ provide: AUTH_CLIENT_OPTIONS, useValue: options }, AuthClient],
      exports: [AuthClient, AUTH_CLIENT_OPTIONS],
    };
  }
}

/** Readiness of a service that cannot serve without the auth service. */
@Injectable()
export class AuthServiceCheck {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly client: AuthClient,
  ) {}

  async check() {
    const indicator = this.health.check('auth');
    return (await this.client.isReady()) ? indicator.up() : indicator.down({ message: 'auth service not ready' });
  }
}
