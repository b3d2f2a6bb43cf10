import { z } from 'zod';
import * as zm from 'zod/mini';
import { CloudcorePorts } from '../functions/shared/kubeedge-schemas';
import { SubnetId, VpcId } from './aws-ids';

/*
 * The deployment-only settings of the operator's side of the stack (lib/config.ts adds them to the CDK context):
 * the drift-check schedule, where the alarms go, and the optional load balancer in front of cloudcore. No step
 * reads them, so they are not in the step settings table (functions/shared/settings.ts).
 */

/** The NodePorts of cloudcore's Service, as KubeSphere's port-forwarding table has them (docs/kubeedge.md §2). */
export const DEFAULT_CLOUDCORE_NODE_PORTS: CloudcorePorts = Object.freeze({
  cloudhub: 30000,
  quic: 30001,
  https: 30002,
  stream: 30003,
  tunnel: 30004,
});

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const MINUTES_PER = { minute: 1, hour: 60, day: 1440 } as const;
/** A drift check walks every edge node: more often than this only repeats the last report, at the same cost. */
export const MIN_DRIFT_INTERVAL_MINUTES = 5;

/**
 * Why a schedule expression is refused, or undefined when EventBridge Scheduler takes it and it runs no more often
 * than every {@link MIN_DRIFT_INTERVAL_MINUTES} minutes: `rate(<n> <unit>)` (the unit singular for 1, as Scheduler
 * requires) or `cron(<6 fields>)`. A cron's frequency is Scheduler's to check.
 */
export function driftScheduleProblem(expression: string): string | undefined {
  if (/^cron\(\S+( \S+){5}\)$/.test(expression)) return undefined;
  const rate = RATE.exec(expression);
  if (!rate) return 'must be rate(<n> minutes|hours|days) or cron(<minutes> <hours> <day> <month> <weekday> <year>)';
  const value = Number(rate[1]);
  const unit = rate[2] as string;
  if (value === 0) return 'a rate must be at least 1';
  if ((value === 1) !== !unit.endsWith('s')) return `write rate(1 ${unit.replace(/s$/, '')}) or rate(<n> <unit>s)`;
  const minutes = value * MINUTES_PER[unit.replace(/s$/, '') as keyof typeof MINUTES_PER];
  if (minutes < MIN_DRIFT_INTERVAL_MINUTES)
    return `must not run more often than every ${MIN_DRIFT_INTERVAL_MINUTES} minutes`;
  return undefined;
}

const DRIFT_MEMBERS = {
  /** how often EventBridge Scheduler starts drift-check */
  schedule: z
    .string()
    .superRefine((value, context) => {
      const problem = driftScheduleProblem(value);
      if (problem) context.addIssue({ code: 'custom', message: problem });
    })
    .default('rate(1 hour)'),
  /** the scheduled checks repair what is safe to repair (fence DaemonSets, restore routing, expire locks) */
  remediate: z.boolean().default(false),
  /** false: the schedule exists but starts nothing (e.g. during maintenance) */
  scheduleEnabled: z.boolean().default(true),
  /** days the report bucket keeps a run's report before its lifecycle rule deletes it */
  reportRetentionDays: z.number().int().min(1).max(3650).default(90),
};

/**
 * The `drift` group of the context. Should the step settings table ever declare settings under `drift` too, its
 * members join these in one strict object instead of one group replacing the other. The step settings are zod/mini
 * schemas: the group is recognised by zod's core classes, which classic and mini schemas share.
 */
export function driftGroup(stepGroup: z.core.$ZodType | undefined) {
  const stepMembers =
    stepGroup instanceof z.core.$ZodPrefault ? (stepGroup._zod.def.innerType as z.core.$ZodObject)._zod.def.shape : {};
  return z.strictObject({ ...stepMembers, ...DRIFT_MEMBERS }).prefault({});
}

const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

const alarms = z
  .strictObject({
    /** an existing topic for the alarms; without it the stack creates an encrypted one */
    topicArn: z
      .string()
      .regex(SNS_TOPIC_ARN, { error: 'must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)' })
      .optional(),
    /** an address subscribed to the topic (the owner confirms the subscription from the mail AWS sends) */
    email: z.email({ error: 'must be an email address' }).optional(),
  })
  .prefault({});

/** An IPv4 CIDR other than a /0: the point of the rules is to let in the edge sites' networks, not everyone. */
const CIDR = z.string().regex(/^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)\/([1-9]|[12]\d|3[0-2])$/, {
  error: 'must be an IPv4 CIDR with a prefix length from 1 to 32 (a /0 would open cloudcore to the whole internet)',
});

const cloudcoreExposure = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** the cluster nodes cloudcore's NodePorts answer on: EC2 instance ids, or one Auto Scaling group's name */
    targets: z
      .strictObject({
        instanceIds: z
          .array(z.string().regex(/^i-[0-9a-f]{8,17}$/, { error: 'must be an EC2 instance id (i-…)' }))
          .min(1, { error: 'must list at least one instance id' })
          .readonly()
          .optional(),
        autoScalingGroupName: z
          .string()
          .regex(/^[^:*\s][^:*]{0,254}$/, { error: 'must be an Auto Scaling group name' })
          .optional(),
      })
      .prefault({}),
    /** the networks the edge hosts connect from */
    allowedCidrs: z.array(CIDR).readonly().default([]),
    vpcId: VpcId.optional(),
    /** public subnets for an internet-facing load balancer, at most one per Availability Zone */
    subnetIds: z.array(SubnetId).readonly().default([]),
    /** cloudcore Service's NodePorts the load balancer forwards to */
    nodePorts: zm._default(CloudcorePorts, DEFAULT_CLOUDCORE_NODE_PORTS),
    /** false: an internal load balancer, for edge sites that reach the VPC over a VPN or Direct Connect */
    internetFacing: z.boolean().default(true),
  })
  .superRefine((exposure, context) => {
    if (!exposure.enabled) return;
    const need = (path: string[], message: string) => context.addIssue({ code: 'custom', path, message });
    if (exposure.vpcId === undefined) need(['vpcId'], 'is required when cloudcoreExposure.enabled is true');
    if (exposure.subnetIds.length === 0)
      need(['subnetIds'], 'at least one subnet id is required when cloudcoreExposure.enabled is true');
    if (exposure.allowedCidrs.length === 0)
      need(['allowedCidrs'], 'at least one CIDR is required when cloudcoreExposure.enabled is true');
    const { instanceIds, autoScalingGroupName } = exposure.targets;
    if ((instanceIds === undefined) === (autoScalingGroupName === undefined))
      need(['targets'], 'give either instanceIds or autoScalingGroupName when cloudcoreExposure.enabled is true');
  })
  .prefault({});

/** The shapes lib/config.ts adds to the CDK context (`drift` is built there, from the step settings' own group). */
export const OPERATIONS_SHAPE = { alarms, cloudcoreExposure } as const;

export interface DriftConfig {
  readonly schedule: string;
  readonly remediate: boolean;
  readonly scheduleEnabled: boolean;
  readonly reportRetentionDays: number;
}

export interface AlarmsConfig {
  readonly topicArn?: string;
  readonly email?: string;
}

export interface CloudcoreExposureConfig {
  readonly enabled: boolean;
  readonly targets: { readonly instanceIds?: readonly string[]; readonly autoScalingGroupName?: string };
  readonly allowedCidrs: readonly string[];
  readonly vpcId?: string;
  readonly subnetIds: readonly string[];
  readonly nodePorts: CloudcorePorts;
  readonly internetFacing: boolean;
}

/**
 * Settings that contradict each other across groups. With the load balancer on, its DNS name is cloudcore's public
 * address: a `cloudcore.publicAddress` as well would be silently ignored, so it is refused instead.
 */
export function operationsProblems(config: {
  readonly cloudcoreExposure: CloudcoreExposureConfig;
  // optional in the type only: the step settings' groups are built at run time, so their keys are not typed here
  readonly cloudcore?: { readonly publicAddress?: string };
}): { path: string[]; message: string }[] {
  if (config.cloudcoreExposure.enabled && config.cloudcore?.publicAddress !== undefined)
    return [
      {
        path: ['cloudcore', 'publicAddress'],
        message:
          "must be unset when cloudcoreExposure.enabled is true: the load balancer's DNS name is cloudcore's public address",
      },
    ];
  return [];
}
