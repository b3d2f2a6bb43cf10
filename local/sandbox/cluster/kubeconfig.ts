import { writeFileSync } from 'node:fs';
import yaml from 'js-yaml';

/** Writes a kubeconfig with one cluster, user and context, all named "sandbox"; mode 0600 like kubeadm's. */
export function writeKubeconfig(path: string, server: string, caCert: string, token: string): void {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'sandbox', cluster: { server, 'certificate-authority-data': Buffer.from(caCert).toString('base64') } },
    ],
    users: [{ name: 'sandbox', user: { token } }],
    contexts: [{ name: 'sandbox', context: { cluster: 'sandbox', user: 'sandbox' } }],
    'current-context': 'sandbox',
    preferences: {},
  };
  writeFileSync(path, yaml.dump(config), { mode: 0o600 });
}
