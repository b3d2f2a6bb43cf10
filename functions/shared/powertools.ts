import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * One Logger, Metrics and Tracer per Lambda, created at module scope so a warm function reuses them.
 * Service name and namespace come from POWERTOOLS_* variables that CDK sets; the defaults serve local runs.
 * Tracer is inactive outside Lambda; the local runtime sets POWERTOOLS_DEV so logs go through the global console
 * (which the CLI redirects) and metrics are not emitted.
 */
export const logger = new Logger({ serviceName: 'edgekeeper' });
export const metrics = new Metrics({ namespace: 'Edgekeeper', serviceName: 'edgekeeper' });
export const tracer = new Tracer({ serviceName: 'edgekeeper' });
