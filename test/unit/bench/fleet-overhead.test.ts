import { coveredMs, nodeOverhead } from '../../../bench/fleet-overhead';

describe("the fleet bench's orchestration overhead", () => {
  it('counts overlapping intervals once and only inside the window', () => {
    expect(coveredMs([], [0, 100])).toBe(0);
    expect(
      coveredMs(
        [
          [10, 30],
          [20, 40],
          [50, 60],
        ],
        [0, 100],
      ),
    ).toBe(40);
    expect(
      coveredMs(
        [
          [-50, 10],
          [90, 200],
        ],
        [0, 100],
      ),
    ).toBe(20);
    expect(coveredMs([[120, 130]], [0, 100])).toBe(0);
  });

  it('leaves out waits, host scripts and the wait for Ready, and keeps what the workflow itself spent', () => {
    // 0-100 validate/lock/render, 100-2100 join script (a 250 ms Wait inside it), 2100-2300 checks while the Node
    // is not Ready yet, 2300-2550 Wait, Ready at 3000, 3000-3400 finish + DaemonSets, 3400-3600 routing script, end
    const split = nodeOverhead({
      nodeName: 'fleet-0001',
      startedAt: 0,
      endedAt: 3700,
      waits: [
        [500, 750],
        [2300, 2550],
      ],
      scripts: [
        [100, 2100],
        [3400, 3600],
      ],
      readyAt: 3000,
    });
    expect(split).toEqual({
      nodeName: 'fleet-0001',
      wallMs: 3700,
      waitMs: 500,
      hostScriptMs: 1750 + 200,
      // from the join's end (2100) to Ready (3000), less the Wait already counted
      nodeReadyMs: 900 - 250,
      overheadMs: 100 + 400 + 100,
    });
    expect(split.waitMs + split.hostScriptMs + split.nodeReadyMs + split.overheadMs).toBe(split.wallMs);
  });

  it('counts the wait for Ready as overhead when the Ready moment is unknown', () => {
    const split = nodeOverhead({ nodeName: 'n', startedAt: 0, endedAt: 1000, waits: [], scripts: [[0, 400]] });
    expect(split).toMatchObject({ hostScriptMs: 400, nodeReadyMs: 0, overheadMs: 600 });
  });
});
