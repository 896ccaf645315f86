// The gateway's people-facing API over HTTP, as `dsg` calls it: a Bearer token on every /v1 call,
// query members for GET, a JSON body for POST/PUT, an Idempotency-Key where the route needs one.
// Every failure becomes a CliError with the exit code of its kind (errors.mjs): the gateway's
// problem+json (RFC 9457) is kept whole for --json and read out for people. The token is never
// part of a message.
import { CliError, EXIT, usageError } from './errors.mjs';

const NETWORK_CODES = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be resolved',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_SOCKET: 'the connection was closed',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
};

export class Gateway {
  /**
   * @param {{ url: string, token?: string, timeoutMs: number }} options
   */
  constructor({ url, token, timeoutMs }) {
    let base;
    try {
      base = new URL(url);
    } catch {
      throw usageError(`--url is not a URL: ${url}`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw usageError(`--url must be http:// or https://, not ${base.protocol}`);
    }
    if (base.username || base.password) {
      throw usageError(
        '--url must not carry credentials: pass the token with --token or DSG_TOKEN',
      );
    }
    /** The base without a trailing slash; paths are appended to it (it may have a prefix). */
    this.base = base.href.replace(/\/+$/, '');
    this.token = token;
    this.timeoutMs = timeoutMs;
  }

  /** A JSON call to a /v1 route; answers the parsed reply. */
  async json(method, path, { query, body, idempotencyKey } = {}) {
    const res = await this.send(method, path, {
      query,
      body,
      idempotencyKey,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    return this.read(res, () => res.json());
  }

  /** A file from a /v1 route (a PDF): its bytes. */
  async bytes(path, { query } = {}) {
    const res = await this.send('GET', path, {
      query,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    return this.read(res, async () => Buffer.from(await res.arrayBuffer()));
  }

  /**
   * A streamed /v1 answer: the Response once its headers are in (status 2xx), its body not read.
   * `signal` is the caller's, to cut a stalled stream.
   */
  async stream(path, { query, signal }) {
    const res = await this.send('GET', path, { query, signal, accept: '*/*' });
    if (!res.ok) throw await this.failure(res);
    return res;
  }

  /** A public route (no token): the parsed JSON whatever its status, and the status. */
  async publicJson(path) {
    const signal = AbortSignal.timeout(this.timeoutMs);
    const res = await this.fetch(`${this.base}${path}`, {
      headers: { accept: 'application/json' },
      signal,
    });
    let body;
    try {
      body = await res.json();
    } catch (err) {
      throw this.unreachable(err, `${this.base}${path}`) ?? this.notJson(res);
    }
    return { status: res.status, body };
  }

  async send(method, path, { query, body, idempotencyKey, signal, accept = 'application/json' }) {
    if (!this.token) {
      throw new CliError('no token: pass --token TOKEN or set DSG_TOKEN', EXIT.AUTH, {
        details: ['a local one for development: DSG_TOKEN=$(npm run --silent token -- auditor)'],
      });
    }
    const url = new URL(`${this.base}${path}`);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
    }
    const headers = { authorization: `Bearer ${this.token}`, accept };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    return this.fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  }

  async fetch(url, init) {
    let failure;
    try {
      return await fetch(url, init);
    } catch (err) {
      failure = err;
    }
    // A kept-alive connection the server closed just as it was reused: a read is asked once
    // more on a new one (a command is not: the caller decides, with its Idempotency-Key).
    const code = failure?.cause?.code;
    const reused = code === 'UND_ERR_SOCKET' || code === 'ECONNRESET';
    if (reused && (init.method ?? 'GET') === 'GET' && !init.signal?.aborted) {
      try {
        return await fetch(url, init);
      } catch (again) {
        failure = again;
      }
    }
    throw this.unreachable(failure, String(url).split('?')[0]) ?? failure;
  }

  /** A reply's body read by `parse` when it is a success; else the failure it says. */
  async read(res, parse) {
    if (!res.ok) throw await this.failure(res);
    try {
      return await parse();
    } catch (err) {
      throw this.unreachable(err, res.url.split('?')[0]) ?? this.notJson(res);
    }
  }

  /** A network failure or timeout as a CliError (exit 3); undefined for anything else. */
  unreachable(err, where) {
    if (err instanceof CliError) return err;
    if (err?.name === 'TimeoutError') {
      return new CliError(
        `the gateway did not answer within ${Math.round(this.timeoutMs / 1000)} s (${where})`,
        EXIT.UNAVAILABLE,
        { details: ['a slow query may need a longer --timeout SECONDS'] },
      );
    }
    if (err?.name === 'AbortError') {
      return new CliError(`the transfer from ${where} was cut off`, EXIT.UNAVAILABLE);
    }
    if (err instanceof TypeError && (err.message === 'fetch failed' || err.cause)) {
      const code = err.cause?.code;
      const why = NETWORK_CODES[code] ?? err.cause?.message ?? err.message;
      return new CliError(
        `cannot reach the gateway at ${this.base}: ${why}${code && NETWORK_CODES[code] ? ` (${code})` : ''}`,
        EXIT.UNAVAILABLE,
        { details: ['is it running? --url or DSG_URL says where it is'] },
      );
    }
    return undefined;
  }

  notJson(res) {
    return new CliError(
      `the gateway's answer (HTTP ${res.status}) is not the JSON expected: is --url the gateway?`,
      EXIT.UNAVAILABLE,
    );
  }

  /** A non-2xx response as a CliError: the problem it carries, with the exit code of its kind. */
  async failure(res) {
    const status = res.status;
    let problem;
    const text = await res.text().catch(() => '');
    if (/json/.test(res.headers.get('content-type') ?? '')) {
      try {
        const parsed = JSON.parse(text);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) problem = parsed;
      } catch {
        // not JSON after all: said below from the status alone
      }
    }
    const code = typeof problem?.code === 'string' ? problem.code : undefined;
    const detail =
      typeof problem?.detail === 'string'
        ? problem.detail
        : typeof problem?.title === 'string'
          ? problem.title
          : text.trim().split('\n')[0].slice(0, 200) || res.statusText || 'no detail';
    const [exitCode, what] =
      status === 401
        ? [EXIT.AUTH, 'not authenticated']
        : status === 403
          ? [EXIT.AUTH, 'not allowed']
          : status === 429 || status >= 500
            ? [EXIT.UNAVAILABLE, 'the gateway could not do it now']
            : [EXIT.INVALID, 'refused'];
    const details = [];
    for (const e of Array.isArray(problem?.errors) ? problem.errors : []) {
      details.push(`${e.field ?? '?'}: ${e.message ?? e.constraint ?? 'invalid'}`);
    }
    if (status === 401) {
      details.push('the token is missing, expired or not from the issuer the gateway trusts');
    }
    const retryAfter = res.headers.get('retry-after');
    if (status === 429 && retryAfter) details.push(`retry after ${retryAfter} s`);
    if (typeof problem?.correlationId === 'string') {
      details.push(`correlation id: ${problem.correlationId} (for the gateway's operators)`);
    }
    return new CliError(`${what} (HTTP ${status}${code ? ` ${code}` : ''}): ${detail}`, exitCode, {
      details,
      problem: problem ?? { status, detail },
      status,
    });
  }
}
