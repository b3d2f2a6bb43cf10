import { type BundleBench, type BundleResult, bundleBudgets, successPathFunctions } from '../../../bench/bundles';
import onboardNode from '../../../statemachine/onboard-node.asl.json';

const task = (step: string, next: string, catchTo?: string) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: `\${${step}FunctionArn}` },
  Next: next,
  ...(catchTo ? { Catch: [{ ErrorEquals: ['States.ALL'], Next: catchTo }] } : {}),
});

describe('successPathFunctions', () => {
  it('lists the functions of an onboarding over SSM, in the order onboard-node first invokes them', () => {
    // Act
    const functions = successPathFunctions(onboardNode);

    // Assess
    expect(functions).toEqual([
      'ValidateOnboardRequest',
      'LockNode',
      'SendJoinScript',
      'AwaitHostCommand',
      'CheckHostCommand',
      'CheckNodeReady',
      'FinishNode',
      'RouteNodeStreams',
      'KeepDaemonSetsOffEdge',
      'ReleaseNodeLock',
    ]);
  });

  it('leaves a polling loop by the branch that moves on, and never follows a Catch', () => {
    // Prepare
    const asl = {
      StartAt: 'Check',
      States: {
        Check: task('CheckHostCommand', 'Done?', 'Undo'),
        'Done?': { Type: 'Choice', Choices: [{ Next: 'Finish' }], Default: 'Wait' },
        Wait: { Type: 'Wait', Next: 'Check' },
        Finish: task('FinishNode', 'Report'),
        Report: { Type: 'Pass', End: true },
        Undo: task('DeleteNode', 'Failed'),
        Failed: { Type: 'Fail' },
      },
    };

    // Act
    const functions = successPathFunctions(asl);

    // Assess
    expect(functions).toEqual(['CheckHostCommand', 'FinishNode']);
  });

  it('refuses an ASL whose every way ends in a Fail state', () => {
    // Prepare
    const asl = { StartAt: 'Check', States: { Check: task('CheckHostCommand', 'Failed'), Failed: { Type: 'Fail' } } };

    // Act
    const act = () => successPathFunctions(asl);

    // Assess
    expect(act).toThrow('the ASL has no path from StartAt to an End state');
  });

  it('refuses a function the registry does not list', () => {
    // Prepare
    const asl = { StartAt: 'Check', States: { Check: { ...task('Unknown', 'End'), Next: undefined, End: true } } };

    // Act
    const act = () => successPathFunctions(asl);

    // Assess
    expect(act).toThrow('state Check invokes Unknown, which functions/registry.ts does not list');
  });
});

describe('bundleBudgets', () => {
  const bundle = (name: string, kubernetes: boolean, bytes: number, loadMs: number): BundleResult =>
    ({
      name,
      kubernetes,
      bytes,
      mapBytes: 0,
      packages: [],
      loadMs,
      loadWithSourceMapsMs: null,
      loadError: null,
    }) as BundleResult;

  it('holds each kind of handler to its size, every handler to the load ratio, and sums the cold onboarding', () => {
    // Prepare
    const bench: BundleBench = {
      runs: 5,
      buildMs: 1,
      mapRuns: 0,
      bareNodeMs: 50,
      bundles: [
        bundle('CheckNodeReady', true, 1_100_000, 90),
        bundle('DrainNode', true, 1_250_000, 80),
        bundle('CheckHostCommand', false, 290_000, 120),
        bundle('ReadChildFailure', false, 250_000, 60),
      ],
      coldOnboarding: { functions: ['CheckNodeReady', 'CheckHostCommand'], moduleInitMs: 110 },
    };

    // Act
    const budgets = bundleBudgets(bench);

    // Assess
    expect(budgets.map((b) => [b.id, b.value, b.limit, b.holds, b.note])).toEqual([
      ['bundles.kubernetesMaxBytes', 1_250_000, 1_200_000, false, 'DrainNode'],
      ['bundles.otherMaxBytes', 290_000, 300_000, true, 'CheckHostCommand'],
      ['bundles.loadRatioMax', 2.4, 2, false, 'CheckHostCommand; bare node 50 ms'],
      ['bundles.coldOnboardingModuleInitMs', 110, 1_500, true, 'CheckNodeReady, CheckHostCommand'],
    ]);
  });
});
