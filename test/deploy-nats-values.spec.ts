import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseNatsConf, type NatsMap, type NatsValue } from './support/nats-conf';

/**
 * deploy/nats/values.yaml (the official NATS Helm chart, 1.x layout) cannot be installed here (no
 * cluster, no helm), so it is checked as a document: the cluster and JetStream settings the
 * services rely on, and an authorization identical to deploy/nats/nats-server.conf, the one the
 * tests and docker-compose run.
 */
const root = join(__dirname, '..');
const { NATS_USERS, passwordVariable } = require('../scripts/lib/nats-users.cjs') as {
  NATS_USERS: string[];
  passwordVariable(user: string): string;
};

interface EnvEntry {
  valueFrom?: { secretKeyRef?: { name?: string; key?: string } };
}
interface Values {
  config: {
    cluster: { enabled: boolean; replicas: number };
    jetstream: {
      enabled: boolean;
      fileStore: { enabled: boolean; dir: string; pvc: { enabled: boolean; size: string } };
      memoryStore?: { enabled: boolean };
      merge?: Record<string, unknown>;
    };
    monitor: { enabled: boolean; port: number };
    merge: { authorization: { users: NatsMap[] } };
  };
  container: {
    image: { repository: string; tag: string };
    env: Record<string, string | EnvEntry>;
  };
  natsBox?: { enabled: boolean };
  promExporter?: { podMonitor?: { enabled: boolean } };
}

const values = parse(readFileSync(join(root, 'deploy', 'nats', 'values.yaml'), 'utf8')) as Values;
const conf = parseNatsConf(readFileSync(join(root, 'deploy', 'nats', 'nats-server.conf'), 'utf8'));

/** The chart writes `<< ... >>` unquoted into nats.conf: `<< $NAME >>` is a variable there. */
const RAW_VARIABLE = /^<<\s+\$([A-Za-z_][A-Za-z0-9_]*)\s+>>$/;

/** A values entry as nats-server will read it once the chart has rendered it. */
function asServerReads(value: unknown): NatsValue {
  if (typeof value === 'string') {
    const raw = RAW_VARIABLE.exec(value);
    return raw ? { variable: raw[1] } : value;
  }
  if (Array.isArray(value)) return value.map(asServerReads);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asServerReads(v)]));
  return value as NatsValue;
}

const confUsers = (conf.authorization as NatsMap).users as NatsMap[];
const valuesUsers = values.config.merge.authorization.users;

describe('test/support/nats-conf', () => {
  it('reads maps, arrays, strings, words, variables, comments and both separators', () => {
    const text = [
      '# a comment',
      'port: 4222 // another',
      'name = "a # not a comment"',
      'block {',
      '  list: [\'x\', "y", z, 2, true]',
      '  nested = { secret: $SECRET_1, flag: false }; other: "q\\"uote"',
      '}',
    ].join('\n');
    expect(parseNatsConf(text)).toEqual({
      port: 4222,
      name: 'a # not a comment',
      block: {
        list: ['x', 'y', 'z', 2, true],
        nested: { secret: { variable: 'SECRET_1' }, flag: false },
        other: 'q"uote',
      },
    });
  });

  it('refuses what it does not understand', () => {
    expect(() => parseNatsConf('a: { b: 1')).toThrow(/missing }/);
    expect(() => parseNatsConf('a: [1, 2')).toThrow(/missing ]/);
    expect(() => parseNatsConf('a: "open')).toThrow(/unterminated/);
    expect(() => parseNatsConf('a: }')).toThrow(/expected a value/);
  });

  it('reads deploy/nats/nats-server.conf with every user it has', () => {
    expect(confUsers.map((u) => u.user)).toEqual(NATS_USERS);
    for (const user of confUsers) {
      expect(user.password).toEqual({ variable: passwordVariable(String(user.user)) });
      expect(Array.isArray(((user.permissions as NatsMap).publish as NatsMap).allow)).toBe(true);
    }
  });
});

describe('deploy/nats/values.yaml', () => {
  it('runs a three-node cluster with JetStream on a persistent volume', () => {
    expect(values.config.cluster).toMatchObject({ enabled: true, replicas: 3 });
    const { jetstream } = values.config;
    expect(jetstream.enabled).toBe(true);
    expect(jetstream.fileStore).toMatchObject({ enabled: true, pvc: { enabled: true } });
    expect(jetstream.fileStore.pvc.size).toMatch(/^\d+Gi$/);
    expect(jetstream.memoryStore?.enabled).toBe(false);
    expect(values.config.monitor).toEqual({ enabled: true, port: 8222 });
  });

  it('syncs every write to disk (server-wide), on a server image that knows the option', () => {
    expect(values.config.jetstream.merge?.sync_interval).toBe('always');
    const { repository, tag } = values.container.image;
    expect(repository).toBe('nats');
    expect(tag).not.toMatch(/latest/);
    // sync_interval (and `always`) came with nats-server 2.10.0; 2.9 refuses the configuration.
    const version = /^(\d+)\.(\d+)\.(\d+)(-[a-z0-9.]+)?$/.exec(tag);
    expect(version).not.toBeNull();
    const [major, minor] = [Number(version?.[1]), Number(version?.[2])];
    expect(major > 2 || (major === 2 && minor >= 10)).toBe(true);
  });

  it('has the users and permissions of nats-server.conf, exactly', () => {
    expect(valuesUsers.map((u) => u.user)).toEqual(confUsers.map((u) => u.user));
    // Whole entries: user, password variable, publish / subscribe (allow and anything else),
    // allow_responses. A subject or field in one file and not the other fails here.
    for (const [index, user] of valuesUsers.entries()) {
      expect({ user: user.user, entry: asServerReads(user) }).toEqual({
        user: confUsers[index].user,
        entry: confUsers[index],
      });
    }
  });

  it('takes each password from the Secret dsg-nats, key = user name, and holds none itself', () => {
    const env = values.container.env;
    for (const user of valuesUsers) {
      const variable = passwordVariable(String(user.user));
      expect(user.password).toBe(`<< $${variable} >>`);
      expect(env[variable]).toEqual({
        valueFrom: { secretKeyRef: { name: 'dsg-nats', key: user.user } },
      });
    }
    // No password variable without a user, and none given a literal value.
    const passwordEnv = Object.keys(env).filter((name) => /PASSWORD/i.test(name));
    expect(passwordEnv.sort()).toEqual(
      valuesUsers.map((u) => passwordVariable(String(u.user))).sort(),
    );
    // Anywhere in the file, a nats credential key holds a variable reference, never a value.
    const literals: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (Array.isArray(node)) node.forEach((item, i) => walk(item, `${path}[${i}]`));
      else if (node && typeof node === 'object')
        for (const [key, value] of Object.entries(node)) {
          if (/^(pass|password|token|nkey)$/i.test(key) && !RAW_VARIABLE.test(String(value)))
            literals.push(`${path}.${key}`);
          walk(value, `${path}.${key}`);
        }
    };
    walk(values, 'values');
    expect(literals).toEqual([]);
  });

  it('leaves out nats-box (no user of ours) and the PodMonitor (an operator choice)', () => {
    expect(values.natsBox?.enabled).toBe(false);
    expect(values.promExporter?.podMonitor?.enabled).toBe(false);
  });
});
