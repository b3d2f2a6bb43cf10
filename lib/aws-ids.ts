import { z } from 'zod';

/*
 * The shapes of the AWS resource ids the deployment settings name (lib/config.ts, lib/operations-settings.ts):
 * checked when the stack is built, since nothing is looked up in the account.
 */

export const VpcId = z.string().regex(/^vpc-[0-9a-f]{8,17}$/, { error: 'must be a VPC id (vpc-…)' });
export const SubnetId = z.string().regex(/^subnet-[0-9a-f]{8,17}$/, { error: 'must be a subnet id (subnet-…)' });
export const SecurityGroupId = z.string().regex(/^sg-[0-9a-f]{8,17}$/, { error: 'must be a security group id (sg-…)' });
