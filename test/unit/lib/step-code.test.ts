import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { STEPS, type StepName } from '../../../functions/registry';
import { StepBundler } from '../../../lib/constructs/step-code';
import { StepLambda } from '../../../lib/constructs/step-lambda';

describe('StepLambda’s code, bundled for real', () => {
  let outdir: string;

  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'edgekeeper-step-code-'));
  });

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  /** Two steps that reach neither Kubernetes nor AWS at load: quick to bundle. */
  const steps: StepName[] = ['RenderHostScript', 'SendResetScript'];

  it('deploys each step as its own bundle alone (index.js and its map), with handler index.handler', () => {
    // Prepare
    const app = new App({ outdir });
    const stack = new Stack(app, 'Steps');
    for (const name of steps) {
      new StepLambda(stack, name, {
        spec: STEPS[name],
        environment: {},
        kubeconfigParameterName: '/edgekeeper/kubeconfig',
        hostTags: { edge: 'edgekeeper:role=edge', cloud: 'edgekeeper:role=cloud' },
      });
    }

    // Act
    const assembly = app.synth();
    const functions = Object.values(
      Template.fromJSON(assembly.getStackByName('Steps').template).findResources('AWS::Lambda::Function'),
    ) as { Properties: { Handler: string; Code: { S3Key: string }; Environment: { Variables: object } } }[];
    const assets = functions.map((fn) =>
      readdirSync(join(outdir, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`)).sort(),
    );

    // Assess
    expect({
      handlers: functions.map((fn) => fn.Properties.Handler),
      // one bundle per step: CDK keys its staging on the bundling options, which name the entry
      distinctAssets: new Set(functions.map((fn) => fn.Properties.Code.S3Key)).size,
      assets,
      // NodejsFunction sets AWS_NODEJS_CONNECTION_REUSE_ENABLED only for an SDK v2 runtime (Node.js 16 and older)
      environments: functions.map((fn) => Object.keys(fn.Properties.Environment.Variables).sort()),
    }).toEqual({
      handlers: ['index.handler', 'index.handler'],
      distinctAssets: 2,
      assets: [
        ['index.js', 'index.js.map'],
        ['index.js', 'index.js.map'],
      ],
      environments: [
        ['NODE_OPTIONS', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME'],
        ['NODE_OPTIONS', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME'],
      ],
    });
  }, 120_000);

  it('throws esbuild’s error, naming the step, rather than fall back to Docker', () => {
    // Prepare
    const bundler = new StepBundler('functions/no-such-step/handler.ts');
    const output = join(outdir, 'no-such-step');

    // Act
    const act = () => bundler.tryBundle(output);

    // Assess
    expect(act).toThrow(
      /esbuild could not bundle step functions\/no-such-step\/handler\.ts \(it exited with 1\):\n.*Could not resolve/s,
    );
  }, 60_000);
});
