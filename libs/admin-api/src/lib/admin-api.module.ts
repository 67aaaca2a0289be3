import { DynamicModule, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { ERROR_FORMAT, RequestContextInterceptor } from '@switchboard/runtime';
import { AdminActionAudit } from './admin-actions';
import { ADMIN_API_OPTIONS, AdminApiOptions, AdminAuthLimiter, AdminAuthenticator, AdminTokenGuard, AdminTokens, AuditWriter } from './admin-token.guard';
import { AdminAuditController, AdminSlavesController } from './admin.controllers';
import { AuditRecorder } from './audit.recorder';
import { DeliveryQueries } from './delivery-queries';
import { PropagatorClient } from './propagator-client';
import { AdminDeliveriesController } from './admin-deliveries.controller';
import { AdminAppsController, AdminMembersController, AdminSettingsController } from './admin-commands.controllers';
import { AdminMemberLifecycleController } from './admin-member-lifecycle.controller';
import { AdminSlaveLifecycleController } from './admin-slave-lifecycle.controller';
import { AdminTokensController } from './admin-tokens.controller';
import { problemFormat } from './problem';
import { ConsoleSessions } from './console-session';
import { AuditListing, SlaveListing } from './listings';
import { ConsoleController } from './console/console.controller';
import { ConsoleData } from './console/console-data';

/** Every admin controller (the OpenAPI document lists their routes). */
export const ADMIN_CONTROLLERS = [AdminSlavesController, AdminAuditController, AdminMembersController, AdminSettingsController, AdminDeliveriesController, AdminAppsController, AdminTokensController, AdminMemberLifecycleController, AdminSlaveLifecycleController];

@Module({})
export class AdminApiModule {
  static forRoot(options: AdminApiOptions): DynamicModule {
    return {
      module: AdminApiModule,
      // The web console's pages (not API routes: outside the OpenAPI document).
      controllers: [...ADMIN_CONTROLLERS, ConsoleController],
      providers: [
        { provide: ADMIN_API_OPTIONS, useValue: options },
        // Every admin error answer is RFC 9457 problem details (the other services keep their shapes).
        { provide: ERROR_FORMAT, useValue: problemFormat },
        // Every call to auth or the propagator carries the admin request's id (x-request-id).
        { provide: APP_INTERCEPTOR, useClass: RequestContextInterceptor },
        AdminTokenGuard,
        AdminAuthenticator,
        AdminAuthLimiter,
        AdminTokens,
        AuditWriter,
        AdminActionAudit,
        AuditRecorder,
        DeliveryQueries,
        PropagatorClient,
        SlaveListing,
        AuditListing,
        ConsoleSessions,
        ConsoleData,
      ],
      exports: [AdminAuthenticator],
    };
  }
}
