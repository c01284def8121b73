import { describe, expect, it } from 'vitest';
import { proxyFor } from '../../src/transport/proxy-env.js';

const PROXY = 'http://proxy.internal:3128';
const via = (url: string, env: Record<string, string>) => proxyFor(new URL(url), env);

describe('which proxy a push goes through', () => {
  it('uses HTTPS_PROXY for https targets and HTTP_PROXY for http targets, never the other one', () => {
    const env = { HTTPS_PROXY: 'http://tls-proxy:3128', HTTP_PROXY: 'http://plain-proxy:3128' };
    expect(via('https://gw.example:9091/metrics', env)).toBe('http://tls-proxy:3128');
    expect(via('http://gw.example:9091/metrics', env)).toBe('http://plain-proxy:3128');
    expect(via('https://gw.example/', { HTTP_PROXY: PROXY })).toBeUndefined();
    expect(via('http://gw.example/', { HTTPS_PROXY: PROXY })).toBeUndefined();
  });

  it('connects directly when no proxy variable is set or it is empty', () => {
    expect(via('http://gw.example/', {})).toBeUndefined();
    expect(via('http://gw.example/', { HTTP_PROXY: '' })).toBeUndefined();
    expect(via('http://gw.example/', { HTTP_PROXY: '   ' })).toBeUndefined();
  });

  it('prefers the lowercase variables, and falls back to uppercase when lowercase is empty', () => {
    expect(via('http://gw.example/', { http_proxy: 'http://lower:1', HTTP_PROXY: 'http://upper:1' })).toBe(
      'http://lower:1',
    );
    expect(via('http://gw.example/', { http_proxy: '', HTTP_PROXY: 'http://upper:1' })).toBe(
      'http://upper:1',
    );
    expect(via('https://gw.example/', { https_proxy: 'http://lower:1' })).toBe('http://lower:1');
    expect(via('http://gw.example/', { HTTP_PROXY: PROXY, no_proxy: 'gw.example', NO_PROXY: '' })).toBe(
      undefined,
    );
  });

  it('takes a proxy without a scheme as http://, as curl does, and keeps its credentials', () => {
    expect(via('http://gw.example/', { HTTP_PROXY: 'proxy.internal:3128' })).toBe(
      'http://proxy.internal:3128',
    );
    expect(via('http://gw.example/', { HTTP_PROXY: 'http://user:p%40ss@proxy:3128' })).toBe(
      'http://user:p%40ss@proxy:3128',
    );
    expect(via('https://gw.example/', { HTTPS_PROXY: 'https://proxy:8443' })).toBe('https://proxy:8443');
  });

  it('does not bypass loopback on its own: localhost must be listed in NO_PROXY, as with curl', () => {
    expect(via('http://localhost:9091/', { HTTP_PROXY: PROXY })).toBe(PROXY);
    expect(via('http://127.0.0.1:9091/', { HTTP_PROXY: PROXY })).toBe(PROXY);
    expect(via('http://[::1]:9091/', { HTTP_PROXY: PROXY })).toBe(PROXY);
    const env = { HTTP_PROXY: PROXY, NO_PROXY: 'localhost,127.0.0.1,::1' };
    expect(via('http://localhost:9091/', env)).toBeUndefined();
    expect(via('http://127.0.0.1:9091/', env)).toBeUndefined();
    expect(via('http://[::1]:9091/', env)).toBeUndefined();
  });

  describe('NO_PROXY', () => {
    const bypassed = (url: string, noProxy: string) =>
      via(url, { HTTP_PROXY: PROXY, HTTPS_PROXY: PROXY, NO_PROXY: noProxy }) === undefined;

    it('matches a domain and its subdomains, on label boundaries only', () => {
      expect(bypassed('http://example.com/', 'example.com')).toBe(true);
      expect(bypassed('http://gw.example.com/', 'example.com')).toBe(true);
      expect(bypassed('http://a.b.example.com/', 'example.com')).toBe(true);
      expect(bypassed('http://badexample.com/', 'example.com')).toBe(false);
      expect(bypassed('http://example.com.evil.test/', 'example.com')).toBe(false);
    });

    it('treats .domain and *.domain like domain', () => {
      for (const entry of ['.example.com', '*.example.com']) {
        expect(bypassed('http://gw.example.com/', entry)).toBe(true);
        expect(bypassed('http://example.com/', entry)).toBe(true);
        expect(bypassed('http://badexample.com/', entry)).toBe(false);
      }
    });

    it('ignores case, spaces around entries, empty entries and a trailing dot', () => {
      expect(bypassed('http://GW.Example.COM/', ' other.test , ,example.com ')).toBe(true);
      expect(bypassed('http://gw.example.com./', 'EXAMPLE.com')).toBe(true);
      expect(bypassed('http://gw.example.com/', 'example.com.')).toBe(true);
    });

    it('matches host:port on that port only, with the scheme default when the URL has none', () => {
      expect(bypassed('http://gw.example:9091/', 'gw.example:9091')).toBe(true);
      expect(bypassed('http://gw.example:9092/', 'gw.example:9091')).toBe(false);
      expect(bypassed('http://gw.example/', 'gw.example:80')).toBe(true);
      expect(bypassed('https://gw.example/', 'gw.example:443')).toBe(true);
      expect(bypassed('https://gw.example/', 'gw.example:80')).toBe(false);
      expect(bypassed('http://gw.example:9092/', 'gw.example')).toBe(true);
    });

    it('turns proxies off for everything with *', () => {
      expect(bypassed('http://gw.example/', '*')).toBe(true);
      expect(bypassed('https://10.1.2.3:9091/', 'other.test,*')).toBe(true);
    });

    it('matches IP addresses exactly, IPv6 in any spelling, and IPv4 CIDR blocks', () => {
      expect(bypassed('http://10.1.2.3/', '10.1.2.3')).toBe(true);
      expect(bypassed('http://10.1.2.4/', '10.1.2.3')).toBe(false);
      expect(bypassed('http://110.1.2.3/', '10.1.2.3')).toBe(false);
      expect(bypassed('http://1.2.3.4/', '.3.4')).toBe(false);
      expect(bypassed('http://[::1]:9091/', '0:0:0:0:0:0:0:1')).toBe(true);
      expect(bypassed('http://[::1]:9091/', '[::1]:9091')).toBe(true);
      expect(bypassed('http://[::1]:9091/', '[::1]:9092')).toBe(false);
      expect(bypassed('http://10.200.0.7/', '10.0.0.0/8')).toBe(true);
      expect(bypassed('http://11.0.0.1/', '10.0.0.0/8')).toBe(false);
      expect(bypassed('http://192.168.1.77/', '192.168.1.64/26')).toBe(true);
      expect(bypassed('http://192.168.1.128/', '192.168.1.64/26')).toBe(false);
      expect(bypassed('http://gw.example/', '10.0.0.0/8')).toBe(false);
    });

    it('leaves hosts it does not list to the proxy', () => {
      expect(bypassed('http://gw.example/', 'other.test,10.0.0.1')).toBe(false);
      expect(bypassed('http://gw.example/', '')).toBe(false);
    });
  });

  it('never proxies other schemes', () => {
    expect(proxyFor(new URL('file:///tmp/x'), { HTTP_PROXY: PROXY, HTTPS_PROXY: PROXY })).toBeUndefined();
  });
});
