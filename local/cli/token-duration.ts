/*
 * The bounds of `credentials create --duration`, apart from credentials.ts so that the CLI's command wiring can
 * show the default in its help without loading the Kubernetes client and the SSM client.
 */

/**
 * Bounds of `--duration`, the lifetime asked of the token. The shortest is the API server's own minimum for a
 * TokenRequest. The longest, 90 days, is the rotation period common policies set for long-lived credentials: a
 * longer-lived bearer token is close to the never-expiring Secret tokens this command exists to replace. The
 * default, 30 days, means one rerun a month.
 */
export const TOKEN_DURATION = { minSeconds: 10 * 60, maxSeconds: 2160 * 3600, default: '720h' } as const;
