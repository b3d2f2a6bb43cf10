/**
 * Host output can echo what a script was given (keadm prints its command line on some errors). Anything shaped
 * like a KubeEdge join token (`<sha256 hex>.<JWT>`) or passed as `--token` is replaced before the text reaches a
 * result, an error message or a log, so the token never lands in the execution history.
 */
const TOKEN = /[0-9a-f]{64}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g;
/** a JWT on its own (header and payload are base64url JSON, so they start with `eyJ`) */
const JWT = /eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+/g;
/** `--token=x`, `--token  x`, `--token 'x'`, `"--token","x"` (argv echoed as JSON), `EDGEKEEPER_TOKEN=x` */
const TOKEN_FLAG = /(--token(?:=|\s+|"\s*,\s*")|EDGEKEEPER_TOKEN=)('[^']*'|"[^"]*"|[^\s"']+)/g;

export const REDACTED = '<redacted>';

export function redactSecrets(text: string): string {
  return text.replace(TOKEN, REDACTED).replace(JWT, REDACTED).replace(TOKEN_FLAG, `$1${REDACTED}`);
}

/**
 * The same error (its class and name kept: the workflows match the name) with every occurrence of `secret` in its
 * message and stack replaced: a service may echo a token it refuses.
 */
export function withoutSecret(error: Error, secret: string): Error {
  if (!secret) return error;
  const scrub = (text: string) => text.split(secret).join(REDACTED);
  if (error.message.includes(secret)) error.message = scrub(error.message);
  if (error.stack?.includes(secret)) error.stack = scrub(error.stack);
  return error;
}
