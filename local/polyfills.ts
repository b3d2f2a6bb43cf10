/**
 * aws-local-stepfunctions 3.0.0 calls `Promise.withResolvers`, which Node.js gained in 22.
 * Node 20 is supported here, so every entry point that runs ASL locally loads this first.
 */
const promiseCtor = Promise as unknown as { withResolvers?: unknown };
if (typeof promiseCtor.withResolvers !== 'function') {
  promiseCtor.withResolvers = function withResolvers<T>() {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
