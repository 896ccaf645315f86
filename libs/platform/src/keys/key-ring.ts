import type { PublicSigningKey, ServiceName, Signature } from '@dsg/contracts';
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import type { DataSource } from 'typeorm';
import { ident } from '../database/migration-helpers';

interface KeyRow {
  kid: string;
  public_key: string;
  private_key: Buffer;
  created_at: Date;
  activated_at: Date | null;
  retired_at: Date | null;
}

interface LoadedKey {
  kid: string;
  publicKey: KeyObject;
  privateKey?: KeyObject;
  createdAt: Date;
  retiredAt?: Date;
  active: boolean;
}

/**
 * The one signing mechanism of a service: Ed25519 keys kept in the service's schema, the private
 * halves encrypted with SIGNING_KEY_SECRET. `sign` uses the active key and names it; `verify`
 * accepts any of the service's keys, retired ones included; `rotate` activates a new key and
 * retires the old one without invalidating what it signed.
 */
export class KeyRing {
  private keys = new Map<string, LoadedKey>();
  private activeKid?: string;
  private rejected: string[] = [];
  private readonly encryptionKey: Buffer;

  constructor(
    private readonly dataSource: DataSource,
    private readonly schema: string,
    private readonly service: ServiceName,
    secret: string,
  ) {
    this.encryptionKey = createHash('sha256').update(secret).digest();
  }

  /** Loads the keys; creates the first one when there is none (once, across replicas). */
  async init(): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `dsg-keys:${this.schema}`,
      ]);
      const [{ count }] = (await manager.query(
        `SELECT count(*)::int AS count FROM ${ident(this.schema)}.signing_keys
          WHERE activated_at IS NOT NULL AND retired_at IS NULL`,
      )) as { count: number }[];
      if (count === 0) await this.insertActive(manager);
    });
    await this.reload();
  }

  /** A new active key; the previous one is retired but keeps verifying. Returns the new kid. */
  async rotate(): Promise<string> {
    const kid = await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `dsg-keys:${this.schema}`,
      ]);
      await manager.query(
        `UPDATE ${ident(this.schema)}.signing_keys SET retired_at = now()
          WHERE activated_at IS NOT NULL AND retired_at IS NULL`,
      );
      return this.insertActive(manager);
    });
    await this.reload();
    return kid;
  }

  /**
   * Re-reads the keys. Every stored private half is decrypted and checked against its public key
   * (the key id is bound in as authenticated data), so a row inserted by anyone without
   * SIGNING_KEY_SECRET is ignored, never published, never trusted.
   */
  async reload(): Promise<void> {
    const rows = (await this.dataSource.query(
      `SELECT kid, public_key, private_key, created_at, activated_at, retired_at
         FROM ${ident(this.schema)}.signing_keys ORDER BY created_at`,
    )) as KeyRow[];
    const keys = new Map<string, LoadedKey>();
    let active: string | undefined;
    const rejected: string[] = [];
    for (const row of rows) {
      const publicKey = createPublicKey(row.public_key);
      let privateKey: KeyObject;
      try {
        privateKey = this.decrypt(row.private_key, row.kid);
      } catch {
        rejected.push(row.kid);
        continue;
      }
      const derived = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
      if (!derived.equals(publicKey.export({ format: 'der', type: 'spki' }))) {
        rejected.push(row.kid);
        continue;
      }
      const isActive = row.activated_at !== null && row.retired_at === null;
      keys.set(row.kid, {
        kid: row.kid,
        publicKey,
        privateKey: isActive ? privateKey : undefined,
        createdAt: row.created_at,
        retiredAt: row.retired_at ?? undefined,
        active: isActive,
      });
      if (isActive) active = row.kid;
    }
    if (rows.length > 0 && keys.size === 0) {
      throw new Error(
        'no signing key could be decrypted: is SIGNING_KEY_SECRET the one the keys were made with?',
      );
    }
    this.rejected = rejected;
    this.keys = keys;
    this.activeKid = active;
  }

  /** Key ids found in the table that failed the integrity check on the last reload. */
  rejectedKeyIds(): readonly string[] {
    return this.rejected;
  }

  /** The key id `sign` signs with now (for a message that must name its key in what is signed). */
  get activeKeyId(): string {
    if (!this.activeKid) throw new Error('no active signing key: KeyRing.init() first');
    return this.activeKid;
  }

  sign(data: Uint8Array | string): Signature {
    const key = this.activeKid ? this.keys.get(this.activeKid) : undefined;
    if (!key?.privateKey) throw new Error('no active signing key: KeyRing.init() first');
    return {
      kid: key.kid,
      alg: 'EdDSA',
      sig: sign(null, toBytes(data), key.privateKey).toString('base64url'),
    };
  }

  /**
   * A compact JWS (RFC 7515) of `payload`, EdDSA with the active key, its kid in the header.
   * Used for short-lived tokens such as the gateway's assertions.
   */
  signCompact(typ: string, payload: object): string {
    const key = this.activeKid ? this.keys.get(this.activeKid) : undefined;
    if (!key?.privateKey) throw new Error('no active signing key: KeyRing.init() first');
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const input = `${b64({ alg: 'EdDSA', kid: key.kid, typ })}.${b64(payload)}`;
    return `${input}.${sign(null, Buffer.from(input), key.privateKey).toString('base64url')}`;
  }

  /** True only for a signature by one of this service's keys over exactly `data`. */
  verify(data: Uint8Array | string, signature: Signature): boolean {
    const key = this.keys.get(signature.kid);
    if (!key || signature.alg !== 'EdDSA') return false;
    return verify(null, toBytes(data), key.publicKey, Buffer.from(signature.sig, 'base64url'));
  }

  publicKeys(): PublicSigningKey[] {
    return [...this.keys.values()].map((key) => ({
      kid: key.kid,
      kty: 'OKP',
      crv: 'Ed25519',
      x: (key.publicKey.export({ format: 'jwk' }) as { x: string }).x,
      alg: 'EdDSA',
      use: 'sig',
      service: this.service,
      status: key.active ? 'active' : 'retired',
      createdAt: key.createdAt.toISOString(),
      ...(key.retiredAt ? { retiredAt: key.retiredAt.toISOString() } : {}),
    }));
  }

  private async insertActive(manager: { query: DataSource['query'] }): Promise<string> {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const kid = `${this.service}-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(4).toString('hex')}`;
    await manager.query(
      `INSERT INTO ${ident(this.schema)}.signing_keys (kid, public_key, private_key, activated_at)
       VALUES ($1, $2, $3, now())`,
      [kid, publicKey.export({ format: 'pem', type: 'spki' }), this.encrypt(privateKey, kid)],
    );
    return kid;
  }

  private encrypt(privateKey: KeyObject, kid: string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.encryptionKey, iv);
    cipher.setAAD(Buffer.from(kid));
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    const body = Buffer.concat([cipher.update(der), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  private decrypt(stored: Buffer, kid: string): KeyObject {
    const decipher = createDecipheriv('aes-256-gcm', this.encryptionKey, stored.subarray(0, 12));
    decipher.setAAD(Buffer.from(kid));
    decipher.setAuthTag(stored.subarray(12, 28));
    const der = Buffer.concat([decipher.update(stored.subarray(28)), decipher.final()]);
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  }
}

/** The service's key ring, loaded (its first key created if need be). */
export async function openKeyRing(
  dataSource: DataSource,
  service: { schema: string; name: ServiceName },
  secret: string,
): Promise<KeyRing> {
  const ring = new KeyRing(dataSource, service.schema, service.name, secret);
  await ring.init();
  return ring;
}

/** Verifies a signature against a published key (what an auditor does offline). */
export function verifyWithPublishedKey(
  data: Uint8Array | string,
  signature: Signature,
  keys: Pick<PublicSigningKey, 'kid' | 'x' | 'crv' | 'kty'>[],
): boolean {
  const key = keys.find((k) => k.kid === signature.kid);
  if (!key || signature.alg !== 'EdDSA') return false;
  const publicKey = createPublicKey({
    key: { kty: key.kty, crv: key.crv, x: key.x },
    format: 'jwk',
  });
  return verify(null, toBytes(data), publicKey, Buffer.from(signature.sig, 'base64url'));
}

const toBytes = (data: Uint8Array | string): Buffer =>
  typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
