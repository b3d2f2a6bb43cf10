import type { Io } from '../../../local/cli/io';
import { MANUAL_JOIN_WAIT_STATE, manualJoinPrinter } from '../../../local/cli/manual-join';
import type { WorkflowEvent } from '../../../local/runtime';

const COMMAND = '# edgekeeper: join this device …\n(\necho join\n)\n';

function capture(): Io & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    env: {},
    color: false,
    onStop: () => () => undefined,
    out: () => out,
    err: () => err,
  };
}

function entered(state: string, workflow = 'onboard-node'): WorkflowEvent {
  return { type: 'StateEntered', workflow, execution: 'op-1', state, timestamp: 0 };
}

/** Lets the printer's render promise settle. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('the CLI’s manual join printer', () => {
  it('prints the command once, on stdout, when the run starts waiting for the node', async () => {
    const io = capture();
    const renders: unknown[] = [];
    const print = manualJoinPrinter(
      { nodeName: 'edge-1' },
      {
        io,
        json: false,
        env: {},
        stop: () => undefined,
        render: async (request) => {
          renders.push(request);
          return COMMAND;
        },
      },
    );

    for (const state of ['Validate the request', 'Lock the node', MANUAL_JOIN_WAIT_STATE, MANUAL_JOIN_WAIT_STATE]) {
      print(entered(state));
    }
    await settled();

    expect(renders).toEqual([{ nodeName: 'edge-1' }]);
    expect(io.out()).toBe(`\n${COMMAND}\n`);
    expect(io.err()).toContain('Run this command once, as root, on the device');
  });

  it('with --json, prints it on stderr and says why: the document on stdout never holds it', async () => {
    const io = capture();
    const print = manualJoinPrinter(
      {},
      { io, json: true, env: {}, stop: () => undefined, render: async () => COMMAND },
    );

    print(entered(MANUAL_JOIN_WAIT_STATE));
    await settled();

    expect(io.out()).toBe('');
    expect(io.err()).toContain('the --json document on stdout never holds it');
    expect(io.err()).toContain(COMMAND);
  });

  it('stops the run, saying why, when the command cannot be rendered', async () => {
    const io = capture();
    const stops: string[] = [];
    const print = manualJoinPrinter(
      {},
      {
        io,
        json: false,
        env: {},
        stop: (why) => stops.push(why),
        render: async () => {
          throw Object.assign(new Error('cluster has no join token'), { name: 'KubeEdgeNotInstalledError' });
        },
      },
    );

    print(entered(MANUAL_JOIN_WAIT_STATE));
    await settled();

    expect(stops).toEqual(['KubeEdgeNotInstalledError: cluster has no join token']);
    expect(io.err()).toContain('the join command could not be rendered, so nobody can join the node');
    expect(io.out()).toBe('');
  });
});
