import { z } from 'zod';
import { valueAt } from '../functions/shared/schemas';
import {
  type ContextSettings,
  completeSettings,
  contextPathOf,
  contextShape,
  crossProblems,
  readSettings,
  type Settings,
  settingsEnvironment,
  settingsFromContext,
} from '../functions/shared/settings';

/**
 * Deployment settings, read from the `edgekeeper` key of the CDK context (`cdk.json` or `-c edgekeeper=…`).
 * The step settings (timeouts, keadm defaults, routing, …) come from the one table in functions/shared/settings.ts,
 * with their defaults and bounds; only what the stack alone uses is declared here. Every field has a default that
 * synthesizes without an AWS account, so `npx cdk synth` works on a fresh clone.
 */
const DeploymentOnly = {
  lambda: z
    .strictObject({
      architecture: z.enum(['arm64', 'x86_64']).default('arm64'),
      logRetentionDays: z.number().int().positive().default(30),
    })
    .prefault({}),
};

const STEP_SHAPE = contextShape();

export const EdgekeeperConfig = z.strictObject({ ...STEP_SHAPE, ...DeploymentOnly }) as unknown as z.ZodType<
  EdgekeeperConfig,
  unknown
>;
export type EdgekeeperConfig = ContextSettings & {
  readonly lambda: { readonly architecture: 'arm64' | 'x86_64'; readonly logRetentionDays: number };
};

const PREFIX = 'invalid edgekeeper settings in the CDK context';

/**
 * Parses the context value; a mistake names the key path, the value and the reason. `cdk -c edgekeeper='{…}'`
 * passes the value as a string (the CDK CLI does not parse context values), so a string is read as JSON.
 */
export function parseConfig(context: unknown): EdgekeeperConfig {
  const value = typeof context === 'string' ? parseJson(context) : (context ?? {});
  const parsed = EdgekeeperConfig.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const received = valueAt(value, issue.path);
      const shown = received === undefined ? '' : ` (got ${JSON.stringify(received)})`;
      return `${['edgekeeper', ...issue.path].join('.')}: ${issue.message}${shown}`;
    });
    throw new Error(`${PREFIX}: ${problems.join('; ')}`);
  }
  const cross = crossProblems(completeSettings(settingsFromContext(parsed.data))).map(
    (problem) => `${problem.settings.map((name) => contextPathOf(name)).join(', ')}: ${problem.reason}`,
  );
  if (cross.length > 0) throw new Error(`${PREFIX}: ${cross.join('; ')}`);
  return parsed.data;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${PREFIX}: edgekeeper is not JSON: ${(error as Error).message}`);
  }
}

/** The Lambda environment that carries the step settings (read back by `readSettings`, by the same table). */
export function stepEnvironment(config: EdgekeeperConfig): Record<string, string> {
  return settingsEnvironment(settingsFromContext(config));
}

/** The settings the steps will read when deployed with this config (for values the stack derives, e.g. timeouts). */
export function stepSettings(config: EdgekeeperConfig): Settings {
  return readSettings(stepEnvironment(config));
}
