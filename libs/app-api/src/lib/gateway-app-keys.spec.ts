import type { AppKeyMaterial, AppKeysSnapshot } from './api-call';
import { AppKeysUnavailableError, GatewayAppKeys } from './gateway-app-keys';

const key = (apiKey: string, enabled = true): AppKeyMaterial => ({
  apiKey,
  secret: 's',
  enabled,
  signatureMode: 'md5',
  acceptOrderA: true,
  alwaysSigned: false,
  allowedNetworks: [],
  dailyQuota: null,
});
const A = 'a'.repeat(32);
const B = 'b'.repeat(32);

/** A source whose answers the test releases one by one. */
function source(snapshots: (AppKeysSnapshot | Error)[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    appKeys: async () => {
      const next = snapshots[Math.min(calls++, snapshots.length - 1)];
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

describe('GatewayAppKeys: the application keys per keyring version', () => {
  it('fetches once per version; an unknown key at the held version costs no fetch', async () => {
    const src = source([{ version: 3, keys: [key(A)] }]);
    const keys = new GatewayAppKeys(src);
    expect(await keys.get(A, 3)).toEqual(key(A));
    for (let i = 0; i < 50; i++) expect(await keys.get(B, 3)).toBeNull();
    expect(await keys.get(A, 2)).toEqual(key(A)); // an older version read is served by the newer copy
    expect(src.calls).toBe(1);
  }, 10_000);

  it('a newer version fetches again before the key is checked (a disabled key is seen at once)', async () => {
    const src = source([
      { version: 1, keys: [key(A)] },
      { version: 2, keys: [key(A, false)] },
    ]);
    const keys = new GatewayAppKeys(src);
    expect((await keys.get(A, 1))!.enabled).toBe(true);
    expect((await keys.get(A, 2))!.enabled).toBe(false);
    expect(src.calls).toBe(2);
  }, 10_000);

  it('concurrent calls share one fetch', async () => {
    const src = source([{ version: 5, keys: [key(A)] }]);
    const keys = new GatewayAppKeys(src);
    await Promise.all(Array.from({ length: 20 }, () => keys.get(A, 5)));
    expect(src.calls).toBe(1);
  }, 10_000);

  it('fails closed: auth not answering, or answering an older version than the call read', async () => {
    const down = new GatewayAppKeys(source([new Error('auth service unreachable')]));
    await expect(down.get(A, 1)).rejects.toThrow('auth service unreachable');
    const behind = new GatewayAppKeys(source([{ version: 1, keys: [key(A)] }]));
    await expect(behind.get(A, 2)).rejects.toBeInstanceOf(AppKeysUnavailableError);
  }, 10_000);
});
