import { invalid } from '../errors';
import { R } from '../resources';
import { expirationCauses, TOKEN_EXPIRATION_BOUNDS, type TokenAuthenticator } from '../tokens';
import { isJsonObject, type Json } from '../types';
import type { ResourceApi } from './resources';

/**
 * `POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token` (the TokenRequest API): a bounded token for an
 * existing ServiceAccount (404 otherwise), `spec.expirationSeconds` defaulting to an hour and refused below ten
 * minutes (422), as the API server does. Audiences and bound objects are echoed, not enforced: the sandbox has one
 * audience and binds nothing.
 */
export function requestToken(
  api: ResourceApi,
  tokens: TokenAuthenticator,
  namespace: string,
  name: string,
  body: Json | undefined,
): Record<string, unknown> {
  api.get(R.serviceaccounts, namespace, name);
  const spec = isJsonObject(body) && isJsonObject(body.spec) ? body.spec : {};
  const causes = expirationCauses(spec.expirationSeconds);
  if (causes.length > 0) {
    throw invalid({ ...R.serviceaccounts, kind: 'TokenRequest', group: 'authentication.k8s.io' }, name, causes);
  }
  const expirationSeconds =
    typeof spec.expirationSeconds === 'number' ? spec.expirationSeconds : TOKEN_EXPIRATION_BOUNDS.default;
  const status = tokens.issue({ namespace, name }, expirationSeconds);
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name, namespace, creationTimestamp: null },
    spec: {
      audiences:
        Array.isArray(spec.audiences) && spec.audiences.length > 0
          ? spec.audiences
          : ['https://kubernetes.default.svc.cluster.local'],
      expirationSeconds,
      boundObjectRef: spec.boundObjectRef ?? null,
    },
    status,
  };
}
