export * from './lib/internal-token.guard';
export * from './lib/slaves.service';
export * from './lib/identity.module';
