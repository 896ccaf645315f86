import { type DsgClient, type ExportManifest } from '@dsg/contracts';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discloseMixed } from './support/disclosures';
import { GatewayStack } from './support/gateway-stack';
import { freePort } from './support/service-process';

const root = join(__dirname, '..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The `dsg` command line (scripts/dsg.mjs) as a person runs it: a child process talking to the
 * gateway over HTTP with an OIDC token from the local issuer. An auditor downloads an export and
 * verifies it offline, and the same file with one byte changed is refused; privacy officers
 * decide legal requests and place and release legal holds; refusals, a bad token and an
 * unreachable gateway each end with their own exit code and a clear message, never the token.
 */
describe('dsg: the command line of the gateway', () => {
  const run = Date.now().toString(36);
  const subjects = [`cli-a-${run}`, `cli-b-${run}`];
  let stack: GatewayStack;
  let booking: DsgClient;
  let auditor: string;
  let officer: string;
  let dir: string;

  /** `dsg ARGS` with DSG_URL set to the test's gateway and the environment given (a token). */
  const dsg = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [join(root, 'scripts', 'dsg.mjs'), ...args],
        {
          cwd: dir,
          env: { PATH: process.env.PATH ?? '', DSG_URL: stack.gateway.url(''), ...env },
          maxBuffer: 64 << 20,
        },
        (err, stdout, stderr) =>
          resolve({
            code: err ? (typeof err.code === 'number' ? err.code : -1) : 0,
            stdout,
            stderr,
          }),
      );
    });
  const asAuditor = (...args: string[]) => dsg(args, { DSG_TOKEN: auditor });
  const asOfficer = (...args: string[]) => dsg(args, { DSG_TOKEN: officer });
  /** What a person sees: no stack trace, and never the token. */
  const expectClean = (result: Run) => {
    for (const text of [result.stdout, result.stderr]) {
      expect(text).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
      expect(text).not.toContain(auditor);
      expect(text).not.toContain(officer);
    }
  };
  const lines = (file: string) => readFileSync(file, 'utf8').split('\n').slice(0, -1);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dsg-cli-'));
    stack = await GatewayStack.start();
    booking = stack.booking;
    auditor = await stack.token('auditor');
    officer = await stack.token('privacy_officer');
    for (const clientId of subjects) {
      await booking.consent.subjectUpsert({ clientId, dateOfBirth: '1984-05-06' });
    }
    await discloseMixed(booking, subjects, 9, 'CLI test');
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('register exports', () => {
    it('an auditor exports the register as CSV and verifies it offline, with no network (POL-7)', async () => {
      const file = join(dir, 'register.csv');
      const exported = await asAuditor('export', '--format', 'csv', '--out', file);
      expectClean(exported);
      expect(exported.code).toBe(0);
      const manifest = JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8')) as ExportManifest;
      expect(manifest).toMatchObject({ kind: 'range', format: 'csv', fromPosition: 0 });
      expect(exported.stdout).toContain(`exported ${manifest.entries} entries (range, csv`);
      expect(lines(file)).toHaveLength(manifest.entries + 1);
      expect(lines(file)[0]).toBe('position,leaf_hash,leaf,details,salt');
      expect(readFileSync(file, 'utf8')).toContain(`CLI test 8`);
      // The keys beside it are the register's only, as the gateway published them.
      const keys = JSON.parse(readFileSync(`${file}.keys.json`, 'utf8')) as {
        keys: { kid: string; service: string }[];
      };
      expect(keys.keys.length).toBeGreaterThan(0);
      expect(keys.keys.every((k) => k.service === 'disclosure-register')).toBe(true);
      expect(keys.keys.map((k) => k.kid)).toContain(manifest.kid);
      // No progress bar off a terminal, and no temporary file left.
      expect(exported.stderr).toBe('');
      expect(readdirSync(dir).filter((f) => f.includes('.part'))).toEqual([]);

      // Offline: no token, and a gateway address where nothing listens.
      const offline = await dsg(['verify-export', file], {
        DSG_URL: `http://127.0.0.1:${await freePort()}`,
      });
      expectClean(offline);
      expect(offline).toMatchObject({ code: 0, stderr: '' });
      expect(offline.stdout).toContain(
        `valid: ${manifest.entries} entries (range, tree head of ${manifest.treeHead.treeSize} entries)`,
      );

      // POL-7: the access log holds the export, with its number of entries.
      const log = await stack.http('GET', '/v1/access-log?action=register.export', {
        token: auditor,
      });
      expect(log.status).toBe(200);
      expect(log.body.entries).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ action: 'register.export', entries: manifest.entries }),
        ]),
      );
    });

    it('refuses the same file with one byte changed, naming the line (exit 1)', async () => {
      const file = join(dir, 'register.csv');
      const all = lines(file);
      const target = all.findIndex((l) => l.includes('CLI test 4'));
      expect(target).toBeGreaterThan(0);
      const tampered = join(dir, 'tampered.csv');
      const bytes = readFileSync(file);
      // One byte of the personal details: "CLI test 4" becomes "CLI test 5".
      const at = bytes.indexOf('CLI test 4') + 'CLI test '.length;
      bytes[at] = '5'.charCodeAt(0);
      writeFileSync(tampered, bytes);

      const refused = await dsg([
        'verify-export',
        tampered,
        '--manifest',
        `${file}.manifest.json`,
        '--keys',
        `${file}.keys.json`,
      ]);
      expectClean(refused);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toContain(
        `invalid: line ${target + 1}: the details do not match their commitment`,
      );
      // The start of the bad line (its position and leaf hash), to find it in the file.
      expect(refused.stdout).toContain(`line ${target + 1} begins: ${all[target].slice(0, 40)}`);

      // One byte of a leaf: its hash no longer matches.
      const leafByte = Buffer.from(readFileSync(file, 'utf8').replace('reminders', 'remindert'));
      writeFileSync(tampered, leafByte);
      const leaf = await dsg([
        'verify-export',
        tampered,
        '--manifest',
        `${file}.manifest.json`,
        '--keys',
        `${file}.keys.json`,
        '--json',
      ]);
      expect(leaf.code).toBe(1);
      expect(JSON.parse(leaf.stdout)).toMatchObject({
        valid: false,
        problem: 'the leaf does not match its hash',
      });
    });

    it('a manifest or keys that are not the register’s: invalid (1); missing files: usage (2)', async () => {
      const file = join(dir, 'register.csv');
      const manifest = JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8')) as ExportManifest;
      const forged = join(dir, 'forged.manifest.json');
      writeFileSync(forged, JSON.stringify({ ...manifest, entries: manifest.entries - 1 }));
      const bad = await dsg([
        'verify-export',
        file,
        '--manifest',
        forged,
        '--keys',
        `${file}.keys.json`,
      ]);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain('invalid: line 0:');
      expect(bad.stdout).toContain('signature');

      const missing = await dsg(['verify-export', join(dir, 'nothing.csv')]);
      expectClean(missing);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('cannot read the export');
      copyFileSync(file, join(dir, 'alone.csv'));
      const alone = await dsg(['verify-export', join(dir, 'alone.csv')]);
      expect(alone.code).toBe(2);
      expect(alone.stderr).toContain('cannot read the manifest');
      expect(alone.stderr).toContain('alone.csv.manifest.json');
    });

    it('exports one subject as JSON Lines (a filtered export) and prints --json for scripts', async () => {
      const file = join(dir, 'subject.jsonl');
      const exported = await asAuditor(
        'export',
        '--client-id',
        subjects[0],
        '--out',
        file,
        '--json',
      );
      expectClean(exported);
      expect(exported.code).toBe(0);
      const summary = JSON.parse(exported.stdout);
      expect(summary).toMatchObject({
        file,
        manifestFile: `${file}.manifest.json`,
        keysFile: `${file}.keys.json`,
        format: 'jsonl',
        kind: 'filtered',
        entries: 5,
        filter: { clientId: subjects[0] },
      });
      expect(lines(file)).toHaveLength(5);
      const verified = await dsg(['verify-export', file, '--json']);
      expect(verified.code).toBe(0);
      expect(JSON.parse(verified.stdout)).toMatchObject({
        valid: true,
        entries: 5,
        kind: 'filtered',
      });
    });

    it('exports a contiguous range under a given tree head, and it verifies', async () => {
      const whole = JSON.parse(
        readFileSync(join(dir, 'register.csv.manifest.json'), 'utf8'),
      ) as ExportManifest;
      const treeSize = whole.treeHead.treeSize;
      const file = join(dir, 'range.csv');
      const exported = await asAuditor(
        'export',
        '--format',
        'csv',
        '--tree-size',
        String(treeSize),
        '--from-position',
        '2',
        '--to-position',
        '6',
        '--out',
        file,
      );
      expectClean(exported);
      expect(exported.code).toBe(0);
      expect(JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8'))).toMatchObject({
        kind: 'range',
        fromPosition: 2,
        toPosition: 6,
        entries: 4,
        treeHead: { treeSize },
      });
      expect(lines(file)).toHaveLength(5);
      expect(lines(file)[1]).toMatch(/^2,/);
      const verified = await dsg(['verify-export', file]);
      expect(verified.code).toBe(0);
      expect(verified.stdout).toContain(
        `valid: 4 entries (range, tree head of ${treeSize} entries)`,
      );
    });

    it('will not overwrite an export without --force (exit 2)', async () => {
      const file = join(dir, 'register.csv');
      const before = readFileSync(file);
      const again = await asAuditor('export', '--format', 'csv', '--out', file);
      expect(again.code).toBe(2);
      expect(again.stderr).toContain('already exists: pass --force');
      expect(readFileSync(file)).toEqual(before);
    });

    describe('a download cut short leaves no file (exit 3)', () => {
      let fake: Server;
      let mode: 'short' | 'cut' | 'busy' = 'short';

      beforeAll(async () => {
        // A gateway that promises the real export and sends only its first lines.
        const file = join(dir, 'register.csv');
        const manifest = readFileSync(`${file}.manifest.json`, 'utf8');
        const keys = readFileSync(`${file}.keys.json`, 'utf8');
        const head = `${lines(file).slice(0, 3).join('\n')}\n`;
        const entries = (JSON.parse(manifest) as ExportManifest).entries;
        fake = createServer((req, res) => {
          if (req.url === '/.well-known/signing-keys') {
            res.writeHead(200, { 'content-type': 'application/json' }).end(keys);
            return;
          }
          if (mode === 'busy') {
            res
              .writeHead(429, { 'content-type': 'application/problem+json', 'retry-after': '7' })
              .end(
                JSON.stringify({ status: 429, code: 'REQUEST.RATE_LIMITED', detail: 'Slow down' }),
              );
            return;
          }
          res.writeHead(200, {
            'content-type': 'text/csv',
            'dsg-export-manifest': Buffer.from(manifest).toString('base64url'),
            'dsg-export-entries': String(entries),
          });
          res.write(head);
          if (mode === 'short') res.end();
          else setTimeout(() => res.destroy(), 50);
        });
        await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
      });

      afterAll(() => new Promise<void>((resolve) => fake.close(() => resolve())));

      it.each(['short', 'cut'] as const)('%s', async (how) => {
        mode = how;
        const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
        const out = join(dir, `${how}.csv`);
        const result = await dsg(['export', '--format', 'csv', '--out', out], {
          DSG_URL: url,
          DSG_TOKEN: auditor,
        });
        expectClean(result);
        expect(result.code).toBe(3);
        expect(result.stderr).toMatch(
          how === 'short'
            ? /the export ended after 3 of \d+ lines; no file was written/
            : /the export broke off after 3 of \d+ lines; no file was written/,
        );
        expect(
          readdirSync(dir).filter((f) => f.startsWith(`${how}.csv`) || f.includes('.part')),
        ).toEqual([]);
      });

      it('a busy gateway (429): exit 3, when to retry', async () => {
        mode = 'busy';
        const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
        const result = await dsg(['export', '--out', join(dir, 'busy.csv'), '--url', url], {
          DSG_TOKEN: auditor,
        });
        expectClean(result);
        expect(result.code).toBe(3);
        expect(result.stderr).toContain('(HTTP 429 REQUEST.RATE_LIMITED): Slow down');
        expect(result.stderr).toContain('retry after 7 s');
        expect(existsSync(join(dir, 'busy.csv'))).toBe(false);
      });
    });
  });

  describe('the live register', () => {
    it('verifies the live register (exit 0), as text and as JSON', async () => {
      const text = await asAuditor('verify');
      expectClean(text);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/^valid: \d+ entries and \d+ tree heads? recomputed/);
      const json = await asAuditor('verify', '--json');
      expect(JSON.parse(json.stdout)).toMatchObject({ result: 'valid' });
    });
  });

  describe('tokens and reachability', () => {
    it('a token the gateway does not accept: exit 4, the reason, never the token', async () => {
      const forged = `${auditor.slice(0, -4)}AAAA`;
      const result = await dsg(['verify'], { DSG_TOKEN: forged });
      expect(result.code).toBe(4);
      expect(result.stderr).toContain('not authenticated (HTTP 401 REQUEST.UNAUTHENTICATED)');
      expect(result.stderr).not.toContain(forged);
      expect(result.stdout).toBe('');
      expectClean(result);

      // The same through --token and --token-file.
      const flag = await dsg(['verify', '--token', forged]);
      expect(flag.code).toBe(4);
      expect(flag.stderr).not.toContain(forged);
      writeFileSync(join(dir, 'token'), `${forged}\n`);
      expect((await dsg(['verify', '--token-file', join(dir, 'token')])).code).toBe(4);
      writeFileSync(join(dir, 'token'), `${auditor}\n`);
      expect((await dsg(['verify', '--token-file', join(dir, 'token')])).code).toBe(0);

      const none = await dsg(['holds', 'list']);
      expect(none.code).toBe(4);
      expect(none.stderr).toContain('no token: pass --token TOKEN or set DSG_TOKEN');

      const json = await dsg(['verify', '--json'], { DSG_TOKEN: forged });
      expect(json.code).toBe(4);
      expect(JSON.parse(json.stderr)).toMatchObject({
        error: { exitCode: 4, problem: { status: 401, code: 'REQUEST.UNAUTHENTICATED' } },
      });
    });

    it('a gateway that cannot be reached: exit 3, where it was looked for', async () => {
      const url = `http://127.0.0.1:${await freePort()}`;
      const result = await dsg(['holds', 'list', '--url', url], { DSG_TOKEN: officer });
      expectClean(result);
      expect(result.code).toBe(3);
      expect(result.stderr).toContain(`cannot reach the gateway at ${url}: connection refused`);
      const exported = await dsg(['export', '--out', join(dir, 'nowhere.jsonl'), '--url', url], {
        DSG_TOKEN: auditor,
      });
      expect(exported.code).toBe(3);
      expect(existsSync(join(dir, 'nowhere.jsonl'))).toBe(false);
      // Options before the command, and the failure as JSON for a script.
      const json = await dsg(['--json', '--url', url, 'rights', 'list'], { DSG_TOKEN: auditor });
      expect(json.code).toBe(3);
      expect(JSON.parse(json.stderr)).toMatchObject({ error: { exitCode: 3 } });
    });

    it('a bad command line: exit 2 with the usage; --help on every command: exit 0', async () => {
      const unknown = await asAuditor('export', '--colour');
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain("Unknown option '--colour'");
      expect(unknown.stderr).toContain('usage: dsg export');
      expect((await asAuditor('nothing')).code).toBe(2);
      const help = await dsg(['--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('Exit codes:');
      for (const command of [
        ['export'],
        ['verify-export'],
        ['verify'],
        ['accounting'],
        ['legal-requests', 'decide'],
        ['holds', 'place'],
        ['holds', 'release'],
        ['rights', 'list'],
        ['token'],
      ]) {
        const result = await dsg([...command, '--help']);
        expect({ command, code: result.code }).toEqual({ command, code: 0 });
        expect(result.stdout).toContain(`Usage: dsg ${command.join(' ')}`);
      }
    });
  });

  describe('legal requests (HIP-6, CMI-3)', () => {
    let requestId: string;

    beforeAll(async () => {
      // An administrative request: HIPAA allows it with its three attestations, CMIA does not
      // (CMI-3), so it waits for a privacy officer's review.
      const intake = await stack.http('POST', '/v1/legal-requests', {
        token: officer,
        headers: { 'Idempotency-Key': randomUUID() },
        body: {
          requesterKind: 'law-enforcement',
          agency: 'Los Angeles Police Department',
          official: { name: 'Det. A. Example', title: 'Detective' },
          instrument: 'administrative-request',
          reference: `ADM-${run}`,
          recipientId: 'law-enforcement',
          scope: { subjects, categories: ['identifiers', 'health'] },
          attestations: {
            relevantAndMaterial: true,
            specificAndLimited: true,
            deidentifiedInsufficient: true,
          },
        },
      });
      expect(intake.status).toBe(200);
      expect(intake.body.state).toBe('in-review');
      requestId = intake.body.requestId;
    });

    it('lists the review queue and shows a request with its findings', async () => {
      const queue = await asAuditor('legal-requests', 'list', '--state', 'in-review');
      expectClean(queue);
      expect(queue.code).toBe(0);
      expect(queue.stdout).toMatch(/^REQUEST\s+STATE\s+RECEIVED/);
      expect(queue.stdout).toContain(requestId);
      expect(queue.stdout).toContain(`ADM-${run}`);
      const shown = await asAuditor('legal-requests', 'show', requestId);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toContain('CMIA allows:');
      expect(shown.stdout).toMatch(/CMI-3: .*administrative-request/);
      const json = await asAuditor('legal-requests', 'list', '--state', 'in-review', '--json');
      expect(
        (JSON.parse(json.stdout) as { requests: { requestId: string }[] }).requests.map(
          (r) => r.requestId,
        ),
      ).toContain(requestId);
    });

    it('an auditor deciding is refused (POL-7, exit 4); a bad state is refused with its field (exit 1)', async () => {
      const refused = await asAuditor(
        'legal-requests',
        'decide',
        requestId,
        '--approve',
        '--reasons',
        'An auditor has no say in this.',
      );
      expectClean(refused);
      expect(refused.code).toBe(4);
      expect(refused.stderr).toContain('not allowed (HTTP 403 REQUEST.FORBIDDEN)');
      expect(refused.stderr).toContain('privacy_officer');

      const badState = await asAuditor('legal-requests', 'list', '--state', 'pending');
      expect(badState.code).toBe(1);
      expect(badState.stderr).toContain('refused (HTTP 400 REQUEST.VALIDATION_FAILED)');
      expect(badState.stderr).toMatch(/\n {2}state: /);

      const short = await asOfficer(
        'legal-requests',
        'decide',
        requestId,
        '--deny',
        '--reasons',
        'No.',
      );
      expect(short.code).toBe(1);
      expect(short.stderr).toMatch(/\n {2}reasons: /);

      const usage = await asOfficer(
        'legal-requests',
        'decide',
        requestId,
        '--approve',
        '--deny',
        '--reasons',
        'Both at once cannot be.',
      );
      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain('exactly one of --approve, --narrow, --deny');
    });

    it('a privacy officer narrows it to one subject’s names (HIP-6 minimum necessary)', async () => {
      const narrowed = await asOfficer(
        'legal-requests',
        'decide',
        requestId,
        '--narrow',
        '--client-id',
        subjects[0],
        '--category',
        'identifiers.name',
        '--reasons',
        'Counsel advises names of the first subject only.',
      );
      expectClean(narrowed);
      expect(narrowed.code).toBe(0);
      expect(narrowed.stdout).toContain(`narrowed: legal request ${requestId} is now approved`);
      const shown = await asAuditor('legal-requests', 'show', requestId, '--json');
      expect(JSON.parse(shown.stdout)).toMatchObject({
        state: 'approved',
        scope: { subjects: [subjects[0]], categories: ['identifiers.name'] },
        decisionReasons: 'Counsel advises names of the first subject only.',
      });
      // Decided: not in the review queue any more.
      const queue = await asAuditor('legal-requests', 'list', '--state', 'in-review', '--json');
      expect(queue.stdout).not.toContain(requestId);
    });
  });

  describe('legal holds (RET-6)', () => {
    it('a privacy officer places a hold, it is listed as active, and released with a reason', async () => {
      const key = randomUUID();
      const place = [
        'holds',
        'place',
        '--reason',
        `Litigation hold for matter ${run}: keep everything of the subject.`,
        '--client-id',
        subjects[1],
        '--system',
        'booking,crm',
        '--idempotency-key',
        key,
        '--json',
      ];
      const placed = await asOfficer(...place);
      expectClean(placed);
      expect(placed.code).toBe(0);
      const hold = JSON.parse(placed.stdout) as { holdId: string; state: string };
      expect(hold).toMatchObject({
        state: 'active',
        scope: { subjects: [subjects[1]], systems: ['booking', 'crm'] },
      });
      // The same command again with its key: the same hold, not a second one.
      const replay = await asOfficer(...place);
      expect(JSON.parse(replay.stdout).holdId).toBe(hold.holdId);

      const active = await asAuditor('holds', 'list', '--active');
      expect(active.code).toBe(0);
      expect(active.stdout).toContain(hold.holdId);
      expect(active.stdout).toContain(`subjects ${subjects[1]}; systems booking,crm`);

      const auditorRelease = await asAuditor(
        'holds',
        'release',
        hold.holdId,
        '--reason',
        'Auditors cannot release holds.',
      );
      expect(auditorRelease.code).toBe(4);

      const released = await asOfficer(
        'holds',
        'release',
        hold.holdId,
        '--reason',
        `Matter ${run} settled; counsel released the hold.`,
      );
      expectClean(released);
      expect(released.code).toBe(0);
      expect(released.stdout).toContain(`released legal hold ${hold.holdId}`);
      const after = await asAuditor('holds', 'list', '--active', '--json');
      expect(
        (JSON.parse(after.stdout) as { holds: { holdId: string }[] }).holds.map((h) => h.holdId),
      ).not.toContain(hold.holdId);
      const shown = await asAuditor('holds', 'show', hold.holdId, '--json');
      expect(JSON.parse(shown.stdout)).toMatchObject({ state: 'released' });
    });

    it('an auditor placing a hold is refused (POL-7, exit 4); a hold covering nothing is a usage error', async () => {
      const refused = await asAuditor(
        'holds',
        'place',
        '--reason',
        'An auditor tries to place a hold.',
        '--client-id',
        subjects[0],
      );
      expect(refused.code).toBe(4);
      expect(refused.stderr).toContain('HTTP 403 REQUEST.FORBIDDEN');
      const nothing = await asOfficer('holds', 'place', '--reason', 'A hold over nothing at all.');
      expect(nothing.code).toBe(2);
      expect(nothing.stderr).toContain('--client-id, --category or --system');
    });
  });

  describe('accountings of disclosures (ACC-1, ACC-9)', () => {
    it('a privacy officer produces one with their title; an auditor reads the newest and its PDF', async () => {
      const produced = await asOfficer(
        'accounting',
        subjects[0],
        '--produce',
        '--staff-title',
        'Privacy Officer',
        '--json',
      );
      expectClean(produced);
      expect(produced.code).toBe(0);
      const accounting = JSON.parse(produced.stdout) as {
        accountingId: string;
        staffTitle: string;
        clientId: string;
      };
      expect(accounting).toMatchObject({ clientId: subjects[0], staffTitle: 'Privacy Officer' });

      const pdf = join(dir, 'accounting.pdf');
      const read = await asAuditor('accounting', subjects[0], '--pdf', pdf);
      expectClean(read);
      expect(read.code).toBe(0);
      expect(read.stdout).toContain(`accounting:`);
      expect(read.stdout).toContain(accounting.accountingId);
      expect(read.stdout).toContain('(Privacy Officer)');
      expect(readFileSync(pdf).subarray(0, 5).toString()).toBe('%PDF-');

      const auditorProduces = await asAuditor(
        'accounting',
        subjects[0],
        '--produce',
        '--staff-title',
        'Auditor',
      );
      expect(auditorProduces.code).toBe(4);
      const none = await asAuditor('accounting', `cli-none-${run}`);
      expect(none.code).toBe(1);
      expect(none.stderr).toContain(`no accounting has been produced for cli-none-${run}`);
    });
  });

  describe('rights requests', () => {
    it('lists a subject’s rights requests with their deadlines (CCP-2)', async () => {
      const submitted = await stack.http('POST', '/v1/rights-requests', {
        token: officer,
        headers: { 'Idempotency-Key': randomUUID() },
        body: {
          clientId: subjects[0],
          right: 'know',
          channel: 'email',
          requester: 'subject',
          replyTo: 'subject@example.test',
        },
      });
      expect(submitted.status).toBe(200);
      const listed = await asAuditor('rights', 'list', '--client-id', subjects[0]);
      expectClean(listed);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(/^REQUEST\s+RIGHT\s+STATE/);
      expect(listed.stdout).toContain(submitted.body.requestId);
      const json = await asAuditor('rights', 'list', '--client-id', subjects[0], '--json');
      expect(JSON.parse(json.stdout).requests).toEqual([
        expect.objectContaining({ requestId: submitted.body.requestId, right: 'know' }),
      ]);
      const overdue = await asAuditor(
        'rights',
        'list',
        '--overdue',
        '--client-id',
        subjects[0],
        '--json',
      );
      expect(JSON.parse(overdue.stdout).requests).toEqual([]);
    });
  });
});
