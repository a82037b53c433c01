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

const BAD_INPUT_CODES = ['invalid_addr', 'invalid_value', 'value_too_large', 'bad_json', 'bad_content_type', 'body_too_large', 'bad_request'] as const;
export type BadInputCode = (typeof BAD_INPUT_CODES)[number];

/** The request or command line is malformed; nothing was changed. */
export class BadInputError extends ShmemError {
  static readonly codes = BAD_INPUT_CODES;
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
  static readonly codes = ['not_found'] as const;
  readonly code = 'not_found';
  readonly httpStatus = 404;
}

/** Known route, wrong HTTP method. */
export class MethodNotAllowedError extends ShmemError {
  override readonly name = 'MethodNotAllowedError';
  static readonly codes = ['method_not_allowed'] as const;
  readonly code = 'method_not_allowed';
  readonly httpStatus = 405;
  constructor(message: string, readonly allowed: readonly string[]) {
    super(message);
  }
}

/** The operation could not reach a majority of the members before its deadline. */
export class QuorumUnavailableError extends ShmemError {
  override readonly name = 'QuorumUnavailableError';
  static readonly codes = ['quorum_unavailable'] as const;
  readonly code = 'quorum_unavailable';
  readonly httpStatus = 503;
}

/**
 * A write failed after its update was sent (its deadline passed, the node began to shut down, or
 * members refused it midway): it may be stored, now or later, or never. Not 503: a client that
 * moves on to another node after a 503 must not send it again as if it had not happened; it
 * reads the address and decides (docs/rmw.md, "Definite and indefinite failures").
 */
export class OutcomeUnknownError extends ShmemError {
  override readonly name = 'OutcomeUnknownError';
  static readonly codes = ['outcome_unknown'] as const;
  readonly code = 'outcome_unknown';
  readonly httpStatus = 504;
}

/**
 * A compare-and-set or add whose change refused the value it read (docs/rmw.md step 3): the
 * expected value or tag did not match, the value is not a decimal integer, or the sum is past
 * ±(2^53−1). Nothing changed; `current` is what it read, durable on a quorum (a linearizable
 * read), so a client can retry without reading again.
 */
export class ChangeRefusedError extends ShmemError {
  override readonly name = 'ChangeRefusedError';
  static readonly codes = ['cas_mismatch', 'not_a_number', 'out_of_range'] as const;
  readonly httpStatus = 409;
  constructor(readonly code: (typeof ChangeRefusedError.codes)[number], message: string, readonly addr: number, readonly current: { readonly value: string | null; readonly tag: object }) {
    super(message);
  }
}

/** A peer is configured with a different member set; it is never counted in a quorum. */
export class MembershipMismatchError extends ShmemError {
  override readonly name = 'MembershipMismatchError';
  static readonly codes = ['membership_mismatch'] as const;
  readonly code = 'membership_mismatch';
  readonly httpStatus = 409;
}

/** The request carries no credentials, or ones this node does not know (no token, unknown token, no certificate, no cluster secret). */
export class UnauthenticatedError extends ShmemError {
  override readonly name = 'UnauthenticatedError';
  static readonly codes = ['unauthenticated'] as const;
  readonly code = 'unauthenticated';
  readonly httpStatus = 401;
}

/** The caller is known but its role (or its certificate, or its cluster secret) does not allow this. */
export class PermissionDeniedError extends ShmemError {
  override readonly name = 'PermissionDeniedError';
  static readonly codes = ['permission_denied'] as const;
  readonly code = 'permission_denied';
  readonly httpStatus = 403;
}

/** The node is stopping and no longer takes operations. */
export class ShuttingDownError extends ShmemError {
  override readonly name = 'ShuttingDownError';
  static readonly codes = ['shutting_down'] as const;
  readonly code = 'shutting_down';
  readonly httpStatus = 503;
}

/** This replica lost its data (wiped data dir) and is copying it back; it does not count yet. */
export class RecoveringError extends ShmemError {
  override readonly name = 'RecoveringError';
  static readonly codes = ['recovering'] as const;
  readonly code = 'recovering';
  readonly httpStatus = 503;
}

/**
 * The store cannot commit (disk full, I/O error) or read (I/O error, a damaged database file);
 * nothing half-written was acknowledged. Peers retry elsewhere; clients get 503.
 */
export class StorageUnavailableError extends ShmemError {
  override readonly name = 'StorageUnavailableError';
  static readonly codes = ['storage_unavailable'] as const;
  readonly code = 'storage_unavailable';
  readonly httpStatus = 503;
}

/** A stored register failed its checksum; this replica does not vouch for it until repaired. */
export class RegisterDamagedError extends ShmemError {
  override readonly name = 'RegisterDamagedError';
  static readonly codes = ['register_damaged'] as const;
  readonly code = 'register_damaged';
  readonly httpStatus = 503;
}

/** The node is at a bound of its own (connections, bytes in flight) and refuses more for now. */
export class OverloadedError extends ShmemError {
  override readonly name = 'OverloadedError';
  static readonly codes = ['overloaded'] as const;
  readonly code = 'overloaded';
  readonly httpStatus = 503;
}

/**
 * A peer request met another configuration state of the member set than it was sent under
 * (docs/membership.md): `stale_config` (the sender is behind; `state` is ours), `config_behind`
 * (we are behind: the sender pushes its state and retries), `retired` (this member is no longer
 * in the configuration; `state` is the one that replaced it). Nothing in such an answer counts.
 */
export class ConfigStateError extends ShmemError {
  override readonly name = 'ConfigStateError';
  static readonly codes = ['stale_config', 'config_behind', 'retired'] as const;
  readonly httpStatus = 409;
  constructor(readonly code: (typeof ConfigStateError.codes)[number], message: string, readonly state?: unknown, options?: { hint?: string }) {
    super(message, options);
  }
}

/** This node is not a member of the cluster's configuration (not yet added, or removed): it coordinates nothing. */
export class NotMemberError extends ShmemError {
  override readonly name = 'NotMemberError';
  static readonly codes = ['not_member'] as const;
  readonly code = 'not_member';
  readonly httpStatus = 503;
}

/** A change of the member set was refused (nothing changed), or could not finish now (it resumes). */
export class MemberChangeError extends ShmemError {
  override readonly name = 'MemberChangeError';
  static readonly codes = ['change_refused', 'change_failed'] as const;
  readonly httpStatus: number;
  constructor(readonly code: (typeof MemberChangeError.codes)[number], message: string, options?: { hint?: string }) {
    super(message, options);
    this.httpStatus = code === 'change_refused' ? 409 : 503;
  }
}

/**
 * (CLI) A member change was sent, and its answer was lost (the node that ran it was removed by
 * it, or went away): it may have happened. The message says what the member list shows.
 */
export class ChangeUnknownError extends ShmemError {
  override readonly name = 'ChangeUnknownError';
  static readonly codes = ['change_unknown'] as const;
  readonly code = 'change_unknown';
  readonly httpStatus = undefined;
}

/** The CLI could not reach any of its endpoints. */
export class NoEndpointError extends ShmemError {
  override readonly name = 'NoEndpointError';
  static readonly codes = ['no_endpoint'] as const;
  readonly code = 'no_endpoint';
  readonly httpStatus = undefined;
}

/** A node answered with something the client does not understand. */
export class BadResponseError extends ShmemError {
  override readonly name = 'BadResponseError';
  static readonly codes = ['bad_response'] as const;
  readonly code = 'bad_response';
  readonly httpStatus = undefined;
}

/** Startup configuration is invalid (flags, environment, data dir). */
export class ConfigError extends ShmemError {
  override readonly name = 'ConfigError';
  static readonly codes = ['config_invalid'] as const;
  readonly code = 'config_invalid';
  readonly httpStatus = undefined;
}

/**
 * Every error code in the catalog, derived from the classes (each declares the codes it can
 * carry), plus the two that belong to no class: `internal` (an unexpected error, HTTP 500)
 * and `usage` (the CLI's own command-line errors, src/cli/report.ts). test/errors.test.ts
 * checks that each is documented in the README.
 */
export const ERROR_CODES: readonly string[] = [
  ...[
    BadInputError, NotFoundError, MethodNotAllowedError, QuorumUnavailableError, OutcomeUnknownError, ChangeRefusedError, MembershipMismatchError, UnauthenticatedError,
    PermissionDeniedError, ShuttingDownError, RecoveringError, StorageUnavailableError, RegisterDamagedError, OverloadedError,
    NoEndpointError, BadResponseError, ConfigError, ConfigStateError, NotMemberError, MemberChangeError, ChangeUnknownError,
  ].flatMap((c) => c.codes),
  'internal', 'usage',
];

/**
 * Failures after which an operation certainly did not happen: the client may send it again,
 * to this node or another. Any other failure of a write (outcome_unknown, internal, a lost
 * connection after the request went out) may have taken effect. docs/rmw.md has the table.
 */
const DEFINITE_FAILURE_CODES: ReadonlySet<string> = new Set([
  ...BAD_INPUT_CODES, 'not_found', 'method_not_allowed', 'unauthenticated', 'permission_denied',
  'quorum_unavailable', 'membership_mismatch', 'shutting_down', 'overloaded', 'not_member', ...ChangeRefusedError.codes,
]);

export function isDefiniteFailure(code: string | undefined): boolean {
  return code !== undefined && DEFINITE_FAILURE_CODES.has(code);
}
