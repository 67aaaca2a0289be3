import { DynamicModule, Module } from '@nestjs/common';
import { ADMIN_API_OPTIONS, AdminApiOptions, AdminTokenGuard } from './admin-token.guard';
import { AdminAuditController, AdminSlavesController } from './admin.controllers';
import { AuditRecorder } from './audit.recorder';
import { DeliveryQueries } from './delivery-queries';
import { PropagatorClient } from './propagator-client';
import { AdminDeliveriesController } from './admin-deliveries.controller';
import { AdminAppsController, AdminMembersController, AdminSettingsController } from './admin-commands.controllers';
import { AdminMemberLifecycleController } from './admin-member-lifecycle.controller';
import { AdminSlaveLifecycleController } from './admin-slave-lifecycle.controller';

@Module({})
export class AdminApiModule {
  static forRoot(options: AdminApiOptions): DynamicModule {
    return {
      module: AdminApiModule,
      controllers: [AdminSlavesController, AdminSlaveLifecycleController, AdminAuditController, AdminMembersController, AdminMemberLifecycleController, AdminSettingsController, AdminDeliveriesController, AdminAppsController],
      providers: [{ provide: ADMIN_API_OPTIONS, useValue: options }, AdminTokenGuard, AuditRecorder, DeliveryQueries, PropagatorClient],
    };
  }
}
