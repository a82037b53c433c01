/**
 * The error catalog (fastify style): every error that crosses a boundary has a stable
 * `code`, an HTTP status where it applies, and an optional `hint` for the person reading it.
 * Errors are mapped to HTTP only in server/http-errors.ts and to exit codes only in
 * commands/base.ts. test/errors.test.ts checks that every code is documented in README.md.
 */
export abstract class ShmemError extends Error {
  abstract readonly code: string;
  abstract readonly httpStatus: number | undefined;
  readonly hint: string | undefined;

  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options?.hint;
  }
}

export type BadInputCode =
  | 'invalid_addr' | 'invalid_value' | 'value_too_large' | 'bad_json' | 'bad_content_type'
  | 'body_too_large' | 'bad_request';

/** The request or command line is malformed; nothing was changed. */
export class BadInputError extends ShmemError {
  override readonly name = 'BadInputError';
  readonly httpStatus: number;
  constructor(readonly code: BadInputCode, message: string, options?: { hint?: string }) {
    super(message, options);
    this.httpStatus = code === 'body_too_large' ? 413 : code === 'bad_content_type' ? 415 : 400;
  }
}

/** Unknown route. */
export class NotFoundError extends ShmemError {
  override readonly name = 'NotFoundError';
  readonly code = 'not_found';
  readonly httpStatus = 404;
}

/** Known route, wrong HTTP method. */
export class MethodNotAllowedError extends ShmemError {
  override readonly name = 'MethodNotAllowedError';
  readonly code = 'method_not_allowed';
  readonly httpStatus = 405;
  constructor(message: string, readonly allowed: readonly string[]) {
    super(message);
  }
}

/** The operation could not reach a majority of the members before its deadline. */
export class QuorumUnavailableError extends ShmemError {
  override readonly name = 'QuorumUnavailableError';
  readonly code = 'quorum_unavailable';
  readonly httpStatus = 503;
}

/** A peer is configured with a different member set; it is never counted in a quorum. */
export class MembershipMismatchError extends ShmemError {
  override readonly name = 'MembershipMismatchError';
  readonly code = 'membership_mismatch';
  readonly httpStatus = 409;
}

/** The request carries no credentials, or ones this node does not know (no token, unknown token, no certificate, no cluster secret). */
export class UnauthenticatedError extends ShmemError {
  override readonly name = 'UnauthenticatedError';
  readonly code = 'unauthenticated';
  readonly httpStatus = 401;
}

/** The caller is known but its role (or its certificate, or its cluster secret) does not allow this. */
export class PermissionDeniedError extends ShmemError {
  override readonly name = 'PermissionDeniedError';
  readonly code = 'permission_denied';
  readonly httpStatus = 403;
}

/** The node is stopping and no longer takes operations. */
export class ShuttingDownError extends ShmemError {
  override readonly name = 'ShuttingDownError';
  readonly code = 'shutting_down';
  readonly httpStatus = 503;
}

/** This replica lost its data (wiped data dir) and is copying it back; it does not count yet. */
export class RecoveringError extends ShmemError {
  override readonly name = 'RecoveringError';
  readonly code = 'recovering';
  readonly httpStatus = 503;
}

/**
 * The store cannot commit (disk full, I/O error) or read (I/O error, a damaged database file);
 * nothing half-written was acknowledged. Peers retry elsewhere; clients get 503.
 */
export class StorageUnavailableError extends ShmemError {
  override readonly name = 'StorageUnavailableError';
  readonly code = 'storage_unavailable';
  readonly httpStatus = 503;
}

/** A stored register failed its checksum; this replica does not vouch for it until repaired. */
export class RegisterDamagedError extends ShmemError {
  override readonly name = 'RegisterDamagedError';
  readonly code = 'register_damaged';
  readonly httpStatus = 503;
}

/** The node is at a bound of its own (connections, bytes in flight) and refuses more for now. */
export class OverloadedError extends ShmemError {
  override readonly name = 'OverloadedError';
  readonly code = 'overloaded';
  readonly httpStatus = 503;
}

/** The CLI could not reach any of its endpoints. */
export class NoEndpointError extends ShmemError {
  override readonly name = 'NoEndpointError';
  readonly code = 'no_endpoint';
  readonly httpStatus = undefined;
}

/** A node answered with something the client does not understand. */
export class BadResponseError extends ShmemError {
  override readonly name = 'BadResponseError';
  readonly code = 'bad_response';
  readonly httpStatus = undefined;
}

/** Startup configuration is invalid (flags, environment, data dir). */
export class ConfigError extends ShmemError {
  override readonly name = 'ConfigError';
  readonly code = 'config_invalid';
  readonly httpStatus = undefined;
}

/** Every error code in the catalog, for the documentation test. */
export const ERROR_CODES: readonly string[] = [
  'invalid_addr', 'invalid_value', 'value_too_large', 'bad_json', 'bad_content_type', 'body_too_large',
  'bad_request', 'not_found', 'method_not_allowed', 'quorum_unavailable', 'membership_mismatch',
  'shutting_down', 'recovering', 'no_endpoint', 'bad_response', 'config_invalid', 'internal',
  'unauthenticated', 'permission_denied', 'storage_unavailable', 'register_damaged', 'overloaded',
];
