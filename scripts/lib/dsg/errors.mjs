// The exit codes of `dsg`, and the one error class its commands throw. A command never exits by
// itself: it returns (0) or throws a CliError, and scripts/dsg.mjs prints it and exits with its
// code. Anything else thrown is a defect of the tool: it is reported in one line, never as a
// stack trace (DSG_DEBUG=1 shows the stack).

export const EXIT = Object.freeze({
  /** Done; what was checked is valid. */
  OK: 0,
  /** What was checked does not verify, or the gateway refused the request (4xx, not 401/403). */
  INVALID: 1,
  /** A bad command line, or a local file that cannot be read or written. */
  USAGE: 2,
  /** The gateway cannot be reached, failed (5xx), is busy (429), or a transfer broke off. */
  UNAVAILABLE: 3,
  /** No token, a token the gateway does not accept (401), or one without the role (403). */
  AUTH: 4,
});

export const EXIT_CODES_HELP = `Exit codes:
  0  done; the export or the register verifies
  1  invalid: an export or the register does not verify, or the gateway refused the
     request (400 validation, 404 not found, 409 conflict ...)
  2  usage: a bad command line, or a local file that cannot be read or written
  3  unavailable: the gateway cannot be reached, did not answer in time, failed (5xx),
     is busy (429), or a download broke off (nothing is left behind)
  4  authentication: no token, the token was refused (401), or it lacks the role (403)`;

export class CliError extends Error {
  /**
   * @param {string} message one line, for a person
   * @param {number} exitCode one of EXIT
   * @param {{ details?: string[], problem?: Record<string, unknown>, status?: number }} [extra]
   *   details: further lines (field errors, a hint); problem: the gateway's problem+json
   */
  constructor(message, exitCode, extra = {}) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.details = extra.details ?? [];
    this.problem = extra.problem;
    this.status = extra.status;
  }
}

export const usageError = (message, details) => new CliError(message, EXIT.USAGE, { details });
