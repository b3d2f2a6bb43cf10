import { E2E, HOSTS } from './harness';

let e2e: E2E;

beforeAll(async () => {
  // Joined nodes stay Ready=False for an hour, and the workflow gives up after 3 s.
  e2e = await E2E.start({
    prefix: 'edgekeeper-e2e-never-ready-',
    readyDelayMs: 3_600_000,
    env: { EDGEKEEPER_NODE_READY_TIMEOUT_SECONDS: '3' },
  });
});

afterAll(async () => {
  await e2e?.stop();
});

describe('a node that never becomes Ready', () => {
  it('fails with NodeNotReadyError and the rollback leaves nothing: no node, no lock, a clean host', async () => {
    const run = await e2e.onboard({ nodeName: 'edge-slow', nodeIp: '10.20.0.31', instanceId: HOSTS.ubuntuAmd64 });
    expect(run.result.status).toBe('FAILED');
    expect(run.result.error?.name).toBe('NodeNotReadyError');
    expect(run.result.error?.message).toBe(
      'node edge-slow is not ready after the deadline: missing condition Ready=True (is False)',
    );
    const failed = run.published.filter((event) => event.detailType === 'Edge Node Join Failed');
    expect(failed).toEqual([
      expect.objectContaining({ detail: expect.objectContaining({ error: 'NodeNotReadyError' }) }),
    ]);
    expect(await e2e.lease('edge-slow')).toBeUndefined();

    expect(await e2e.node('edge-slow')).toBeUndefined();
    const host = await e2e.hostRun(
      HOSTS.ubuntuAmd64,
      [
        'for path in /etc/kubeedge /var/lib/kubeedge /var/lib/edged; do [ -e "$path" ] && echo "present $path"; done',
        'systemctl is-active --quiet edgecore && echo "edgecore active"',
        'awk \'$5 ~ "^/(etc/kubeedge|var/lib/kubeedge|var/lib/edged)" { print "mount " $5 }\' /proc/self/mountinfo',
        'true',
      ].join('\n'),
    );
    expect(host.status).toBe('Success');
    expect(host.stdout.trim().split('\n').filter(Boolean)).toEqual([]);
  });
});
