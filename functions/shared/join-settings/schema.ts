import { CloudcorePorts, KeadmProfile, Region } from '../kubeedge-schemas';
import * as z from '../zod';

/*
 * The join settings' schema, apart from the onboarding request's (../schemas.ts): the steps after validation parse
 * these settings, never a request, and do not build its schemas at load (ADR 0016).
 */

/** Placeholder for the CPU architecture in `JoinSettings.downloadUrl`; the host script fills it in after `uname -m`. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a literal placeholder for bash, not a template
export const ARCH_PLACEHOLDER = '${arch}';

/**
 * Everything the host script needs except the join token (added at send time) and the CPU architecture (detected on
 * the host). Resolved by validation (shared/join-settings/cluster.ts), input of render-host-script; it travels through the execution history.
 */
export const JoinSettings = z.strictObject({
  nodeName: z.string(),
  nodeIp: z.string(),
  profile: KeadmProfile,
  /** Always with the leading `v`, without `-kubesphere`: `v1.6.1`. */
  version: z.string().check(z.regex(/^v\d+\.\d+\.\d+$/)),
  region: Region,
  /** Download URL of the keadm tarball with a literal `${arch}` placeholder the script fills in. */
  downloadUrl: z.string(),
  cloudcore: z.strictObject({ address: z.string(), ports: CloudcorePorts }),
  taint: z.boolean(),
  labels: z.record(z.string(), z.string()),
});
export type JoinSettings = z.infer<typeof JoinSettings>;
