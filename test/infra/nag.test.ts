import { synthTemplate } from './synth';

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged finding on the stack', () => {
    // Template.fromStack throws with the list of findings when any is left unacknowledged.
    expect(() => synthTemplate()).not.toThrow();
  });
});
