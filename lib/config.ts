import { z } from 'zod';
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
import { valueAt } from '../functions/shared/zod-problems';
import { SecurityGroupId, SubnetId, VpcId } from './aws-ids';
import {
  type AlarmsConfig,
  type CloudcoreExposureConfig,
  type DriftConfig,
  driftGroup,
  OPERATIONS_SHAPE,
  operationsProblems,
} from './operations-settings';

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
  /** the REST API's stage throttling, and whether the stack creates the account's API Gateway logging role */
  api: z
    .strictObject({
      throttlingRateLimit: z.number().positive().default(10),
      throttlingBurstLimit: z.number().int().positive().default(20),
      // API Gateway logs only through the account's CloudWatch role: false when the account already sets one
      cloudWatchRole: z.boolean().default(true),
    })
    .prefault({}),
  network: z
    .strictObject({
      vpcId: VpcId.optional(),
      subnetIds: z.array(SubnetId).readonly().optional(),
      securityGroupIds: z.array(SecurityGroupId).readonly().optional(),
    })
    .superRefine((network, context) => {
      // Lambda takes its subnets from the ids alone (nothing is looked up in the account), so each must be named.
      if (network.vpcId !== undefined && (network.subnetIds ?? []).length === 0) {
        context.addIssue({
          code: 'custom',
          path: ['subnetIds'],
          message: 'at least one subnet id is required when edgekeeper.network.vpcId is given',
        });
      }
      for (const key of ['subnetIds', 'securityGroupIds'] as const) {
        if (network.vpcId === undefined && network[key] !== undefined) {
          context.addIssue({ code: 'custom', path: [key], message: 'needs edgekeeper.network.vpcId as well' });
        }
      }
    })
    .prefault({}),
};

const STEP_SHAPE = contextShape();

export const EdgekeeperConfig = z
  .strictObject({ ...STEP_SHAPE, ...DeploymentOnly, ...OPERATIONS_SHAPE, drift: driftGroup(STEP_SHAPE.drift) })
  .superRefine((config, context) => {
    for (const issue of operationsProblems(config)) context.addIssue({ code: 'custom', ...issue });
  }) as unknown as z.ZodType<EdgekeeperConfig, unknown>;
export type EdgekeeperConfig = ContextSettings & {
  readonly lambda: { readonly architecture: 'arm64' | 'x86_64'; readonly logRetentionDays: number };
  readonly api: {
    readonly throttlingRateLimit: number;
    readonly throttlingBurstLimit: number;
    readonly cloudWatchRole: boolean;
  };
  /** the VPC the steps run in; all absent: outside any VPC, as before */
  readonly network: NetworkConfig;
  /** the scheduled drift check, the alarms' topic, and the optional cloudcore load balancer (lib/operations-settings.ts) */
  readonly drift: DriftConfig;
  readonly alarms: AlarmsConfig;
  readonly cloudcoreExposure: CloudcoreExposureConfig;
};

/**
 * The subnets every step runs in, and its security groups. Without `securityGroupIds` the stack creates one that
 * only lets HTTPS out (docs/operating.md says what the subnets need to reach).
 */
export interface NetworkConfig {
  readonly vpcId?: string;
  readonly subnetIds?: readonly string[];
  readonly securityGroupIds?: readonly string[];
}

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
