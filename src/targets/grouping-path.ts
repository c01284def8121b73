/**
 * The Pushgateway grouping key as URL path segments
 * (https://github.com/prometheus/pushgateway#url): `/job/<job>/<label>/<value>...`, and the `@base64` form
 * (URL-safe alphabet) for a value that is empty or that a path or a proxy could mangle.
 */

/** Characters that survive every proxy and path normalisation unchanged. */
const SAFE = /^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$/;

/** Encodes one `name/value` pair of the grouping key. */
export function groupingSegment(name: string, value: string): string {
  // '.' and '..' are valid characters but would be resolved away as path segments; they start with '.', so SAFE refuses them.
  if (SAFE.test(value)) return `${name}/${value}`;
  // An empty value is written as "=", the padding alone, as the Pushgateway documents.
  return `${name}@base64/${value === '' ? '=' : base64Url(value)}`;
}

/** The path after the gateway's base URL: `metrics/job/<job>/<name>/<value>...`. */
export function groupingPath(job: string, grouping: Readonly<Record<string, string>>): string {
  let path = `metrics/${groupingSegment('job', job)}`;
  for (const [name, value] of Object.entries(grouping)) path += `/${groupingSegment(name, value)}`;
  return path;
}

/** Base64 of the UTF-8 bytes, URL-safe alphabet (RFC 4648 section 5), without padding. */
export function base64Url(value: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(value)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
