import PDFDocument from 'pdfkit';

/** Dates as the spa's clients read them: in California (e.g. "March 1, 2026"). */
const CALIFORNIA_DAY = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/Los_Angeles',
  year: 'numeric',
  month: 'long',
  day: 'numeric',
});

export function californiaDay(iso: string): string {
  return CALIFORNIA_DAY.format(new Date(iso));
}

/**
 * A letter-size document for a person to read (accountings, know and access reports), with its
 * bytes collected: write to `doc`, call `doc.end()`, await `done`. Standard fonts only, so the
 * file needs nothing installed to open.
 */
export function letterPdf(info: { Title: string; Subject: string; Producer: string }): {
  doc: PDFKit.PDFDocument;
  done: Promise<Buffer>;
} {
  const doc = new PDFDocument({ size: 'LETTER', margin: 60, info });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  return { doc, done };
}
