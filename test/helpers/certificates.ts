/** A throwaway PKI for the TLS and proxy tests: a CA and the leaf certificates a test asks for, made with openssl. */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A leaf certificate: written to `<name>.pem` and `<name>.key`, signed by the CA. */
export interface Leaf {
  readonly name: string;
  readonly cn: string;
  /** openssl x509v3 extensions, e.g. `subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n`. */
  readonly extensions: string;
}

/**
 * Writes `ca.pem`/`ca.key` and each leaf into `into` (EC keys, so it takes a few ms) and returns a reader of the
 * PEM files there.
 */
export function makeCertificates(into: string, leaves: readonly Leaf[]): (file: string) => string {
  const openssl = (args: string[]) =>
    execFileSync('openssl', args, { cwd: into, stdio: 'pipe', timeout: 10_000 });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=procpush test CA',
  ]);
  for (const { name, cn, extensions } of leaves) {
    writeFileSync(join(into, `${name}.ext`), extensions);
    openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    const sign = [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
    ];
    openssl([...sign, '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
  }
  return (file) => readFileSync(join(into, file), 'utf8');
}
