import dns from 'node:dns';
import net from 'node:net';
import { buildConnector } from 'undici';
import { forbiddenRange, isLoopbackName } from './address';

/**
 * Which rule refused an outbound URL: `scheme` (http and https only), `credentials` (no
 * `user:password@`), `address` (a loopback, private, link-local… address or a name resolving to
 * one), `resolution` (the name could not be resolved, so its addresses could not be checked),
 * `malformed` (not a URL).
 */
export type RefusalRule = 'scheme' | 'credentials' | 'address' | 'resolution' | 'malformed';

/** An outbound URL or connection refused by the policy; the message names the rule and the reason. */
export class OutboundRefusal extends Error {
  override readonly name = 'OutboundRefusal';
  constructor(
    readonly rule: RefusalRule,
    message: string,
    /** true when the check could not be made now (a DNS timeout): trying later may succeed. */
    readonly temporary = false,
  ) {
    super(message);
  }
}

export interface ResolvedAddress {
  address: string;
  family: number;
}
/** Every address of a host name, as `dns.lookup(name, { all: true })` gives them. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface OutboundPolicyOptions {
  /** `SLAVE_URL_ALLOW_PRIVATE`: lifts the address rule (never the scheme or credentials rules). */
  allowPrivate: boolean;
  /** Name resolution (tests give their own); default `dns.lookup` with `all: true`. */
  resolve?: Resolver;
  /** A resolution taking longer than this fails (temporarily); default 5 s. */
  resolveTimeoutMs?: number;
  /** The address classification (tests only: to let one loopback address stand for a public one); default `forbiddenRange`. */
  classify?: (address: string) => string | null;
}

const systemResolve: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

const PUBLIC_ONLY = 'slave URLs must point at public addresses (SLAVE_URL_ALLOW_PRIVATE=false)';

/** The host of a parsed URL as a socket wants it: `[::1]` → `::1`. */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * `url` without its `user:password@` part, for anything shown or recorded (logs, audit, listings,
 * browser redirects). Unchanged when it carries none; a text that is not a URL loses whatever stands
 * between `://` and an `@` before the path.
 */
export function withoutCredentials(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/^(\s*[a-z][a-z0-9+.-]*:[/\\]*)[^/\\?#]*@/i, '$1');
  }
  if (!parsed.username && !parsed.password) return url;
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}

/**
 * The one outbound-address policy of Switchboard (docs/ips-connect.md, "Outbound requests to
 * slaves"): used by auth when a slave URL is registered (verifySettings, admin) and by the
 * propagator for every connection it opens, redirects included.
 *
 * - scheme: http and https only;
 * - credentials: a URL carrying `user:password@` is refused;
 * - address (unless `allowPrivate`): the host must be a public unicast address (see
 *   `forbiddenRange`); a name is resolved (`dns.lookup`, all addresses) and refused when ANY of its
 *   addresses is forbidden; `localhost` and `*.localhost` are refused without asking DNS.
 *
 * At connect time the name is resolved once, by `lookup` (net.connect's hook), and the socket
 * connects to exactly the addresses that resolution returned and this policy checked: there is no
 * second resolution between the check and the connection for a rebinding DNS server to answer.
 */
export class OutboundPolicy {
  readonly allowPrivate: boolean;
  private readonly resolver: Resolver;
  private readonly resolveTimeoutMs: number;
  private readonly classify: (address: string) => string | null;

  constructor(options: OutboundPolicyOptions) {
    this.allowPrivate = options.allowPrivate;
    this.resolver = options.resolve ?? systemResolve;
    this.resolveTimeoutMs = options.resolveTimeoutMs ?? 5000;
    this.classify = options.classify ?? forbiddenRange;
  }

  /** The rules that need no DNS: scheme, credentials, and the address rule for a literal address or a loopback name. */
  checkParsed(url: URL): OutboundRefusal | null {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return new OutboundRefusal('scheme', `only http and https URLs are allowed, not ${url.protocol.slice(0, 20)}`);
    }
    if (url.username || url.password) {
      return new OutboundRefusal('credentials', 'a slave URL must not carry credentials (user:password@)');
    }
    return this.checkHost(hostOf(url));
  }

  /** The address rule for a host that needs no DNS (a literal address or a loopback name); null otherwise. */
  checkHost(host: string): OutboundRefusal | null {
    if (this.allowPrivate) return null;
    if (net.isIP(host)) {
      const range = this.classify(host);
      return range ? new OutboundRefusal('address', `${host} is not a public address (${range}); ${PUBLIC_ONLY}`) : null;
    }
    if (isLoopbackName(host)) return new OutboundRefusal('address', `${host} is not a public address (loopback name); ${PUBLIC_ONLY}`);
    return null;
  }

  /** Every rule, resolving a host name: what registration (verifySettings, admin) checks. Never throws. */
  async checkUrl(url: string): Promise<OutboundRefusal | null> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return new OutboundRefusal('malformed', 'not a URL');
    }
    const refusal = this.checkParsed(parsed);
    if (refusal || this.allowPrivate) return refusal;
    const host = hostOf(parsed);
    if (net.isIP(host)) return null;
    try {
      await this.resolveChecked(host);
      return null;
    } catch (err) {
      if (err instanceof OutboundRefusal) return err;
      return new OutboundRefusal('resolution', `${host} could not be resolved`, true);
    }
  }

  /**
   * Resolves `hostname` once and returns its addresses, all checked; throws an OutboundRefusal when
   * it does not resolve, cannot be resolved in time, or ANY address is forbidden.
   */
  async resolveChecked(hostname: string): Promise<ResolvedAddress[]> {
    const early = this.checkHost(hostname);
    if (early) throw early;
    let timer: NodeJS.Timeout | undefined;
    let addresses: ResolvedAddress[];
    try {
      addresses = await Promise.race([
        this.resolver(hostname),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new OutboundRefusal('resolution', `${hostname} was not resolved within ${this.resolveTimeoutMs} ms`, true)), this.resolveTimeoutMs);
        }),
      ]);
    } catch (err) {
      if (err instanceof OutboundRefusal) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      const permanent = code === 'ENOTFOUND' || code === 'ENODATA';
      throw new OutboundRefusal('resolution', `${hostname} ${permanent ? 'does not resolve' : 'could not be resolved'} (${code})`, !permanent);
    } finally {
      clearTimeout(timer);
    }
    if (!addresses.length) throw new OutboundRefusal('resolution', `${hostname} does not resolve (no address)`);
    if (!this.allowPrivate) {
      for (const { address } of addresses) {
        const range = this.classify(address);
        if (range) throw new OutboundRefusal('address', `${hostname} resolves to ${address}, not a public address (${range}); ${PUBLIC_ONLY}`);
      }
    }
    return addresses;
  }

  /**
   * `net.connect`'s `lookup` hook: one resolution, every address checked, and exactly those
   * addresses handed to the socket (filtered by the family it asks for).
   */
  readonly lookup: net.LookupFunction = (hostname, options, callback) => {
    this.resolveChecked(hostname).then(
      (all) => {
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
        const usable = family === 4 || family === 6 ? all.filter((a) => a.family === family) : all;
        if (!usable.length) {
          callback(Object.assign(new Error(`${hostname} has no IPv${family} address`), { code: 'ENOTFOUND' }), '', 0);
        } else if (options.all) {
          callback(null, usable);
        } else {
          callback(null, usable[0].address, usable[0].family);
        }
      },
      (err: Error) => callback(err as NodeJS.ErrnoException, '', 0),
    );
  };

  /**
   * An undici connector under this policy: a literal address (which net.connect would not look
   * up) is checked here, a name goes through `lookup`. Every socket the dispatcher opens passes it.
   */
  connector(options: buildConnector.BuildOptions = {}): buildConnector.connector {
    const connect = buildConnector({ ...options, lookup: this.lookup } as buildConnector.BuildOptions);
    return (opts, callback) => {
      const refusal = this.checkHost(opts.hostname);
      if (refusal) {
        queueMicrotask(() => callback(refusal, null));
        return;
      }
      return connect(opts, callback);
    };
  }
}
