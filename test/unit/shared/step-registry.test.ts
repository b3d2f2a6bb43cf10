import { join } from 'node:path';
import { STEP_NAMES, STEPS } from '../../../functions/registry';
import { renewsLocks } from '../../../functions/shared/step';

const ROOT = join(__dirname, '..', '..', '..');

describe('the steps of functions/registry.ts', () => {
  // A step that reaches the cluster and was defined with defineStep would never renew its execution's Leases: a
  // long step could then lose them to another operation while it works.
  it.each(STEP_NAMES)("%s renews its execution's Leases exactly when it reaches the cluster", (name) => {
    // Act
    const { handler } = require(join(ROOT, STEPS[name].entry)) as { handler: unknown };

    // Assess
    expect(renewsLocks(handler)).toBe((STEPS[name].uses as readonly string[]).includes('kubernetes'));
  });
});
