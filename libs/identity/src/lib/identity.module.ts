import { DynamicModule, Global, Module } from '@nestjs/common';
import { SecretBox } from '@switchboard/crypto';
import { OutboundPolicy } from '@switchboard/outbound';
import { CLOCK, Clock, SYSTEM_CLOCK } from './clock';
import { IDENTITY_OPTIONS, IdentityOptions } from './identity-options';
import { IdentityAdminController } from './identity-admin.controller';
import { MemberAdminController } from './member-admin.controller';
import { SlaveAdminController } from './slave-admin.controller';
import { SlavesInternalController } from './slaves-internal.controller';
import { INTERNAL_TOKEN, InternalTokenGuard } from '@switchboard/runtime';
import { KeyringController } from './keyring.controller';
import { KeyringService } from './keyring.service';
import { LoginService } from './login.service';
import { MembersService } from './members.service';
import { PassDigester } from '@switchboard/credentials';
import { SecurityEventsService } from './security-events.service';
import { SlaveUrlGuard } from './slave-url-guard';
import { SlavesService } from './slaves.service';

export interface IdentityModuleOptions extends IdentityOptions {
  secretsKey: string;
  internalToken: string;
  clock?: Clock;
}

/**
 * The auth service's domain: members and credentials, login lockout, master keys, slaves.
 * Global, provided once at the root of the auth app.
 */
@Global()
@Module({})
export class IdentityModule {
  static forRoot(options: IdentityModuleOptions): DynamicModule {
    const { secretsKey, internalToken, clock, ...identity } = options;
    const services = [SlavesService, KeyringService, MembersService, LoginService, SecurityEventsService, SlaveUrlGuard];
    return {
      module: IdentityModule,
      controllers: [IdentityAdminController, MemberAdminController, SlaveAdminController, SlavesInternalController, KeyringController],
      providers: [
        { provide: SecretBox, useValue: new SecretBox(secretsKey) },
        { provide: PassDigester, useValue: new PassDigester(secretsKey) },
        { provide: INTERNAL_TOKEN, useValue: internalToken },
        { provide: CLOCK, useValue: clock ?? SYSTEM_CLOCK },
        { provide: IDENTITY_OPTIONS, useValue: identity },
        // Slave URLs registered by verifySettings and the admin API (docs/ips-connect.md).
        { provide: OutboundPolicy, useValue: new OutboundPolicy({ allowPrivate: identity.slaveUrlAllowPrivate ?? false }) },
        InternalTokenGuard,
        ...services,
      ],
      exports: [SecretBox, PassDigester, INTERNAL_TOKEN, CLOCK, IDENTITY_OPTIONS, OutboundPolicy, InternalTokenGuard, ...services],
    };
  }
}
