// The commands of `dsg`: each one call (or a few) to the gateway's people-facing API, printed for
// a person or, with --json, as the gateway's own JSON for a script. Paths, methods and roles are
// those of apps/gateway/src/api/route-table.ts; the gateway checks the role (POL-7), the CLI only
// passes the token on.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CliError, EXIT, usageError } from './errors.mjs';
import { besideExport, downloadExport, lineExcerpt, verifyExportFile } from './exports.mjs';
import { bytes, fields, json, plural, table } from './print.mjs';

// The gateway's IDEMPOTENCY_KEY_PATTERN (libs/contracts/src/wire.ts): checked here too, so a bad
// key is a usage error before anything is sent. The CLI needs no build for its network commands.
const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{8,128}$/;

const when = (t) => (typeof t === 'string' ? t.replace(/\.\d+(Z|[+-]\d\d:\d\d)$/, '$1') : t);
const day = (t) => (typeof t === 'string' ? t.slice(0, 10) : t);
const path = (...parts) => parts.map((p, i) => (i % 2 ? encodeURIComponent(p) : p)).join('');

/** Prints a reply as JSON (--json): the gateway's own members, for scripts. */
function emit(value) {
  json(value);
  return EXIT.OK;
}

/** Repeated or comma-separated values of an option, as one list (undefined when none). */
function list(values) {
  const all = (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim());
  const given = all.filter((v) => v.length > 0);
  return given.length > 0 ? given : undefined;
}

function integer(value, option) {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw usageError(`${option} must be a whole number, not "${value}"`);
  return Number(value);
}

function required(value, option, command) {
  if (value === undefined || value === '') throw usageError(`${command} needs ${option}`);
  return value;
}

/** The Idempotency-Key of a command: the one given, or a fresh UUID for this invocation. */
function idempotencyKey(values) {
  const given = values['idempotency-key'];
  if (given !== undefined && !IDEMPOTENCY_KEY.test(given)) {
    throw usageError('--idempotency-key must be 8-128 of A-Z a-z 0-9 . _ : - (a UUID will do)');
  }
  return given ?? randomUUID();
}

/**
 * Runs an idempotent command; when it cannot tell whether the gateway did it (unreachable, 5xx),
 * says how to retry it safely with the same key.
 */
async function withKey(key, call) {
  try {
    return await call(key);
  } catch (err) {
    if (err instanceof CliError && err.exitCode === EXIT.UNAVAILABLE) {
      err.details.push(`it may have been done: retry with --idempotency-key ${key} to be sure`);
    }
    throw err;
  }
}

function scopeText(scope = {}) {
  const parts = [];
  if (scope.subjects) parts.push(`subjects ${scope.subjects.join(',')}`);
  if (scope.categories) parts.push(`categories ${scope.categories.join(',')}`);
  if (scope.systems) parts.push(`systems ${scope.systems.join(',')}`);
  if (scope.from || scope.to) parts.push(`${day(scope.from) ?? '…'} to ${day(scope.to) ?? '…'}`);
  return parts.join('; ');
}

// ---- The register ---------------------------------------------------------------------------

const FILTER_OPTIONS = {
  'recorded-from': 'recordedFrom',
  'recorded-to': 'recordedTo',
  'recipient-id': 'recipientId',
  purpose: 'purpose',
  decision: 'decision',
  'client-id': 'clientId',
};

export async function exportCommand({ values, gateway, asJson, timeoutMs }) {
  const format = values.format ?? 'jsonl';
  if (format !== 'csv' && format !== 'jsonl') {
    throw usageError(`--format must be csv or jsonl, not "${format}"`);
  }
  const query = {
    format,
    treeSize: integer(values['tree-size'], '--tree-size'),
    fromPosition: integer(values['from-position'], '--from-position'),
    toPosition: integer(values['to-position'], '--to-position'),
  };
  for (const [option, member] of Object.entries(FILTER_OPTIONS)) query[member] = values[option];
  const summary = await downloadExport(gateway(), {
    out: values.out,
    force: values.force,
    query,
    timeoutMs,
    progress: !values['no-progress'] && !asJson,
  });
  if (asJson) return emit(summary);
  process.stdout.write(
    `exported ${plural(summary.entries, 'entry', 'entries')} (${summary.kind}, ${summary.format}, ${bytes(summary.bytes)}) ` +
      `under the tree head of ${plural(summary.treeSize, 'entry', 'entries')} to ${summary.file}\n` +
      `manifest: ${summary.manifestFile}\nkeys:     ${summary.keysFile}\n` +
      `verify offline: dsg verify-export ${summary.file}\n`,
  );
  return EXIT.OK;
}

export async function verifyExportCommand({ values, positionals, asJson }) {
  const [file] = positionals;
  const beside = besideExport(file);
  const manifestFile = values.manifest ?? beside.manifest;
  const keysFile = values.keys ?? beside.keys;
  const { verdict, manifest } = await verifyExportFile({ file, manifestFile, keysFile });
  const excerpt = verdict.valid ? undefined : await lineExcerpt(file, verdict.line);
  if (asJson) {
    json({
      file,
      manifestFile,
      keysFile,
      ...verdict,
      ...(excerpt ? { excerpt } : {}),
      kind: manifest.kind,
      format: manifest.format,
      treeSize: manifest.treeHead.treeSize,
      proves: manifest.proves,
    });
  } else if (verdict.valid) {
    process.stdout.write(
      `valid: ${verdict.entries} entries (${manifest.kind}, tree head of ${manifest.treeHead.treeSize} entries)\n` +
        `proves: ${manifest.proves}\n`,
    );
  } else {
    process.stdout.write(`invalid: line ${verdict.line}: ${verdict.problem}\n`);
    if (excerpt) process.stdout.write(`  line ${verdict.line} begins: ${excerpt}\n`);
  }
  return verdict.valid ? EXIT.OK : EXIT.INVALID;
}

export async function verifyCommand({ gateway, asJson }) {
  const reply = await gateway().json('GET', '/v1/register/verify');
  const valid = reply.result === 'valid';
  if (asJson) json(reply);
  else if (valid) {
    process.stdout.write(
      `valid: ${plural(reply.entries, 'entry', 'entries')} and ${plural(reply.treeHeadsChecked, 'tree head')} recomputed\n`,
    );
  } else {
    process.stdout.write(
      `invalid: the entry at position ${reply.firstBadPosition ?? '?'} does not match: ${reply.problem ?? 'no detail'}\n` +
        `(${plural(reply.entries, 'entry', 'entries')}, ${plural(reply.treeHeadsChecked, 'tree head')} checked)\n`,
    );
  }
  return valid ? EXIT.OK : EXIT.INVALID;
}

// ---- Accountings (ACC-1 … ACC-9) -------------------------------------------------------------

function printAccounting(a) {
  fields([
    ['accounting', a.accountingId],
    ['client', a.clientId],
    ['requested', when(a.requestedAt)],
    ['period', `${when(a.period?.from)} to ${when(a.period?.to)}`],
    ['produced', `${when(a.producedAt)} by ${a.producedBy} (${a.staffTitle})`],
    ['rights request', a.rightsRequestRef],
    ['content hash', a.contentHash],
  ]);
  const lines = a.disclosures ?? [];
  process.stdout.write(`\n${plural(lines.length, 'disclosure line')}\n`);
  if (lines.length === 0) return;
  table(lines, [
    ['DATE', (l) => day(l.date)],
    ['LAST', (l) => (l.count > 1 ? day(l.lastDate) : undefined)],
    ['COUNT', (l) => l.count],
    ['RECIPIENT', (l) => `${l.recipient?.name ?? l.recipient?.id}`, 30],
    ['ADDRESS', (l) => l.recipient?.address, 30],
    ['PURPOSE', (l) => l.purpose, 28],
    ['BASIS', (l) => l.legalBasis, 24],
    ['DESCRIPTION', (l) => l.description, 60],
  ]);
}

export async function accountingCommand({ values, positionals, gateway, asJson }) {
  const [clientId] = positionals;
  const gw = gateway();
  if (values.list) {
    const { accountings } = await gw.json('GET', path('/v1/subjects/', clientId, '/accountings'));
    if (asJson) return emit({ accountings });
    if (accountings.length === 0) {
      process.stdout.write(`no accounting has been produced for ${clientId}\n`);
      return EXIT.OK;
    }
    table(accountings, [
      ['ACCOUNTING', (a) => a.accountingId, 36],
      ['PRODUCED', (a) => when(a.producedAt)],
      ['BY', (a) => `${a.producedBy} (${a.staffTitle})`, 40],
      ['PERIOD', (a) => `${day(a.period?.from)} to ${day(a.period?.to)}`],
      ['LINES', (a) => a.lines],
    ]);
    return EXIT.OK;
  }
  let accounting;
  if (values.produce) {
    if (values.id) throw usageError('--produce makes a new accounting: it takes no --id');
    const staffTitle = required(values['staff-title'], '--staff-title', 'accounting --produce');
    accounting = await withKey(idempotencyKey(values), (key) =>
      gw.json('POST', path('/v1/subjects/', clientId, '/accountings'), {
        body: {
          staffTitle,
          ...(values['requested-at'] ? { requestedAt: values['requested-at'] } : {}),
          ...(values.from ? { from: values.from } : {}),
          ...(values.to ? { to: values.to } : {}),
          ...(values['rights-request'] ? { rightsRequestRef: values['rights-request'] } : {}),
        },
        idempotencyKey: key,
      }),
    );
  } else {
    for (const option of [
      'staff-title',
      'requested-at',
      'from',
      'to',
      'rights-request',
      'idempotency-key',
    ]) {
      if (values[option] !== undefined) throw usageError(`--${option} goes with --produce`);
    }
    let id = values.id;
    if (!id) {
      const { accountings } = await gw.json('GET', path('/v1/subjects/', clientId, '/accountings'));
      if (accountings.length === 0) {
        throw new CliError(`no accounting has been produced for ${clientId}`, EXIT.INVALID, {
          details: [
            'a privacy officer produces one: dsg accounting CLIENT_ID --produce --staff-title TITLE',
          ],
        });
      }
      id = accountings[0].accountingId;
    }
    accounting = await gw.json('GET', path('/v1/accountings/', id));
    if (accounting.clientId !== undefined && accounting.clientId !== clientId) {
      throw usageError(`accounting ${id} is not one of ${clientId}'s`);
    }
  }
  let pdf;
  if (values.pdf) {
    const body = await gw.bytes(path('/v1/accountings/', accounting.accountingId, '/pdf'));
    await writeFileAtomically(values.pdf, body);
    pdf = { file: values.pdf, bytes: body.length };
  }
  if (asJson) return emit(pdf ? { ...accounting, pdf } : accounting);
  printAccounting(accounting);
  if (pdf) process.stdout.write(`\nPDF: ${pdf.file} (${bytes(pdf.bytes)})\n`);
  return EXIT.OK;
}

async function writeFileAtomically(file, body) {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.part`);
  try {
    await writeFile(temp, body);
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw usageError(`cannot write ${file}: ${err.code ?? err.message}`);
  }
}

// ---- Legal requests (HIP-6, CMI-3) ----------------------------------------------------------

function printLegalRequest(r) {
  fields([
    ['request', r.requestId],
    ['state', r.state],
    ['received', when(r.receivedAt)],
    ['from', `${r.agency} (${r.requesterKind}), ${r.official?.name}, ${r.official?.title}`],
    ['instrument', `${r.instrument} ${r.reference}`],
    ['recipient', r.recipientId],
    ['requested scope', scopeText(r.requestedScope)],
    ['scope', scopeText(r.scope)],
    ['identify/locate', r.identifyOrLocate ? 'yes (164.512(f)(2))' : undefined],
    [
      'HIPAA allows',
      r.validation ? `${r.validation.hipaaAllows ? 'yes' : 'no'} (HIP-6)` : undefined,
    ],
    ['CMIA allows', r.validation ? `${r.validation.cmiaAllows ? 'yes' : 'no'} (CMI-3)` : undefined],
    ['decision reasons', r.decisionReasons],
  ]);
  const findings = r.validation?.findings ?? [];
  if (findings.length > 0) {
    process.stdout.write('\nfindings:\n');
    for (const f of findings) process.stdout.write(`  ${f.rule}: ${f.detail}\n`);
  }
  if ((r.history ?? []).length > 0) {
    process.stdout.write('\nhistory:\n');
    for (const h of r.history) {
      process.stdout.write(
        `  ${when(h.at)}  ${h.action} by ${h.by}${h.note ? `: ${h.note}` : ''}\n`,
      );
    }
  }
  if ((r.disclosures ?? []).length > 0) {
    process.stdout.write('\nregister entries:\n');
    for (const d of r.disclosures) {
      process.stdout.write(`  position ${d.position}  ${d.decision}  ${d.entryId}\n`);
    }
  }
}

export async function legalListCommand({ values, gateway, asJson }) {
  const reply = await gateway().json('GET', '/v1/legal-requests', {
    query: { state: values.state },
  });
  if (asJson) return emit(reply);
  if (reply.requests.length === 0) {
    process.stdout.write(`no legal requests${values.state ? ` in state ${values.state}` : ''}\n`);
    return EXIT.OK;
  }
  table(reply.requests, [
    ['REQUEST', (r) => r.requestId, 36],
    ['STATE', (r) => r.state],
    ['RECEIVED', (r) => when(r.receivedAt)],
    ['INSTRUMENT', (r) => r.instrument],
    ['REFERENCE', (r) => r.reference, 24],
    ['AGENCY', (r) => r.agency, 40],
  ]);
  return EXIT.OK;
}

export async function legalShowCommand({ positionals, gateway, asJson }) {
  const reply = await gateway().json('GET', path('/v1/legal-requests/', positionals[0]));
  if (asJson) return emit(reply);
  printLegalRequest(reply);
  return EXIT.OK;
}

async function scopeFromFile(file) {
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw usageError(`cannot read the scope file ${file}: ${err.code ?? err.message}`);
  }
  try {
    const scope = JSON.parse(text);
    if (scope && typeof scope === 'object' && !Array.isArray(scope)) return scope;
  } catch {
    // said below
  }
  throw usageError(
    `the scope file ${file} must hold a JSON object: {"subjects": [...], "categories": [...], "from"?, "to"?}`,
  );
}

export async function legalDecideCommand({ values, positionals, gateway, asJson }) {
  const chosen = ['approve', 'narrow', 'deny'].filter((d) => values[d]);
  if (chosen.length !== 1) {
    throw usageError('legal-requests decide needs exactly one of --approve, --narrow, --deny');
  }
  const [decision] = chosen;
  const reasons = required(values.reasons, '--reasons TEXT', 'legal-requests decide');
  const fromOptions = {
    subjects: list(values['client-id']),
    categories: list(values.category),
    from: values.from,
    to: values.to,
  };
  const given = Object.values(fromOptions).some((v) => v !== undefined);
  if (values['scope-file'] && given) {
    throw usageError('give the narrower scope as --scope-file or as options, not both');
  }
  if (decision !== 'narrow' && (values['scope-file'] || given)) {
    throw usageError('a scope goes only with --narrow');
  }
  let scope;
  if (decision === 'narrow') {
    if (values['scope-file']) scope = await scopeFromFile(values['scope-file']);
    else if (given) scope = JSON.parse(JSON.stringify(fromOptions));
    else {
      throw usageError(
        '--narrow needs the scope approved: --client-id and --category (and --from, --to), or --scope-file F.json',
      );
    }
  }
  const reply = await gateway().json(
    'POST',
    path('/v1/legal-requests/', positionals[0], '/decision'),
    { body: { decision, reasons, ...(scope ? { scope } : {}) } },
  );
  if (asJson) return emit(reply);
  process.stdout.write(
    `${{ approve: 'approved', narrow: 'narrowed', deny: 'denied' }[decision]}: legal request ${reply.requestId} is now ${reply.state}\n`,
  );
  if (decision === 'narrow') process.stdout.write(`scope: ${scopeText(reply.scope)}\n`);
  return EXIT.OK;
}

// ---- Legal holds (RET-6) --------------------------------------------------------------------

function printHold(h) {
  fields([
    ['hold', h.holdId],
    ['state', h.state],
    ['scope', scopeText(h.scope)],
    ['reason', h.reason],
    ['placed', `${when(h.placedAt)} by ${h.placedBy}`],
    ['released', h.releasedAt ? `${when(h.releasedAt)} by ${h.releasedBy}` : undefined],
  ]);
}

export async function holdsListCommand({ values, gateway, asJson }) {
  const reply = await gateway().json('GET', '/v1/holds', {
    query: values.active ? { activeOnly: true } : {},
  });
  if (asJson) return emit(reply);
  if (reply.holds.length === 0) {
    process.stdout.write(`no ${values.active ? 'active ' : ''}legal holds\n`);
    return EXIT.OK;
  }
  table(reply.holds, [
    ['HOLD', (h) => h.holdId, 36],
    ['STATE', (h) => h.state],
    ['PLACED', (h) => when(h.placedAt)],
    ['BY', (h) => h.placedBy, 24],
    ['SCOPE', (h) => scopeText(h.scope), 50],
    ['REASON', (h) => h.reason, 50],
  ]);
  return EXIT.OK;
}

export async function holdsShowCommand({ positionals, gateway, asJson }) {
  const hold = await gateway().json('GET', path('/v1/holds/', positionals[0]));
  if (asJson) return emit(hold);
  printHold(hold);
  if ((hold.history ?? []).length > 0) {
    process.stdout.write('\nhistory:\n');
    for (const h of hold.history) {
      process.stdout.write(
        `  ${when(h.at)}  ${h.action} by ${h.by}${h.note ? `: ${h.note}` : ''}\n`,
      );
    }
  }
  return EXIT.OK;
}

export async function holdsPlaceCommand({ values, gateway, asJson }) {
  const reason = required(values.reason, '--reason TEXT', 'holds place');
  const scope = {
    subjects: list(values['client-id']),
    categories: list(values.category),
    systems: list(values.system),
    from: values.from,
    to: values.to,
  };
  if (!scope.subjects && !scope.categories && !scope.systems) {
    throw usageError('holds place needs what it covers: --client-id, --category or --system');
  }
  const key = idempotencyKey(values);
  const hold = await withKey(key, (idempotencyKey) =>
    gateway().json('POST', '/v1/holds', {
      body: { scope: JSON.parse(JSON.stringify(scope)), reason },
      idempotencyKey,
    }),
  );
  if (asJson) return emit(hold);
  process.stdout.write(`placed legal hold ${hold.holdId}\n`);
  printHold(hold);
  return EXIT.OK;
}

export async function holdsReleaseCommand({ values, positionals, gateway, asJson }) {
  const reason = required(values.reason, '--reason TEXT', 'holds release');
  const hold = await gateway().json('POST', path('/v1/holds/', positionals[0], '/release'), {
    body: { reason },
  });
  if (asJson) return emit(hold);
  process.stdout.write(`released legal hold ${hold.holdId}\n`);
  printHold(hold);
  return EXIT.OK;
}

// ---- Rights requests (CCP-1 … CCP-7, HIP-8) -------------------------------------------------

export async function rightsListCommand({ values, gateway, asJson }) {
  const reply = await gateway().json('GET', '/v1/rights-requests', {
    query: {
      state: values.state,
      clientId: values['client-id'],
      overdue: values.overdue ? true : undefined,
      limit: integer(values.limit, '--limit'),
    },
  });
  if (asJson) return emit(reply);
  if (reply.requests.length === 0) {
    process.stdout.write('no rights requests match\n');
    return EXIT.OK;
  }
  table(reply.requests, [
    ['REQUEST', (r) => r.requestId, 36],
    ['RIGHT', (r) => r.right],
    ['STATE', (r) => r.state],
    ['CLIENT', (r) => r.clientId, 24],
    ['RECEIVED', (r) => day(r.receivedAt)],
    ['CONFIRM BY', (r) => (r.confirmedAt ? 'confirmed' : day(r.deadlines?.confirmBy))],
    [
      'ANSWER BY',
      (r) => (r.answeredAt ? `answered ${day(r.answeredAt)}` : day(r.deadlines?.answerBy)),
    ],
    ['OVERDUE', (r) => (r.overdue ? 'OVERDUE' : '')],
  ]);
  return EXIT.OK;
}

export async function rightsShowCommand({ positionals, gateway, asJson }) {
  const r = await gateway().json('GET', path('/v1/rights-requests/', positionals[0]));
  if (asJson) return emit(r);
  fields([
    ['request', r.requestId],
    ['right', r.right],
    ['state', r.state],
    ['client', r.clientId],
    ['requester', `${r.requester} by ${r.channel}`],
    ['received', when(r.receivedAt)],
    ['confirmed', when(r.confirmedAt)],
    [
      'verification',
      `${r.verificationLevel}${r.matchedPoints?.length ? ` (${r.matchedPoints.join(', ')})` : ''}`,
    ],
    ['confirm by', day(r.deadlines?.confirmBy)],
    ['answer by', `${day(r.deadlines?.answerBy)}${r.deadlines?.extendedAt ? ' (extended)' : ''}`],
    ['overdue', r.overdue ? 'yes' : undefined],
    ['duplicate of', r.duplicateOf],
    [
      'fee',
      r.fee
        ? `${(r.fee.amountCents / 100).toFixed(2)} ${r.fee.currency}: ${r.fee.reason}`
        : undefined,
    ],
    ['answered', r.answeredAt ? `${when(r.answeredAt)}: ${r.outcome ?? ''}` : undefined],
    ['denial basis', r.denialBasis],
  ]);
  return EXIT.OK;
}

// ---- Tokens for development -----------------------------------------------------------------

const TOKEN_SCRIPT = new URL('../../token.mjs', import.meta.url);

/** `dsg token ROLE...`: the local issuer's token (scripts/token.mjs), for development only. */
export function tokenCommand({ positionals, values }) {
  if (!existsSync(TOKEN_SCRIPT)) {
    throw usageError('scripts/token.mjs is not here: tokens come from your identity provider');
  }
  const args = [...positionals];
  if (values.subject) args.push('--subject', values.subject);
  if (values.ttl) args.push('--ttl', values.ttl);
  const run = spawnSync(process.execPath, [TOKEN_SCRIPT.pathname, ...args], { stdio: 'inherit' });
  if (run.error) throw usageError(`cannot run scripts/token.mjs: ${run.error.message}`);
  return run.status ?? EXIT.USAGE;
}
