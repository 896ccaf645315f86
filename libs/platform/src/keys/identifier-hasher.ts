import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Direct identifiers used to link records (e-mail addresses, device ids) are stored only as keyed
 * hashes: HMAC-SHA-256 under IDENTIFIER_HASH_SECRET, after normalisation. The stored form is
 * `<secret id>:<base64url mac>`; the secret id (first 8 hex of SHA-256 of the secret) says which
 * secret made it, so after a rotation (IDENTIFIER_HASH_SECRET = new, IDENTIFIER_HASH_SECRET_PREVIOUS
 * = old) both still match, and stored hashes can be re-keyed at leisure before the old secret is
 * dropped. See README: "Keys and secrets".
 */
export class IdentifierHasher {
  private readonly current: { id: string; secret: string };
  private readonly previous?: { id: string; secret: string };

  constructor(secret: string, previousSecret?: string) {
    this.current = { id: secretId(secret), secret };
    if (previousSecret) this.previous = { id: secretId(previousSecret), secret: previousSecret };
  }

  hash(kind: 'email' | 'phone' | 'device', value: string): string {
    return `${this.current.id}:${mac(this.current.secret, kind, value)}`;
  }

  /** The stored forms `value` may have: under the current secret, and the previous one. */
  candidates(kind: 'email' | 'phone' | 'device', value: string): string[] {
    return [this.current, this.previous]
      .filter((k): k is { id: string; secret: string } => k !== undefined)
      .map((k) => `${k.id}:${mac(k.secret, kind, value)}`);
  }

  /** Whether `value` is what `stored` was made from, under the current or previous secret. */
  matches(kind: 'email' | 'phone' | 'device', value: string, stored: string): boolean {
    const [id, digest] = stored.split(':');
    const key = [this.current, this.previous].find((k) => k?.id === id);
    if (!key || !digest) return false;
    const expected = Buffer.from(mac(key.secret, kind, value));
    const actual = Buffer.from(digest);
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }

  /** True when `stored` was made under the previous secret and should be re-keyed. */
  isStale(stored: string): boolean {
    return !stored.startsWith(`${this.current.id}:`);
  }
}

function normalise(kind: string, value: string): string {
  const trimmed = value.normalize('NFKC').trim();
  if (kind === 'email') return trimmed.toLowerCase();
  if (kind === 'phone') return trimmed.replace(/[^\d+]/g, '');
  return trimmed;
}

function mac(secret: string, kind: string, value: string): string {
  return createHmac('sha256', secret)
    .update(`${kind}\u0000${normalise(kind, value)}`)
    .digest('base64url');
}

function secretId(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 8);
}
