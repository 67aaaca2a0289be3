import { DynamicModule, Global, Module } from '@nestjs/common';
import { SecretBox } from '@switchboard/crypto';
import { INTERNAL_TOKEN, InternalTokenGuard } from './internal-token.guard';
import { SlavesService } from './slaves.service';

/** Identity domain of the auth service: slaves (and, next, members, credentials, keys). */
@Module({
  providers: [SlavesService],
  exports: [SlavesService],
})
export class IdentityModule {}

/** Secrets the auth service's domain needs, provided once at the root of the auth app. */
@Global()
@Module({})
export class IdentitySecretsModule {
  static forRoot(options: { secretsKey: string; internalToken: string }): DynamicModule {
    return {
      module: IdentitySecretsModule,
      providers: [
        { provide: SecretBox, useValue: new SecretBox(options.secretsKey) },
        { provide: INTERNAL_TOKEN, useValue: options.internalToken },
        InternalTokenGuard,
      ],
      exports: [SecretBox, INTERNAL_TOKEN, InternalTokenGuard],
    };
  }
}
