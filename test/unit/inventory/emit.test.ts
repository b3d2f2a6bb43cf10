import { EXIT, type Io, main } from '../../../local/cli/program';
import { formatReport } from '../../../local/inventory/emit';

function capture(): Io & { err: () => string } {
  let err = '';
  return {
    stdout: () => undefined,
    stderr: (text) => {
      err += text;
    },
    env: {},
    color: false,
    onStop: () => () => undefined,
    err: () => err,
  };
}

describe('edgekeeper inventory emit', () => {
  it.each([
    [['--registered', 'mi-0ed9e000000000001'], '--sandbox <dir> is required'],
    [['--sandbox', '/nowhere'], 'name at least one host: --registered <instance-id> or --retired <instance-id>'],
    [
      [
        '--sandbox',
        '/nowhere',
        '--registered',
        'mi-0ed9e000000000001',
        '--retired',
        'mi-0ed9e000000000002',
        '--name',
        'a',
      ],
      '--name: only with a single --registered or --retired',
    ],
    [
      ['--sandbox', '/nowhere', '--retired', 'mi-0ed9e000000000001', '--ip', '10.0.0.1'],
      '--ip: only with --registered',
    ],
    [
      ['--sandbox', '/nowhere', '--registered', 'mi-0ed9e000000000001', '--detail', '[1]'],
      '--detail "[1]" must be a JSON object',
    ],
  ])('refuses %j before anything runs, naming the flag', async (args, message) => {
    // Prepare
    const io = capture();

    // Act
    const code = await main(['inventory', 'emit', ...args], io);

    // Assess
    expect(code).toBe(EXIT.usage);
    expect(io.err()).toContain(message);
  });

  it('prints one line per delivery, then what the dead-letter queue holds', () => {
    // Act
    const text = formatReport({
      events: [
        {
          messageId: 'm1',
          eventId: 'evt-1',
          kind: 'onboard',
          nodeName: 'edge-a',
          result: 'started',
          operationId: 'batch-onboard:burst-onboard-1',
          itemId: 'inv-evt-1',
          execution: { status: 'SUCCEEDED', error: null },
          item: { id: 'inv-evt-1', status: 'joined' },
        },
        {
          messageId: 'm2',
          eventId: 'evt-2',
          kind: 'onboard',
          nodeName: 'edge-b',
          result: 'no-op',
          reason: 'node edge-b is already joined',
        },
        {
          messageId: 'm3',
          eventId: 'evt-3',
          kind: null,
          nodeName: null,
          result: 'dead-letter',
          reason: 'detail.nodeIp 1.2.3 must be an IPv4 address',
        },
      ],
      deadLetters: [
        {
          messageId: 'm3',
          eventId: 'evt-3',
          body: '{}',
          receiveCount: 1,
          reason: 'detail.nodeIp 1.2.3 must be an IPv4 address',
        },
      ],
    });

    // Assess
    expect(text).toBe(
      [
        'event evt-1 (node edge-a): started batch-onboard:burst-onboard-1 item inv-evt-1: joined → SUCCEEDED',
        'event evt-2 (node edge-b): nothing to do: node edge-b is already joined',
        'event evt-3: sent to the dead-letter queue: detail.nodeIp 1.2.3 must be an IPv4 address',
        'dead-letter queue: 1 message',
        '  evt-3 (received 1×): detail.nodeIp 1.2.3 must be an IPv4 address',
        '',
      ].join('\n'),
    );
  });
});
