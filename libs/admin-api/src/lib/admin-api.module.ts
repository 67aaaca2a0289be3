import { DynamicModule, Module } from '@nestjs/common';
import { ADMIN_API_OPTIONS, AdminApiOptions, AdminTokenGuard } from './admin-token.guard';
import { AdminAuditController, AdminSlavesController } from './admin.controllers';
import { AuditRecorder } from './audit.recorder';

@Module({})
export class AdminApiModule {
  static forRoot(options: AdminApiOptions): DynamicModule {
    return {
      module: AdminApiModule,
      controllers: [AdminSlavesController, AdminAuditController],
      providers: [{ provide: ADMIN_API_OPTIONS, useValue: options }, AdminTokenGuard, AuditRecorder],
    };
  }
}
