import { InvalidRequestError, KubeEdgeNotInstalledError } from '../../../functions/shared/errors';
import {
  checkOnboardRequest,
  HostOfflineError,
  type LockClaim,
  type ObservedCluster,
  type ObservedNode,
  type OnboardValidationError,
  type ValidationPorts,
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
  it('accepts a valid request for a new node and fills the defaults', () => {
    expect(validateOnboardRequest(VALID_REQUEST, healthyCluster())).toEqual({
      request: { ...VALID_REQUEST, mode: 'ssm', taint: true, dryRun: false, labels: {} },
      alreadyJoined: false,
      adopting: false,
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
    // an own __proto__ key, as JSON.parse makes it: zod's record would drop it silently
    [JSON.parse('{"__proto__": "site-a"}'), 'labels __proto__ is not a valid label key'],
  ])('rejects labels %j', (labels, message) => {
    const error = rejection({ ...VALID_REQUEST, labels });
    expect(error.name).toBe('InvalidRequestError');
    expect(error.message).toContain(message);
  });

  it('accepts valid labels, including an empty value and a prefixed key', () => {
    const labels = { 'example.com/site': 'berlin-1', zone: '', 'a_b.c-d': 'X_y.z' };
    expect(validateOnboardRequest({ ...VALID_REQUEST, labels }, healthyCluster()).request.labels).toEqual(labels);
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

/** edge-1 as edgekeeper left it after a finished join of VALID_REQUEST. */
const MANAGED_EDGE_1: ObservedNode = {
  name: 'edge-1',
  internalIps: ['192.168.10.21'],
  instanceId: 'mi-0123456789abcdef0',
  managed: true,
  kubeedgeVersion: 'v1.6.1',
};

/** edge-1 as a run that crashed after the join left it: Ready, but nothing of edgekeeper's on it. */
const HALF_JOINED_EDGE_1: ObservedNode = { name: 'edge-1', internalIps: ['192.168.10.21'] };

/** The three Leases one onboarding of `nodeName` takes, each recording the same name, instance and IP. */
function claimsOf(nodeName: string, instanceId: string, nodeIp: string, free: boolean): LockClaim[] {
  const holder = `arn:aws:states:eu-west-1:123456789012:execution:onboard-node:${nodeName}-run`;
  return [1, 2, 3].map(() => ({ nodeName, instanceId, nodeIp, holder, free }));
}

function withNodes(...extra: ObservedNode[]): ObservedCluster {
  return healthyCluster({ nodes: [...healthyCluster().nodes, ...extra] });
}

describe('validateOnboardRequest on a node that exists', () => {
  it('answers alreadyJoined for a rerun of a finished request, keeping the node’s version', () => {
    // Act
    const decision = validateOnboardRequest(VALID_REQUEST, withNodes(MANAGED_EDGE_1));

    // Assess
    expect(decision).toMatchObject({ alreadyJoined: true, adopting: false });
    expect(decision.request.kubeedgeVersion).toBe('v1.6.1');
  });

  it('accepts a rerun with other labels and no taint: the finish step applies them to the node', () => {
    // Act
    const decision = validateOnboardRequest(
      { ...VALID_REQUEST, labels: { site: 'plant-9' }, taint: false },
      withNodes(MANAGED_EDGE_1),
    );

    // Assess
    expect(decision.alreadyJoined).toBe(true);
    expect(decision.request).toMatchObject({ labels: { site: 'plant-9' }, taint: false });
  });

  it('refuses a rerun that asks for another KubeEdge version, naming both versions', () => {
    // Act
    const error = rejection({ ...VALID_REQUEST, kubeedgeVersion: 'v1.9.2' }, withNodes(MANAGED_EDGE_1));

    // Assess
    expect(error.name).toBe('InvalidRequestError');
    expect(error.message).toBe(
      'kubeedgeVersion v1.9.2 differs from v1.6.1, the version node edge-1 runs: edgekeeper does not upgrade ' +
        'nodes; remove it and onboard it again',
    );
  });

  it('accepts the node’s own version in another spelling', () => {
    expect(
      validateOnboardRequest({ ...VALID_REQUEST, kubeedgeVersion: '1.6.1' }, withNodes(MANAGED_EDGE_1)).alreadyJoined,
    ).toBe(true);
  });

  it('refuses a rerun that moves the node to another IP, naming the node’s IP', () => {
    // Act
    const error = rejection({ ...VALID_REQUEST, nodeIp: '192.168.10.99' }, withNodes(MANAGED_EDGE_1));

    // Assess
    expect(error.message).toBe(
      'nodeIp 192.168.10.99 differs from 192.168.10.21, the InternalIP of node edge-1: a node cannot change its ' +
        'IP; remove it and onboard it again',
    );
  });

  it('refuses a name whose node edgekeeper joined from another instance, naming that instance', () => {
    // Act
    const error = rejection(VALID_REQUEST, withNodes({ ...MANAGED_EDGE_1, instanceId: 'mi-0fedcba9876543210' }));

    // Assess
    expect(error.message).toBe('nodeName edge-1 is already the name of a node on instance mi-0fedcba9876543210');
  });

  it('adopts a half-joined node whose Lease records this name and instance, left by a run that died', () => {
    // Prepare
    const observed = withNodes(HALF_JOINED_EDGE_1);
    const claims = claimsOf('edge-1', VALID_REQUEST.instanceId, VALID_REQUEST.nodeIp, true);

    // Act
    const decision = validateOnboardRequest(VALID_REQUEST, { ...observed, claims });

    // Assess
    expect(decision).toMatchObject({ alreadyJoined: false, adopting: true });
  });

  it('refuses a half-joined node of the name when no record gives it this instance', () => {
    // Prepare
    const claims = claimsOf('edge-1', 'mi-0fedcba9876543210', VALID_REQUEST.nodeIp, true);

    // Act
    const unrecorded = rejection(VALID_REQUEST, withNodes(HALF_JOINED_EDGE_1));
    const otherInstance = rejection(VALID_REQUEST, { ...withNodes(HALF_JOINED_EDGE_1), claims });

    // Assess
    expect(unrecorded.message).toBe('nodeName edge-1 is already the name of a node');
    expect(otherInstance.message).toBe('nodeName edge-1 is already the name of a node');
  });
});

describe('validateOnboardRequest never gives a host that backs another node to a new name', () => {
  it('refuses an instance whose id is on another node, naming both nodes', () => {
    // Act
    const error = rejection(
      { ...VALID_REQUEST, nodeName: 'edge-2', nodeIp: '192.168.10.22' },
      withNodes(MANAGED_EDGE_1),
    );

    // Assess
    expect(error.name).toBe('InvalidRequestError');
    expect(error.message).toBe(
      'instanceId mi-0123456789abcdef0 already backs node edge-1; it cannot also back node edge-2',
    );
  });

  it('refuses an instance whose SSM address is the InternalIP of a node joined by hand', () => {
    // Prepare
    const observed = withNodes({ name: 'edge-manual', internalIps: ['192.168.100.11'] });

    // Act
    const error = rejection(VALID_REQUEST, {
      ...observed,
      ssmInstance: { pingStatus: 'Online', platformType: 'Linux', ipAddress: '192.168.100.11' },
    });

    // Assess
    expect(error.message).toBe(
      'instanceId mi-0123456789abcdef0 has address 192.168.100.11 in SSM, the InternalIP of node edge-manual: ' +
        'the host already backs node edge-manual; it cannot also back node edge-1',
    );
  });

  it('accepts a host whose private address a node on another recorded instance shares (another site)', () => {
    // Prepare
    const elsewhere = {
      ...MANAGED_EDGE_1,
      name: 'edge-far',
      internalIps: ['192.168.100.11'],
      instanceId: 'mi-0fedcba9876543210',
    };
    const observed = withNodes(elsewhere);

    // Act
    const decision = validateOnboardRequest(VALID_REQUEST, {
      ...observed,
      ssmInstance: { pingStatus: 'Online', platformType: 'Linux', ipAddress: '192.168.100.11' },
    });

    // Assess
    expect(decision.alreadyJoined).toBe(false);
  });

  it('refuses an instance another running execution locked for another node, once for its three Leases', () => {
    // Prepare
    const claims = claimsOf('edge-2', VALID_REQUEST.instanceId, '192.168.10.22', false);

    // Act
    const error = rejection(VALID_REQUEST, healthyCluster({ claims }));

    // Assess
    expect(error.problems).toEqual([
      {
        field: 'instanceId',
        value: 'mi-0123456789abcdef0',
        reason:
          'is locked for node edge-2 by execution arn:aws:states:eu-west-1:123456789012:execution:onboard-node:' +
          'edge-2-run, which is still running',
      },
    ]);
  });

  it('refuses an instance or IP a dead execution locked for another node, saying how to free it', () => {
    // Prepare
    const claims = claimsOf('edge-2', VALID_REQUEST.instanceId, VALID_REQUEST.nodeIp, true);

    // Act
    const error = rejection(VALID_REQUEST, healthyCluster({ claims }));

    // Assess
    expect(error.problems.map((problem) => problem.field)).toEqual(['instanceId', 'nodeIp']);
    expect(error.problems[0]?.reason).toContain(
      'which ended without releasing it: rerun that onboarding, or remove node edge-2 (edgekeeper remove --name edge-2) first',
    );
  });

  it('ignores the cluster-wide uninstall Lease, which records no node (the lock step refuses during uninstall)', () => {
    expect(() =>
      validateOnboardRequest(VALID_REQUEST, healthyCluster({ claims: [{ holder: 'arn:x', free: false }] })),
    ).not.toThrow();
  });
});

describe('checkOnboardRequest', () => {
  function ports(overrides: Partial<ValidationPorts> = {}): ValidationPorts & { asked: string[] } {
    const cluster = healthyCluster();
    const asked: string[] = [];
    return {
      asked,
      listNodes: async () => cluster.nodes,
      kubeedgeObjects: async () => cluster,
      describeHost: async (instanceId) => {
        asked.push(instanceId);
        return { pingStatus: 'Online', platformType: 'Linux', ipAddress: '192.168.10.21' };
      },
      listClaims: async () => [],
      ...overrides,
    };
  }

  it('reads the cluster, the host and the Leases through its ports and decides', async () => {
    // Prepare
    const fake = ports();

    // Act
    const decision = await checkOnboardRequest(VALID_REQUEST, fake);

    // Assess
    expect(decision.alreadyJoined).toBe(false);
    expect(fake.asked).toEqual(['mi-0123456789abcdef0']);
  });

  it('does not ask SSM about a malformed instance id', async () => {
    // Prepare
    const fake = ports();

    // Act
    const error = await checkOnboardRequest({ ...VALID_REQUEST, instanceId: 'mi-1' }, fake).catch((e) => e);

    // Assess
    expect(error.name).toBe('InvalidRequestError');
    expect(fake.asked).toEqual([]);
  });

  it('does not count the asking execution’s own Leases as a conflict', async () => {
    // Prepare
    const claims = claimsOf('edge-2', VALID_REQUEST.instanceId, '192.168.10.22', false);
    const fake = ports({ listClaims: async () => claims });

    // Act
    const own = await checkOnboardRequest(VALID_REQUEST, fake, { holder: claims[0]?.holder });
    const other = await checkOnboardRequest(VALID_REQUEST, fake, { holder: 'arn:other' }).catch((e) => e);

    // Assess
    expect(own.alreadyJoined).toBe(false);
    expect(other.name).toBe('InvalidRequestError');
  });
});
