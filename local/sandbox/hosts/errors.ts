/** The host fixture file is missing, unreadable or does not match its schema. */
export class HostFixtureError extends Error {
  override readonly name = 'HostFixtureError';
}

/** An edge host's namespace could not be created or set up. */
export class HostStartError extends Error {
  override readonly name = 'HostStartError';
}

/** A command was sent to a host that has been stopped. */
export class HostStoppedError extends Error {
  override readonly name = 'HostStoppedError';
}
