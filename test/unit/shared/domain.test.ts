import {
  EDGE_TAINT,
  existingNodeNameRule,
  instanceIdRule,
  ipv4Rule,
  isEdgeTaint,
  isInstanceId,
  isIpv4,
  MANAGED_LABEL_PREFIXES,
  nodeIpRule,
  nodeNameRule,
} from '../../../functions/shared/domain';

describe('instance ids', () => {
  it.each(['i-0123abcd', 'i-0123456789abcdef0', 'mi-0123456789abcdef0'])('accepts %s', (id) => {
    expect(instanceIdRule(id)).toBeUndefined();
    expect(isInstanceId(id)).toBe(true);
  });

  it.each([
    'mi-0123abcd', // hybrid ids are always 17 hex digits
    'i-0123456789', // neither 8 nor 17
    'i-0123456789ABCDEF0', // SSM writes lowercase
    ' i-0123abcd',
    'i-0123abcd\n',
    '',
  ])('refuses %j with the reason', (id) => {
    expect(instanceIdRule(id)).toBe(
      'must be an SSM managed instance id: mi- followed by 17 hex digits, or i- followed by 8 or 17 hex digits',
    );
    expect(isInstanceId(id)).toBe(false);
  });

  it('says no to what is not a string', () => {
    expect(isInstanceId(42)).toBe(false);
  });
});

describe('IPv4 addresses', () => {
  it.each(['0.0.0.0', '10.0.0.1', '192.168.100.10', '255.255.255.255'])('accepts %s in the strict form', (ip) => {
    expect(ipv4Rule(ip)).toBeUndefined();
    expect(isIpv4(ip)).toBe(true);
  });

  it.each([
    ['10.0.0', 'must be an IPv4 address in dotted-quad form (like 192.168.1.20)'],
    ['10.0.0.1.2', 'must be an IPv4 address in dotted-quad form (like 192.168.1.20)'],
    ['010.0.0.1', 'must be an IPv4 address in dotted-quad form (like 192.168.1.20)'],
    ['10.0.0.1 ', 'must be an IPv4 address in dotted-quad form (like 192.168.1.20)'],
    ['::1', 'must be an IPv4 address in dotted-quad form (like 192.168.1.20)'],
    ['999.1.1.1', 'must be an IPv4 address: every part must be 0-255'],
    ['10.0.0.256', 'must be an IPv4 address: every part must be 0-255'],
  ])('refuses %j: %s', (ip, reason) => {
    expect(ipv4Rule(ip)).toBe(reason);
    expect(nodeIpRule(ip)).toBe(reason);
    expect(isIpv4(ip)).toBe(false);
  });

  it.each([
    ['0.0.0.0', 'is the unspecified address, not a host address'],
    ['255.255.255.255', 'is the broadcast address, not a host address'],
    ['0.1.2.3', 'is in 0.0.0.0/8 ("this network"), not a host address'],
    ['127.0.0.1', 'is a loopback address (127.0.0.0/8)'],
    ['224.0.0.1', 'is a multicast address (224.0.0.0/4)'],
    ['240.0.0.1', 'is in the reserved range 240.0.0.0/4'],
  ])('refuses %s as a node IP, though it is well formed: %s', (ip, reason) => {
    expect(ipv4Rule(ip)).toBeUndefined();
    expect(nodeIpRule(ip)).toBe(reason);
  });

  it.each(['10.20.0.21', '192.168.1.20', '223.255.255.254', '1.0.0.0'])('accepts %s as a node IP', (ip) => {
    expect(nodeIpRule(ip)).toBeUndefined();
  });
});

describe('node names', () => {
  it('takes DNS-1123 labels for new nodes, and the subdomains the API server allows for existing ones', () => {
    expect(nodeNameRule('edge-1')).toBeUndefined();
    expect(nodeNameRule('edge-1.site-a')).toMatch(/^must be a DNS-1123 label/);
    expect(existingNodeNameRule('edge-1.site-a')).toBeUndefined();
  });

  it.each([
    ['', 'must not be empty', 'must not be empty'],
    ['Edge_1', 'must be a DNS-1123 label', 'must be a DNS-1123 subdomain'],
    ['-edge', 'must be a DNS-1123 label', 'must be a DNS-1123 subdomain'],
    ['e'.repeat(64), 'must be at most 63 characters (got 64)', undefined],
    ['e'.repeat(254), 'must be at most 63 characters (got 254)', 'must be at most 253 characters (got 254)'],
  ])('judges %j', (name, asNew, asExisting) => {
    expect(nodeNameRule(name)).toEqual(expect.stringContaining(asNew));
    expect(existingNodeNameRule(name)).toEqual(
      asExisting === undefined ? undefined : expect.stringContaining(asExisting),
    );
  });
});

describe('the edge taint', () => {
  it('is the NoSchedule taint keyed by the edge role label, and nobody can change it', () => {
    expect(EDGE_TAINT).toEqual({ key: 'node-role.kubernetes.io/edge', value: '', effect: 'NoSchedule' });
    expect(Object.isFrozen(EDGE_TAINT)).toBe(true);
  });

  it('is recognised on a node whatever value it was set with, but not with another effect', () => {
    expect(isEdgeTaint({ key: 'node-role.kubernetes.io/edge', effect: 'NoSchedule' })).toBe(true);
    expect(isEdgeTaint({ key: 'node-role.kubernetes.io/edge', effect: 'NoExecute' })).toBe(false);
    expect(isEdgeTaint({ key: 'node-role.kubernetes.io/agent', effect: 'NoSchedule' })).toBe(false);
  });
});

it('reserves the role labels and edgekeeper bookkeeping for edgekeeper and KubeEdge', () => {
  expect(MANAGED_LABEL_PREFIXES).toEqual(['node-role.kubernetes.io/', 'edgekeeper.io/']);
});
