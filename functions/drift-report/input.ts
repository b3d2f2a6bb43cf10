import { FINDING_TYPE_NAMES } from '../drift-findings/findings';
import * as z from '../shared/zod';

/** The report step's input: the summaries of the two checks and of the remediation, as the workflow passes them. */
const FindingSchema = z.object({
  type: z.enum(FINDING_TYPE_NAMES as [string, ...string[]]),
  severity: z.enum(['high', 'medium', 'low']),
  object: z.string(),
  seen: z.string(),
  expected: z.string(),
  fix: z.enum(['automatic', 'manual']),
  fixed: z.optional(z.boolean()),
});

const CheckResultSchema = z.object({
  check: z.string(),
  counts: z.record(z.string(), z.int().check(z.minimum(0))),
  sample: z.array(FindingSchema),
  notes: z.array(z.string()),
});

export const DriftReportInput = z.object({
  operationId: z.string().check(z.minLength(1)),
  remediate: z.boolean(),
  cluster: CheckResultSchema,
  hosts: CheckResultSchema,
  remediation: CheckResultSchema,
});
