/**
 * An error the SSM endpoint answers with, in AWS JSON 1.1 form: HTTP 400 and `{"__type": type, "message": ...}`.
 * `type` is the SSM exception name the SDK turns into an error class (e.g. `InvalidInstanceId`).
 */
export class SsmServiceError extends Error {
  override readonly name = 'SsmServiceError';
  constructor(
    readonly type: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
  }
}
