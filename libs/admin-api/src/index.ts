export * from './lib/admin-token.guard';
export * from './lib/audit.recorder';
export * from './lib/admin.controllers';
export * from './lib/admin-api.module';
export * from './lib/admin-commands.controllers';
export * from './lib/admin-deliveries.controller';
export * from './lib/propagator-client';
export * from './lib/delivery-queries';
