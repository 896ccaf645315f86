import type { ErrorBody } from './errors';

/** Every NATS reply is one of these, JSON-encoded. */
export type ReplyEnvelope<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };

/** NATS headers the platform reads and writes. */
export const Headers = {
  /** Same key, same request: a retry. The typed client reuses it across its own retries. */
  IDEMPOTENCY_KEY: 'Idempotency-Key',
  /** Correlates log lines of one call across services. */
  REQUEST_ID: 'Request-Id',
  /** The gateway-signed assertion of the person acting (see identity/identity.ts). */
  ASSERTION: 'Dsg-Assertion',
  /**
   * On a reply: raw bytes follow the JSON envelope, after its first newline (which JSON text
   * never holds unescaped). For bulk data, which JSON would have to escape and unescape.
   */
  BODY: 'Dsg-Body',
} as const;

/**
 * What an Idempotency-Key a person's client sends the gateway may be (a UUID will do). The
 * `dsg` CLI checks the same pattern before it sends one (scripts/lib/dsg/commands.mjs).
 */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * A handler's answer with raw bytes besides its JSON data (Headers.BODY): the typed client sets
 * them as the reply's `body`.
 */
export class WithBody<T> {
  constructor(
    readonly data: T,
    /** The bytes, or their parts in order (joined once, into the reply). */
    readonly body: Uint8Array | readonly Uint8Array[],
  ) {}
}

/** Subjects in contracts are relative; on the wire they carry the deployment's prefix. */
export function qualifySubject(prefix: string, subject: string): string {
  return `${prefix}.${subject}`;
}

/**
 * Request subjects name their caller: `<prefix>.rpc.<caller>.<subject>`. The NATS server lets a
 * user publish only under its own name (deploy/nats/nats-server.conf), so the caller token is
 * enforced identity, not a claim.
 */
export function rpcSubject(prefix: string, caller: string, subject: string): string {
  return `${prefix}.rpc.${caller}.${subject}`;
}

/** What a service subscribes to for one operation: any caller. */
export function rpcSubscription(prefix: string, subject: string): string {
  return `${prefix}.rpc.*.${subject}`;
}

/** The caller token of a request subject (see rpcSubject). */
export function callerOf(wireSubject: string): string {
  return wireSubject.split('.')[2] ?? '';
}

/** Caller names are NATS user names: one token, no wildcards. */
export const CALLER_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;

/**
 * Each NATS user receives replies and JetStream deliveries under its own inbox prefix, and may
 * subscribe only there (deploy/nats/nats-server.conf): pass it as the connection's inboxPrefix.
 */
export function inboxPrefixFor(user: string): string {
  return `_INBOX_${user}`;
}
