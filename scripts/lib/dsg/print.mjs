// What `dsg` prints for people: aligned tables, labelled fields, a progress bar. Results go to
// stdout; progress, warnings and errors to stderr, so `dsg ... > file` keeps only the result.

/** Text as it fits a table cell: one line, at most `max` characters. */
export function cell(value, max = 48) {
  if (value === undefined || value === null || value === '') return '-';
  const text = Array.isArray(value) ? value.join(',') : String(value);
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** An aligned table: `columns` are [header, row => value, max width?]. */
export function table(rows, columns, out = process.stdout) {
  const cells = rows.map((row) => columns.map(([, get, max]) => cell(get(row), max)));
  const widths = columns.map(([header], i) =>
    Math.max(header.length, ...cells.map((r) => r[i].length)),
  );
  const line = (values) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  out.write(`${line(columns.map(([header]) => header))}\n`);
  for (const r of cells) out.write(`${line(r)}\n`);
}

/** Labelled fields, one a line; undefined values are left out. */
export function fields(pairs, out = process.stdout) {
  const shown = pairs.filter(([, v]) => v !== undefined && v !== null && v !== '');
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  for (const [k, v] of shown) {
    const text = Array.isArray(v) ? v.join(', ') : String(v);
    out.write(`${`${k}:`.padEnd(width + 2)}${text}\n`);
  }
}

export function json(value, out = process.stdout) {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}

export const plural = (n, one, many = `${one}s`) =>
  `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

export function bytes(n) {
  if (n < 1024) return `${Math.round(n)} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/**
 * A progress bar on a terminal (`stream.isTTY`), redrawn at most ten times a second; nothing at
 * all elsewhere (a log or a pipe gets the final summary only).
 */
export class ProgressBar {
  constructor(total, { stream = process.stderr, label = 'entries', enabled = true } = {}) {
    this.total = total;
    this.stream = stream;
    this.label = label;
    this.enabled = enabled && Boolean(stream.isTTY);
    this.started = Date.now();
    this.drawnAt = 0;
  }

  update(done, byteCount) {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.drawnAt < 100 && done < this.total) return;
    this.drawnAt = now;
    const share = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - 50));
    const filled = Math.round(share * width);
    const rate = byteCount / Math.max(0.001, (now - this.started) / 1000);
    const text =
      `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}% ` +
      `${done.toLocaleString('en-US')}/${this.total.toLocaleString('en-US')} ${this.label}  ${bytes(byteCount)}  ${bytes(rate)}/s`;
    this.stream.write(`\r${text}\x1b[K`);
  }

  /** Clears the bar (the summary is printed by the caller). */
  end() {
    if (this.enabled && this.drawnAt > 0) this.stream.write('\r\x1b[K');
  }
}
