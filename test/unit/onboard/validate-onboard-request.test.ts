import { InvalidRequestError, KubeEdgeNotInstalledError } from '../../../functions/shared/errors';
import {
  HostOfflineError,
  type ObservedCluster,
  type OnboardValidationError,
  validateOnboardRequest,
} from '../../../functions/validate-onboard-request/core';
import { healthyCluster, VALID_REQUEST } from './fixtures';

function rejection(request: unknown, observed: ObservedCluster = healthyCluster()): OnboardValidationError {
  try {
    validateOnboardRequest(request, observed);
  } catch (error) {
    return error as OnboardValidationError;
  }
  throw new Error('expected a rejection');
}

describe('validateOnboardRequest', () => {
  it('accepts a valid request and fills the defaults', () => {
    expect(validateOnboardRequest(VALID_REQUEST, healthyCluster())).toEqual({
      ...VALID_REQUEST,
      taint: true,
      dryRun: false,
    });
  });

  it.each([
    ['nodeName', 'Edge_1', 'nodeName Edge_1 must be a DNS-1123 label'],
    ['nodeName', 'a'.repeat(64), `nodeName ${'a'.repeat(64)} must be at most 63 characters (got 64)`],
    ['nodeName', '-edge', 'nodeName -edge must be a DNS-1123 label'],
    ['nodeName', '', 'nodeName  must not be empty'],
    ['nodeIp', '10.0.0', 'nodeIp 10.0.0 must be an IPv4 address in dotted-quad form'],
    ['nodeIp', '10.0.0.256', 'nodeIp 10.0.0.256 must be an IPv4 address: every part must be 0-255'],
    ['nodeIp', '010.0.0.1', 'nodeIp 010.0.0.1 must be an IPv4 address in dotted-quad form'],
    ['nodeIp', '127.0.0.1', 'nodeIp 127.0.0.1 is a loopback address (127.0.0.0/8)'],
    ['nodeIp', '224.0.0.5', 'nodeIp 224.0.0.5 is a multicast address (224.0.0.0/4)'],
    ['nodeIp', '0.0.0.0', 'nodeIp 0.0.0.0 is the unspecified address, not a host address'],
    ['nodeIp', '0.1.2.3', 'nodeIp 0.1.2.3 is in 0.0.0.0/8 ("this network"), not a host address'],
    ['nodeIp', '255.255.255.255', 'nodeIp 255.255.255.255 is the broadcast address, not a host address'],
    ['nodeIp', '240.0.0.1', 'nodeIp 240.0.0.1 is in the reserved range 240.0.0.0/4'],
    ['nodeIp', '::1', 'nodeIp ::1 must be an IPv4 address in dotted-quad form'],
    ['instanceId', 'mi-0123', 'instanceId mi-0123 must be an SSM managed instance id'],
    ['instanceId', 'i-0123456789', 'instanceId i-0123456789 must be an SSM managed instance id'],
    ['instanceId', 'i-0123456789ABCDEF0', 'instanceId i-0123456789ABCDEF0 must be an SSM managed instance id'],
    ['kubeedgeVersion', 'v1.8.0', 'kubeedgeVersion v1.8.0 is not supported: expected one of v1.5.0, v1.6.0, v1.6.1'],
    ['kubeedgeVersion', 'latest', 'kubeedgeVersion latest must be a version like v1.6.1'],
    ['region', 'us', 'region us must be zh or en'],
    ['taint', 'yes', 'taint yes must be true or false'],
    ['dryRun', 1, 'dryRun 1 must be true or false'],
  ])('rejects %s %j naming field, value and reason', (field, value, message) => {
    const error = rejection({ ...VALID_REQUEST, [field]: value });
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.name).toBe('InvalidRequestError');
    expect(error.message).toContain(message);
    expect(error.problems).toEqual([expect.objectContaining({ field, value })]);
  });

  it('accepts i- with 8 or 17 hex digits and versions with or without v', () => {
    for (const instanceId of ['i-0123abcd', 'i-0123456789abcdef0']) {
      expect(() => validateOnboardRequest({ ...VALID_REQUEST, instanceId }, healthyCluster())).not.toThrow();
    }
    for (const kubeedgeVersion of ['v1.6.1', '1.6.2', 'v1.9.2-kubesphere', 'v1.15.0']) {
      expect(() => validateOnboardRequest({ ...VALID_REQUEST, kubeedgeVersion }, healthyCluster())).not.toThrow();
    }
  });

  it.each([
    [{ 'Bad Key': 'x' }, 'labels Bad Key is not a valid label key: the name must be 1-63 characters'],
    [{ 'UPPER.example.com/x': 'x' }, 'labels UPPER.example.com/x is not a valid label key: the prefix must be'],
    [{ [`${'a'.repeat(64)}`]: 'x' }, 'is not a valid label key: the name must be 1-63'],
    [
      { 'node-role.kubernetes.io/worker': '' },
      'labels node-role.kubernetes.io/worker is not allowed: labels under node-role.kubernetes.io/ are managed',
    ],
    [{ 'edgekeeper.io/instance-id': 'x' }, 'labels under edgekeeper.io/ are managed'],
    [{ site: 'has space' }, 'labels.site has space is not a valid label value'],
    [{ site: `${'v'.repeat(64)}` }, 'is not a valid label value'],
  ])('rejects labels %j', (labels, message) => {
    const error = rejection({ ...VALID_REQUEST, labels });
    expect(error.name).toBe('InvalidRequestError');
    expect(error.message).toContain(message);
  });

  it('accepts valid labels, including an empty value and a prefixed key', () => {
    const labels = { 'example.com/site': 'berlin-1', zone: '', 'a_b.c-d': 'X_y.z' };
    expect(validateOnboardRequest({ ...VALID_REQUEST, labels }, healthyCluster()).labels).toEqual(labels);
  });

  it('rejects unknown and missing fields', () => {
    const error = rejection({ nodename: 'edge-1', nodeIp: '192.168.10.21', instanceId: VALID_REQUEST.instanceId });
    expect(error.message).toContain('nodeName is required');
    expect(error.message).toContain('nodename is not a known field');
  });

  it('rejects a name used by a node', () => {
    const error = rejection({ ...VALID_REQUEST, nodeName: 'worker-2' });
    expect(error.message).toBe('nodeName worker-2 is already the name of a node');
  });

  it('rejects an IP already used by another node, in exactly the promised words', () => {
    const error = rejection({ ...VALID_REQUEST, nodeIp: '10.0.0.7' });
    expect(error.message).toBe('nodeIp 10.0.0.7 is already the InternalIP of node worker-2');
    expect(error.problems).toEqual([
      { field: 'nodeIp', value: '10.0.0.7', reason: 'is already the InternalIP of node worker-2' },
    ]);
  });

  it('rejects a bad edge-watcher-config like KubeSphere does (400)', () => {
    const error = rejection(VALID_REQUEST, healthyCluster({ edgeWatcherConfig: { region: 'us', version: '' } }));
    expect(error.name).toBe('InvalidRequestError');
    expect(error.message).toBe(
      'configmap kubeedge/edge-watcher-config region us must be zh or en; configmap kubeedge/edge-watcher-config version must not be empty',
    );
  });

  it('fails with KubeEdgeNotInstalledError when namespace and cloudcore configmap are missing', () => {
    const error = rejection(
      VALID_REQUEST,
      healthyCluster({ kubeedgeNamespacePresent: false, cloudcoreConfigPresent: false, tokenSecretPresent: false }),
    );
    expect(error).toBeInstanceOf(KubeEdgeNotInstalledError);
    expect(error.name).toBe('KubeEdgeNotInstalledError');
    expect(error.message).toContain(
      'KubeEdge is not installed in this cluster (namespace kubeedge / configmap cloudcore missing)',
    );
    expect(error.message).toContain('secret kubeedge/tokensecret missing');
  });

  it('names only the missing piece of KubeEdge', () => {
    const error = rejection(VALID_REQUEST, healthyCluster({ cloudcoreConfigPresent: false }));
    expect(error.message).toBe('KubeEdge is not installed in this cluster (configmap cloudcore missing)');
  });

  it('fails with the transient HostOfflineError when the host is the only problem', () => {
    const offline = rejection(
      VALID_REQUEST,
      healthyCluster({ ssmInstance: { pingStatus: 'ConnectionLost', platformType: 'Linux' } }),
    );
    expect(offline).toBeInstanceOf(HostOfflineError);
    expect(offline.transient).toBe(true);
    expect(offline.message).toBe('instanceId mi-0123456789abcdef0 is ConnectionLost in SSM, expected Online');
    const unregistered = rejection(VALID_REQUEST, healthyCluster({ ssmInstance: null }));
    expect(unregistered.name).toBe('HostOfflineError');
    expect(unregistered.message).toBe('instanceId mi-0123456789abcdef0 is not registered in SSM');
  });

  it('treats a Windows host as an invalid request, not an offline one', () => {
    const error = rejection(
      VALID_REQUEST,
      healthyCluster({ ssmInstance: { pingStatus: 'Online', platformType: 'Windows' } }),
    );
    expect(error.name).toBe('InvalidRequestError');
    expect(error.message).toBe('instanceId mi-0123456789abcdef0 runs Windows, but edge hosts must run Linux');
  });

  it('reports every problem of one request together, named by the most decisive class', () => {
    const error = rejection(
      { ...VALID_REQUEST, nodeName: 'worker-2', nodeIp: '10.0.0.5', region: 'eu' },
      healthyCluster({ tokenSecretPresent: false, ssmInstance: { pingStatus: 'Inactive', platformType: 'Linux' } }),
    );
    expect(error.name).toBe('KubeEdgeNotInstalledError');
    expect(error.problems.map((problem) => problem.field)).toEqual([
      'region',
      'nodeName',
      'nodeIp',
      'KubeEdge',
      'instanceId',
    ]);
    expect(error.message.split('; ')).toHaveLength(5);
    expect(error.message).toContain('nodeIp 10.0.0.5 is already the InternalIP of node master-1');
  });

  it('prefers InvalidRequestError over HostOfflineError: retrying cannot fix a bad request', () => {
    const error = rejection({ ...VALID_REQUEST, nodeIp: '127.0.0.1' }, healthyCluster({ ssmInstance: null }));
    expect(error.name).toBe('InvalidRequestError');
    expect(error.problems).toHaveLength(2);
  });

  it('rejects a request that is not an object', () => {
    const error = rejection('edge-1');
    expect(error.name).toBe('InvalidRequestError');
    expect(error.problems[0]?.field).toBe('request');
  });
});
