export * from './lib/signature';
