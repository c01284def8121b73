/**
 * Which proxy a request goes through, from `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (each also lowercase, which
 * wins, as in curl and undici). The semantics are curl's (https://curl.se/docs/manpage.html#--noproxy): an
 * `https:` URL uses `HTTPS_PROXY` only and an `http:` URL `HTTP_PROXY` only; `NO_PROXY` is a comma list where
 * `example.com`, `.example.com` and `*.example.com` all match the domain and its subdomains, `host:port` matches
 * that port only, an IP address matches itself and an IPv4 CIDR block (`10.0.0.0/8`) its addresses, and `*`
 * turns proxies off. There is no implicit loopback bypass: list `localhost,127.0.0.1` in `NO_PROXY` for that, as
 * with curl. Pure, so the edge could share it; only the Node transport uses it.
 */

/** The environment variables this reads; any plain map of names to strings. */
export type ProxyEnv = Readonly<Record<string, string | undefined>>;

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443 };

/** Every variable `proxyFor` reads. */
const PROXY_VARIABLES = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY', 'no_proxy', 'NO_PROXY'];

/**
 * A copy of the proxy variables of `env`, for a transport to decide on once: `process.env` is a getter over the
 * C environment, slow to read on every request, and a proxy decision that could change between one push and the
 * next would be harder to reason about than one fixed when the reporter starts.
 */
export function snapshotProxyEnv(env: ProxyEnv): ProxyEnv {
  const copy: Record<string, string> = {};
  for (const name of PROXY_VARIABLES) {
    const value = env[name];
    if (value !== undefined) copy[name] = value;
  }
  return copy;
}

/** The name of the variable that chooses the proxy for `url` (for messages): `HTTPS_PROXY` or `HTTP_PROXY`. */
export function proxyVariable(url: URL): 'HTTPS_PROXY' | 'HTTP_PROXY' {
  return url.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY';
}

/**
 * Returns the proxy URL for `url`, or undefined to connect directly. A proxy given without a scheme
 * (`proxy:3128`) is taken as `http://`, as curl does.
 */
export function proxyFor(url: URL, env: ProxyEnv): string | undefined {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const name = proxyVariable(url);
  const proxy = read(env, name);
  if (proxy === undefined) return undefined;
  if (bypassed(url, read(env, 'NO_PROXY') ?? '')) return undefined;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
}

/** The lowercase form wins over the uppercase one; an empty value counts as unset. */
function read(env: ProxyEnv, name: string): string | undefined {
  for (const key of [name.toLowerCase(), name]) {
    const value = env[key]?.trim();
    if (value) return value;
  }
  return undefined;
}

function bypassed(url: URL, noProxy: string): boolean {
  const host = normalizeHost(url.hostname);
  const port = url.port === '' ? DEFAULT_PORTS[url.protocol] : Number(url.port);
  for (const raw of noProxy.split(/[,\s]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const { name, entryPort } = splitPort(entry);
    if (entryPort !== undefined && entryPort !== port) continue;
    if (matchesHost(host, name)) return true;
  }
  return false;
}

/** Splits `host:port`, `[v6]:port`; a bare IPv6 address (several colons) has no port. */
function splitPort(entry: string): { name: string; entryPort: number | undefined } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { name: bracketed[1] ?? '', entryPort: toPort(bracketed[2]) };
  const withPort = /^([^:]+):(\d+)$/.exec(entry);
  if (withPort) return { name: withPort[1] ?? '', entryPort: toPort(withPort[2]) };
  return { name: entry, entryPort: undefined };
}

function toPort(text: string | undefined): number | undefined {
  return text === undefined ? undefined : Number(text);
}

function matchesHost(host: string, pattern: string): boolean {
  const cidr = /^([\d.]+)\/(\d{1,2})$/.exec(pattern);
  if (cidr) return inIpv4Block(host, cidr[1] ?? '', Number(cidr[2]));
  const domain = canonical(normalizeHost(pattern.replace(/^\*?\./, '')));
  if (domain === '') return false;
  return host === domain || (!isIpAddress(host) && host.endsWith(`.${domain}`));
}

/** The WHATWG URL parser's form of a host, so `127.1` is `127.0.0.1` and `0:0::1` is `::1`, as in a URL. */
function canonical(host: string): string {
  const literal = host.includes(':') ? `[${host}]` : host;
  return URL.canParse(`http://${literal}/`) ? normalizeHost(new URL(`http://${literal}/`).hostname) : host;
}

function isIpAddress(host: string): boolean {
  return host.includes(':') || IPV4.test(host);
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function inIpv4Block(host: string, network: string, prefix: number): boolean {
  const address = ipv4(host);
  const base = ipv4(canonical(network));
  if (address === undefined || base === undefined || prefix > 32) return false;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return (address & mask) >>> 0 === (base & mask) >>> 0;
}

function ipv4(host: string): number | undefined {
  const parts = IPV4.exec(host);
  if (!parts) return undefined;
  return parts.slice(1).reduce((sum, part) => sum * 256 + Number(part), 0);
}

/** Lowercase, without IPv6 brackets or a trailing dot (`example.com.` is `example.com`). */
function normalizeHost(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}
