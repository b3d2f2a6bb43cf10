import { AsyncLocalStorage } from 'node:async_hooks';
import { appendFileSync } from 'node:fs';
import { Logger, type LogItem } from '@aws-lambda-powertools/logger';
import type { LogAttributes, LogItemExtraInput, LogItemMessage } from '@aws-lambda-powertools/logger/types';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { currentEnvironment } from './settings';

/**
 * Where a local run's step logs go, read per log line from the step's environment (see `runWithEnvironment`):
 * a file path, `stderr`, or `off`. Unset in Lambda, where logs go to stdout as Powertools prints them. The local
 * runtime runs steps in the CLI's process, whose stdout carries only the result.
 */
export const LOCAL_LOG_ENV = 'EDGEKEEPER_LOCAL_LOG';

/** The keys of the step invocation running in this async context (see {@link withLogKeys}). */
const invocationKeys = new AsyncLocalStorage<LogAttributes>();

/**
 * Runs `fn` with `keys` on every log line printed in it and in everything it awaits. The keys live with the call, not
 * in the one logger: the local runtime runs several steps at once in one process, where keys appended to the
 * logger (`appendKeys`) showed on another step's lines, and one step's `resetKeys` dropped another's.
 */
export function withLogKeys<T>(keys: LogAttributes, fn: () => T): T {
  return invocationKeys.run(keys, fn);
}

class StepLogger extends Logger {
  /** the call's keys (see withLogKeys) go before the attributes the log call passes, which may override them */
  protected override createAndPopulateLogItem(
    logLevel: number,
    input: LogItemMessage,
    extraInput: LogItemExtraInput,
  ): LogItem {
    const keys = invocationKeys.getStore();
    const extra = keys ? ([keys, ...extraInput] as LogItemExtraInput) : extraInput;
    return super.createAndPopulateLogItem(logLevel, input, extra);
  }

  protected override printLog(logLevel: number, log: LogItem): void {
    const destination = currentEnvironment()[LOCAL_LOG_ENV];
    if (!destination) {
      super.printLog(logLevel, log);
      return;
    }
    if (destination === 'off') return;
    log.prepareForPrint();
    const line = `${JSON.stringify(log.getAttributes())}\n`;
    if (destination === 'stderr') process.stderr.write(line);
    else appendFileSync(destination, line);
  }

  /** children (`createChild`) print the same way */
  protected override createLogger(options?: ConstructorParameters<typeof Logger>[0]): Logger {
    return new StepLogger(options);
  }
}

/**
 * One Logger, Metrics and Tracer per Lambda, created at module scope so a warm function reuses them.
 * Service name and namespace come from POWERTOOLS_* variables that CDK sets; the defaults serve local runs.
 * Tracer is inactive outside Lambda.
 */
export const logger: Logger = new StepLogger({ serviceName: 'edgekeeper' });
/**
 * In a local run (a log destination in the step's environment) metrics go where the logs go, as EMF lines, and
 * the cold-start metric (a Lambda notion) is not emitted: the CLI's stdout carries only the result.
 */
class StepMetrics extends Metrics {
  override publishStoredMetrics(): this {
    const destination = currentEnvironment()[LOCAL_LOG_ENV];
    if (!destination) return super.publishStoredMetrics();
    if (destination !== 'off' && this.hasStoredMetrics()) {
      const line = `${JSON.stringify(this.serializeMetrics())}\n`;
      if (destination === 'stderr') process.stderr.write(line);
      else appendFileSync(destination, line);
    }
    this.clearMetrics();
    this.clearDimensions();
    this.clearMetadata();
    return this;
  }

  override captureColdStartMetric(functionName?: string): void {
    if (currentEnvironment()[LOCAL_LOG_ENV]) return;
    super.captureColdStartMetric(functionName);
  }
}

export const metrics: Metrics = new StepMetrics({ namespace: 'Edgekeeper', serviceName: 'edgekeeper' });

/**
 * Created with the module, in Lambda as locally: with active tracing (every deployed step) each invocation records
 * its subsegment through it, so the X-Ray SDK it loads is part of every cold start whether it loads here or on the
 * first call (ADR 0016).
 */
export const tracer = new Tracer({ serviceName: 'edgekeeper' });

/**
 * An AWS SDK v3 client whose calls become X-Ray subsegments when tracing is on (in Lambda). Wrap a client once,
 * where the adapter creates it; outside Lambda the client is returned unchanged.
 */
export function traced<Client>(client: Client): Client {
  return tracer.captureAWSv3Client(client);
}

/** The parts of the Lambda context Powertools reads (request id, function, cold start). */
export interface LambdaContext {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
}
