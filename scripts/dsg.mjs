#!/usr/bin/env node
// dsg: the command line of the gateway's people-facing API, for auditors and privacy officers.
// Talks to the gateway over HTTP with the person's OIDC access token (--token or DSG_TOKEN), and
// verifies register exports offline. `dsg --help` lists the commands and the exit codes; every
// command takes --help. Plain Node (20+), no dependencies beyond the built contracts, which only
// `verify-export` needs.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  accountingCommand,
  exportCommand,
  holdsListCommand,
  holdsPlaceCommand,
  holdsReleaseCommand,
  holdsShowCommand,
  legalDecideCommand,
  legalListCommand,
  legalShowCommand,
  rightsListCommand,
  rightsShowCommand,
  tokenCommand,
  verifyCommand,
  verifyExportCommand,
} from './lib/dsg/commands.mjs';
import { CliError, EXIT, EXIT_CODES_HELP, usageError } from './lib/dsg/errors.mjs';
import { Gateway } from './lib/dsg/gateway.mjs';

const DEFAULT_URL = 'http://127.0.0.1:3000';

const GLOBAL_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  json: { type: 'boolean' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const GLOBAL_HELP = `Options of every command:
  --url URL           the gateway (default: $DSG_URL, else ${DEFAULT_URL})
  --token TOKEN       the OIDC access token (default: $DSG_TOKEN); prefer the variable or
                      --token-file: a command line is visible to other users of the machine
  --token-file FILE   read the token from FILE (default: $DSG_TOKEN_FILE)
  --json              print the result as JSON on stdout (errors as JSON on stderr)
  --timeout SECONDS   how long to wait for an answer, or for more of an export (default 30)
  -h, --help          this help`;

const FILTER_HELP = `  --tree-size N         the sealed tree head to export under (default: the newest)
  --from-position N     a contiguous range [from, to) of positions (default: all of it)
  --to-position N
  --recorded-from T     filters (a filtered export: each line carries its inclusion proof):
  --recorded-to T         recordedAt from T inclusive, to T exclusive (RFC 3339)
  --recipient-id R        a recipient
  --purpose P             a purpose
  --decision D            ALLOW or DENY
  --client-id C           one subject`;

const string = { type: 'string' };
const strings = { type: 'string', multiple: true };
const flag = { type: 'boolean' };

/** Every command: its options, its positionals, its help, and what it runs. */
const COMMANDS = {
  export: {
    summary: 'download the register (or part of it) with its signed manifest and keys',
    usage: 'dsg export [--out FILE] [--format jsonl|csv] [range or filters] [--force]',
    positionals: [0, 0],
    options: {
      out: { type: 'string', short: 'o' },
      format: string,
      force: flag,
      'no-progress': flag,
      'tree-size': string,
      'from-position': string,
      'to-position': string,
      'recorded-from': string,
      'recorded-to': string,
      'recipient-id': string,
      purpose: string,
      decision: string,
      'client-id': string,
    },
    help: `Downloads a register export (auditor or privacy officer) into FILE, with FILE.manifest.json
(the register's signed manifest) and FILE.keys.json (the register's published public keys)
beside it: the three files 'dsg verify-export FILE' needs, offline. The lines go to a
temporary file first: a download cut short leaves nothing behind (exit 3). A progress bar
shows on a terminal.

  -o, --out FILE        where to write (default: the name the gateway suggests, here)
  --format F            jsonl (default) or csv
  --force               replace FILE and its manifest and keys if they exist
  --no-progress         no progress bar
${FILTER_HELP}`,
    run: exportCommand,
  },
  'verify-export': {
    summary: 'verify a downloaded export offline (no network)',
    usage: 'dsg verify-export FILE [--manifest M] [--keys K]',
    positionals: [1, 1],
    offline: true,
    options: { manifest: string, keys: string },
    help: `Checks an export against its signed manifest and the register's published keys, with
nothing else: the signatures, then every line (its leaf hash, its position, its details
against their commitment, and the range's root or each line's inclusion proof). Prints
"valid: N entries" (exit 0), or the first bad line and what is wrong with it (exit 1).
Needs the built contracts (npm run build).

  --manifest M   the manifest (default FILE.manifest.json)
  --keys K       the keys, {"keys": [...]} or a bare array (default FILE.keys.json)`,
    run: verifyExportCommand,
  },
  verify: {
    summary: 'verify the live register (every leaf and tree head recomputed)',
    usage: 'dsg verify',
    positionals: [0, 0],
    options: {},
    help: `The register recomputes every leaf and every sealed tree head of its log and names the
first entry that does not match (auditor or privacy officer). Exit 0 valid, 1 invalid.`,
    run: verifyCommand,
  },
  accounting: {
    summary: "a subject's accounting of disclosures (ACC-1 … ACC-9)",
    usage:
      'dsg accounting CLIENT_ID [--id ACCOUNTING_ID | --list | --produce --staff-title T] [--pdf FILE]',
    positionals: [1, 1],
    options: {
      id: string,
      list: flag,
      produce: flag,
      'staff-title': string,
      'requested-at': string,
      from: string,
      to: string,
      'rights-request': string,
      'idempotency-key': string,
      pdf: string,
    },
    help: `Prints the newest accounting of disclosures of a subject (auditor or privacy officer), or
produces and records a new one (privacy officer, ACC-9: with your title).

  --id ID               that accounting, not the newest
  --list                the subject's accountings, newest first
  --produce             produce one now (six years back, ACC-4, unless --from/--to)
    --staff-title T     your title (required with --produce)
    --requested-at T    when the individual asked (default now)
    --from T, --to T    a shorter period the individual asked for
    --rights-request R  the rights request it answers
    --idempotency-key K the key of this command (default: a new UUID); the same key again
                        answers the accounting already produced instead of a second one
  --pdf FILE            also save it as a PDF`,
    run: accountingCommand,
  },
  'legal-requests': {
    summary: 'law-enforcement, court and regulator requests (HIP-6, CMI-3)',
    subcommands: {
      list: {
        summary: 'legal requests, oldest first',
        usage: 'dsg legal-requests list [--state S]',
        positionals: [0, 0],
        options: { state: string },
        help: `Legal requests, oldest first (auditor or privacy officer). --state in-review is the
privacy officer's review queue; the states: refused, in-review, accepted, approved,
denied, fulfilled.`,
        run: legalListCommand,
      },
      show: {
        summary: 'one legal request with its validation and history',
        usage: 'dsg legal-requests show REQUEST_ID',
        positionals: [1, 1],
        options: {},
        help: 'One legal request: what it asks, why each law allows it or not, its history.',
        run: legalShowCommand,
      },
      decide: {
        summary: 'approve, narrow or deny a request, with reasons (privacy officer)',
        usage:
          'dsg legal-requests decide REQUEST_ID --approve|--narrow|--deny --reasons TEXT [scope]',
        positionals: [1, 1],
        options: {
          approve: flag,
          narrow: flag,
          deny: flag,
          reasons: string,
          'scope-file': string,
          'client-id': strings,
          category: strings,
          from: string,
          to: string,
        },
        help: `A privacy officer's decision on a request in review (or accepted and not yet fulfilled).

  --approve | --narrow | --deny   the decision (exactly one)
  --reasons TEXT                  why (required, at least 10 characters)
  the scope approved, with --narrow (within the one requested):
  --scope-file F.json             {"subjects": [...], "categories": [...], "from"?, "to"?}
  --client-id C, --category X     or as options (repeat them, or separate with commas)
  --from T, --to T`,
        run: legalDecideCommand,
      },
    },
  },
  holds: {
    summary: 'legal holds (RET-6)',
    subcommands: {
      list: {
        summary: 'legal holds, oldest first',
        usage: 'dsg holds list [--active]',
        positionals: [0, 0],
        options: { active: flag },
        help: 'Legal holds, oldest first. --active: only those in force.',
        run: holdsListCommand,
      },
      show: {
        summary: 'one legal hold with its history',
        usage: 'dsg holds show HOLD_ID',
        positionals: [1, 1],
        options: {},
        help: 'One legal hold with its history.',
        run: holdsShowCommand,
      },
      place: {
        summary: 'place a legal hold (privacy officer)',
        usage:
          'dsg holds place --reason TEXT [--client-id C] [--category X] [--system S] [--from T] [--to T]',
        positionals: [0, 0],
        options: {
          reason: string,
          'client-id': strings,
          category: strings,
          system: strings,
          from: string,
          to: string,
          'idempotency-key': string,
        },
        help: `Places a legal hold (privacy officer, RET-6): nothing it covers is purged until it is
released. Every option given narrows; at least one of --client-id, --category, --system.
Repeat an option, or separate values with commas.

  --reason TEXT          the matter and why the hold is needed (required, 10+ characters)
  --client-id C          subjects
  --category X           categories (a category covers its sub-categories)
  --system S             booking, crm, billing, treatment-records, website-analytics,
                         consent, disclosure-register
  --from T, --to T       holdings whose clock date is in this period (ISO 8601)
  --idempotency-key K    the key of this command (default: a new UUID); give the same key
                         to retry one whose answer was lost: it is not placed twice`,
        run: holdsPlaceCommand,
      },
      release: {
        summary: 'release a legal hold, with the reason (privacy officer)',
        usage: 'dsg holds release HOLD_ID --reason TEXT',
        positionals: [1, 1],
        options: { reason: string },
        help: 'Releases a legal hold (privacy officer), with the reason (required, 10+ characters).',
        run: holdsReleaseCommand,
      },
    },
  },
  rights: {
    summary: 'rights requests (CCP-1 … CCP-7, HIP-8)',
    subcommands: {
      list: {
        summary: 'rights requests, oldest deadline first',
        usage: 'dsg rights list [--state S] [--overdue] [--client-id C] [--limit N]',
        positionals: [0, 0],
        options: { state: string, overdue: flag, 'client-id': string, limit: string },
        help: `Rights requests, oldest deadline first: what awaits action (auditor or privacy officer).

  --state S        awaiting-verification, awaiting-fee-acceptance, in-progress, answered,
                   duplicate
  --overdue        only open requests past a deadline
  --client-id C    one subject's
  --limit N        at most N`,
        run: rightsListCommand,
      },
      show: {
        summary: 'one rights request with its deadlines',
        usage: 'dsg rights show REQUEST_ID',
        positionals: [1, 1],
        options: {},
        help: 'One rights request: its state, deadlines, verification and answer.',
        run: rightsShowCommand,
      },
    },
  },
  token: {
    summary: 'a token from the local development issuer (npm start)',
    usage: 'dsg token ROLE [ROLE...] [--subject ID] [--ttl SECONDS]',
    positionals: [1, 3],
    offline: true,
    options: { subject: string, ttl: string },
    help: `Prints an access token from the local issuer that 'npm start' runs (scripts/token.mjs):
for development and the demo only. Roles: auditor, privacy_officer, operator.
  export DSG_TOKEN=$(dsg token auditor)
In production the token comes from your identity provider.`,
    run: tokenCommand,
  },
};

function mainHelp() {
  const lines = [];
  for (const [name, c] of Object.entries(COMMANDS)) {
    if (c.subcommands) {
      for (const [sub, s] of Object.entries(c.subcommands)) {
        lines.push([`${name} ${sub}`, s.summary]);
      }
    } else lines.push([name, c.summary]);
  }
  const width = Math.max(...lines.map(([n]) => n.length));
  return `dsg: the data-sharing governance gateway from the command line

Usage: dsg COMMAND [options]      dsg COMMAND --help for its options

Commands:
${lines.map(([n, s]) => `  ${n.padEnd(width)}  ${s}`).join('\n')}

${GLOBAL_HELP}

${EXIT_CODES_HELP}
  130 interrupted (Ctrl-C)

An auditor's walk (development stack, npm start):
  export DSG_TOKEN=$(npm run --silent token -- auditor)
  dsg export --format csv --out register.csv
  dsg verify-export register.csv
`;
}

function commandHelp(c) {
  return `Usage: ${c.usage}

${c.help}

${GLOBAL_HELP}

${EXIT_CODES_HELP}
`;
}

function groupHelp(name, group) {
  const width = Math.max(...Object.keys(group.subcommands).map((s) => s.length));
  return `dsg ${name}: ${group.summary}

Usage: dsg ${name} SUBCOMMAND [options]      dsg ${name} SUBCOMMAND --help

${Object.entries(group.subcommands)
  .map(([s, c]) => `  ${s.padEnd(width)}  ${c.summary}`)
  .join('\n')}
`;
}

/** The token: --token, else --token-file, else $DSG_TOKEN, else $DSG_TOKEN_FILE. */
function tokenOf(values) {
  const read = (file) => {
    try {
      return readFileSync(file, 'utf8').trim() || undefined;
    } catch (err) {
      throw usageError(`cannot read the token file ${file}: ${err.code ?? err.message}`);
    }
  };
  if (values.token !== undefined) return values.token.trim() || undefined;
  if (values['token-file'] !== undefined) return read(values['token-file']);
  if (process.env.DSG_TOKEN) return process.env.DSG_TOKEN.trim() || undefined;
  if (process.env.DSG_TOKEN_FILE) return read(process.env.DSG_TOKEN_FILE);
  return undefined;
}

function timeoutOf(values) {
  const given = values.timeout ?? '30';
  const seconds = Number(given);
  if (!/^\d+(\.\d+)?$/.test(given) || seconds <= 0) {
    throw usageError(`--timeout must be a number of seconds, not "${given}"`);
  }
  return Math.round(seconds * 1000);
}

/**
 * Options of every command may come before it (`dsg --url U holds list`): they are moved after
 * the command (and its subcommand), where parseArgs reads them with the command's own.
 */
function commandFirst(argv) {
  const leading = [];
  let i = 0;
  while (
    i < argv.length &&
    argv[i].startsWith('-') &&
    !['--help', '-h', '--version'].includes(argv[i])
  ) {
    const name = argv[i].replace(/^--/, '').split('=')[0];
    if (!(name in GLOBAL_OPTIONS)) break;
    const takesValue = GLOBAL_OPTIONS[name].type === 'string' && !argv[i].includes('=');
    leading.push(...argv.slice(i, i + (takesValue ? 2 : 1)));
    i += takesValue ? 2 : 1;
  }
  if (leading.length === 0) return argv;
  const rest = argv.slice(i);
  const words = COMMANDS[rest[0]]?.subcommands && rest[1] && !rest[1].startsWith('-') ? 2 : 1;
  return [...rest.slice(0, words), ...leading, ...rest.slice(words)];
}

/** Finds the command of argv and parses its options; answers what to run, or a help text. */
function parse(argv) {
  const [first, ...rest] = commandFirst(argv);
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? rest.filter((a) => !a.startsWith('-')) : [];
    if (topic.length === 0) return { help: mainHelp() };
    return parse([...topic, '--help']);
  }
  if (first === '--version') return { help: 'dsg 0.1.0\n' };
  if (first.startsWith('-')) {
    throw usageError(`no command: dsg COMMAND [options], not ${first}`, [
      'dsg --help lists the commands',
    ]);
  }
  const group = COMMANDS[first];
  if (!group) throw usageError(`no command "${first}"`, ['dsg --help lists them']);
  let name = first;
  let command = group;
  let args = rest;
  if (group.subcommands) {
    const [sub, ...more] = rest;
    if (sub === undefined || sub === '--help' || sub === '-h') {
      if (sub === undefined) {
        throw usageError(
          `dsg ${first} needs a subcommand: ${Object.keys(group.subcommands).join(', ')}`,
        );
      }
      return { help: groupHelp(first, group) };
    }
    command = group.subcommands[sub];
    if (!command) {
      throw usageError(
        `no subcommand "${sub}" of ${first}: ${Object.keys(group.subcommands).join(', ')}`,
      );
    }
    name = `${first} ${sub}`;
    args = more;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...GLOBAL_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    // parseArgs's messages name the option; its advice on '--' is not for people.
    const message = String(err.message).split('. To specify')[0].split('\n')[0];
    throw usageError(`${message}`, [`usage: ${command.usage}`, `dsg ${name} --help for more`]);
  }
  if (parsed.values.help) return { help: commandHelp(command) };
  const [min, max] = command.positionals;
  const count = parsed.positionals.length;
  if (count < min || count > max) {
    throw usageError(
      count < min
        ? `dsg ${name} needs more arguments`
        : `dsg ${name}: unexpected "${parsed.positionals[max]}"`,
      [`usage: ${command.usage}`],
    );
  }
  return { name, command, values: parsed.values, positionals: parsed.positionals };
}

function report(err, asJson) {
  if (asJson) {
    process.stderr.write(
      `${JSON.stringify({
        error: {
          message: err.message,
          exitCode: err.exitCode,
          ...(err.details.length ? { details: err.details } : {}),
          ...(err.problem ? { problem: err.problem } : {}),
        },
      })}\n`,
    );
    return;
  }
  process.stderr.write(`dsg: ${err.message}\n`);
  for (const line of err.details) process.stderr.write(`  ${line}\n`);
}

// `dsg ... | head`: a reader that stops early is not an error of the command.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.OK);
  throw err;
});

async function main(argv) {
  const asJson = argv.includes('--json');
  try {
    const parsed = parse(argv);
    if (parsed.help) {
      process.stdout.write(parsed.help);
      return EXIT.OK;
    }
    const { command, values, positionals } = parsed;
    const timeoutMs = timeoutOf(values);
    let gateway;
    const context = {
      values,
      positionals,
      asJson: Boolean(values.json),
      timeoutMs,
      // Made on first use: offline commands need neither a URL nor a token.
      gateway: () =>
        (gateway ??= new Gateway({
          url: values.url ?? process.env.DSG_URL ?? DEFAULT_URL,
          token: tokenOf(values),
          timeoutMs,
        })),
    };
    return await command.run(context);
  } catch (err) {
    if (err instanceof CliError) {
      report(err, asJson);
      return err.exitCode;
    }
    // A defect of the tool, not of the input: one line, no stack (DSG_DEBUG=1 for the stack).
    const unexpected = new CliError(
      `unexpected error: ${err?.message ?? String(err)}`,
      EXIT.UNAVAILABLE,
      { details: process.env.DSG_DEBUG ? [String(err?.stack)] : [] },
    );
    report(unexpected, asJson);
    return unexpected.exitCode;
  }
}

process.exitCode = await main(process.argv.slice(2));
