import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM material for the API server and the CA that clients trust. */
export interface TlsMaterial {
  readonly caCert: string;
  readonly serverKey: string;
  readonly serverCert: string;
}

/**
 * Makes a throwaway CA and a server certificate for 127.0.0.1 with the `openssl` CLI. node:crypto cannot sign
 * certificates; `openssl` is on every machine this runs on and takes ~30 ms with EC keys, whereas the npm option
 * (`selfsigned`, pure-JS node-forge RSA) adds a dependency and is slower. Go (kubectl) insists on a real CA
 * (basicConstraints CA:TRUE, keyCertSign) and an IP SAN, so both are explicit.
 */
export function makeTlsMaterial(): TlsMaterial {
  const dir = mkdtempSync(join(tmpdir(), 'sandbox-tls-'));
  try {
    const file = (name: string) => join(dir, name);
    const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.crt'),
      '-days',
      '7',
      '-subj',
      '/CN=edgekeeper-sandbox-ca',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
    openssl('req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=kube-apiserver');
    writeFileSync(
      file('server.ext'),
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
    );
    openssl(
      'x509',
      '-req',
      '-in',
      file('server.csr'),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-out',
      file('server.crt'),
      '-days',
      '7',
      '-extfile',
      file('server.ext'),
    );
    return {
      caCert: readFileSync(file('ca.crt'), 'utf8'),
      serverKey: readFileSync(file('server.key'), 'utf8'),
      serverCert: readFileSync(file('server.crt'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
