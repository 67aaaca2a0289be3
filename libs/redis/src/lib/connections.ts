import IORedis, { RedisOptions } from 'ioredis';

/**
 * Redis connection settings per the BullMQ production guide:
 * - blocking consumers (BullMQ workers, stream readers) wait forever for Redis to come back:
 *   `maxRetriesPerRequest: null`, offline queue on;
 * - producers and request-path clients fail fast, so an HTTP request never hangs on a dead Redis.
 */
export function consumerConnectionOptions(): RedisOptions {
  return {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(200 * times, 5000),
  };
}

export function producerConnectionOptions(): RedisOptions {
  return {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 3000,
    commandTimeout: 3000,
    retryStrategy: (times) => Math.min(200 * times, 5000),
  };
}

export function createRedis(url: string, kind: 'consumer' | 'producer', connectionName: string): IORedis {
  const options = kind === 'consumer' ? consumerConnectionOptions() : producerConnectionOptions();
  const client = new IORedis(url, { ...options, connectionName, lazyConnect: false });
  // Connection errors are reported by health checks and retried by ioredis; without a listener
  // ioredis prints them as unhandled.
  client.on('error', () => undefined);
  return client;
}

/** Waits until a client created with `enableOfflineQueue: false` is ready, or throws after `ms`. */
export async function waitReady(client: IORedis, ms = 5000): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not ready after ${ms} ms`));
    }, ms);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      client.off('ready', onReady);
    };
    client.on('ready', onReady);
  });
}
