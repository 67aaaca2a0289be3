export * from './lib/redact';
export * from './lib/logging';
export * from './lib/metrics';
export * from './lib/health';
export * from './lib/bootstrap';
export * from './lib/timeout';
