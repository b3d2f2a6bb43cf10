import { ARCH_PLACEHOLDER as ARCH } from '../../../functions/shared/join-settings/core';
import type { JoinSettings } from '../../../functions/shared/join-settings/schema';
import { profileFor } from '../../../functions/shared/keadm/profiles';
import type { ObservedCluster } from '../../../functions/validate-onboard-request/core';

/** A cluster where every onboarding precondition holds. */
export function healthyCluster(overrides: Partial<ObservedCluster> = {}): ObservedCluster {
  return {
    nodes: [
      { name: 'master-1', internalIps: ['10.0.0.5'] },
      { name: 'worker-2', internalIps: ['10.0.0.7'] },
    ],
    edgeWatcherConfig: null,
    kubeedgeNamespacePresent: true,
    cloudcoreConfigPresent: true,
    tokenSecretPresent: true,
    ssmInstance: { pingStatus: 'Online', platformType: 'Linux' },
    ...overrides,
  };
}

export const VALID_REQUEST = Object.freeze({
  nodeName: 'edge-1',
  nodeIp: '192.168.10.21',
  instanceId: 'mi-0123456789abcdef0',
});

export const CLOUDCORE_YAML = `apiVersion: cloudcore.config.kubeedge.io/v1alpha1
kind: CloudCore
modules:
  cloudHub:
    advertiseAddress:
    - 203.0.113.9
    websocket:
      port: 10000
    quic:
      port: 10001
    https:
      port: 10002
  cloudStream:
    tunnelPort: 10004
`;

/** JoinSettings for a version with everything else fixed. */
export function settingsFor(version: string, overrides: Partial<JoinSettings> = {}): JoinSettings {
  return {
    nodeName: 'edge-1',
    nodeIp: '192.168.10.21',
    profile: profileFor(version),
    version,
    region: 'zh',
    downloadUrl: `https://example.com/keadm-${ARCH}.tar.gz`,
    cloudcore: {
      address: '203.0.113.9',
      ports: { cloudhub: 10000, quic: 10001, https: 10002, stream: 10003, tunnel: 10004 },
    },
    taint: true,
    labels: {},
    ...overrides,
  };
}
