export * from './lib/secret-box';
export * from './lib/compare';
export * from './lib/seal-purposes';
