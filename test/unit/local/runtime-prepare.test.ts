import { join } from 'node:path';
import { listAslFiles } from '../../../lib/asl';

const REPO = join(__dirname, '..', '..', '..');

describe('preparing a workflow ahead of its first run', () => {
  afterEach(() => jest.resetModules());

  it("loads its steps' handlers and those of the workflow it starts as its rollback", async () => {
    const loaded: string[] = [];
    const stand = (step: string) => () => {
      loaded.push(step);
      return { handler: async () => ({}) };
    };
    jest.doMock(join(REPO, 'functions/validate-onboard-request/handler.ts'), stand('validate-onboard-request'));
    // only remove-node runs it: onboard-node starts remove-node to roll a failed join back
    jest.doMock(join(REPO, 'functions/drain-node/handler.ts'), stand('drain-node'));
    const { prepareWorkflow } = require('../../../local/runtime') as typeof import('../../../local/runtime');
    await prepareWorkflow('onboard-node');
    expect(loaded.sort()).toEqual(['drain-node', 'validate-onboard-request']);
  });

  it('prepares every shipped workflow: each handler loads and each definition is valid', async () => {
    const { prepareWorkflow } = require('../../../local/runtime') as typeof import('../../../local/runtime');
    for (const { name } of listAslFiles()) await expect(prepareWorkflow(name)).resolves.toBeUndefined();
  });
});
