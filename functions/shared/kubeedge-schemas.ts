import { formatProblem } from './errors';
import * as z from './zod';

/*
 * The KubeEdge vocabulary the deployment settings (settings.ts) and the join settings share: download region, keadm
 * family, cloudcore's public ports. Kept apart from the onboarding schemas (schemas.ts), which a step that does not
 * parse a request would otherwise build at load with the settings every step reads (ADR 0016).
 */

/** Download regions KubeSphere knows: `zh` (qingstor mirror) and `en` (GitHub releases). */
export const Region = z.enum(['zh', 'en'], {
  error: (issue) => formatProblem({ field: 'region', value: issue.input, reason: 'must be zh or en' }),
});
export type Region = z.infer<typeof Region>;

/** Which keadm family runs on the host: the KubeSphere fork or upstream KubeEdge (docs/kubeedge.md §1). */
export const KeadmProfile = z.enum(['fork', 'upstream']);
export type KeadmProfile = z.infer<typeof KeadmProfile>;

/** A TCP/UDP port number. */
function port() {
  return z.int().check(z.minimum(1), z.maximum(65535));
}

/** The public ports of cloudcore as the edge host dials them (KubeSphere's table: 10000–10004, docs/kubeedge.md §2). */
export const CloudcorePorts = z.strictObject({
  cloudhub: port(),
  quic: port(),
  https: port(),
  stream: port(),
  tunnel: port(),
});
export type CloudcorePorts = z.infer<typeof CloudcorePorts>;

/** KubeSphere's port-forwarding table: external ports 10000–10004 (docs/kubeedge.md §2). */
export const DEFAULT_CLOUDCORE_PORTS: CloudcorePorts = Object.freeze({
  cloudhub: 10000,
  quic: 10001,
  https: 10002,
  stream: 10003,
  tunnel: 10004,
});
