import { writeFileSync } from 'node:fs';
import yaml from 'js-yaml';

/**
 * Writes a kubeconfig with one cluster, user and context; mode 0600 like kubeadm's. The cluster is named "sandbox";
 * the user and context are named after the identity (`sandbox` for the admin, `edgekeeper` for the steps').
 */
export function writeKubeconfig(path: string, server: string, caCert: string, token: string, user = 'sandbox'): void {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'sandbox', cluster: { server, 'certificate-authority-data': Buffer.from(caCert).toString('base64') } },
    ],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: user, context: { cluster: 'sandbox', user } }],
    'current-context': user,
    preferences: {},
  };
  writeFileSync(path, yaml.dump(config), { mode: 0o600 });
}
