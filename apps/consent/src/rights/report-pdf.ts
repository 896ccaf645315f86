import type { SubjectReport } from '@dsg/contracts';
import { californiaDay as day, letterPdf } from '@dsg/platform';

/**
 * A know or access report as a letter-size PDF a person can read (CCP-1, HIP-8): the categories
 * held and by which system, the purposes, the recipients and each disclosure, the consents and
 * authorizations on record, and the non-discrimination promise (POL-4). Standard fonts only.
 */
export function renderReportPdf(report: SubjectReport): Promise<Buffer> {
  const { doc, done } = letterPdf({
    Title: 'Your personal information: what we hold and share',
    Subject: `Rights request ${report.requestId}`,
    Producer: 'Data-sharing governance: consent service',
  });
  const heading = (text: string) => {
    doc.moveDown(0.8);
    doc.font('Helvetica-Bold').fontSize(12).text(text);
    doc.font('Helvetica').fontSize(10);
  };
  const none = (what: string) => doc.text(`None ${what}.`);

  doc.font('Helvetica-Bold').fontSize(16).text('Your personal information');
  doc.font('Helvetica').fontSize(10);
  doc.text(
    report.right === 'access'
      ? 'Your request to access your information (HIPAA 164.524; California Health & Safety Code 123110).'
      : 'Your request to know what we collect, use and share (California Civil Code 1798.110).',
  );
  doc.moveDown();
  doc.text(`Client: ${report.clientId}`);
  doc.text(
    `Prepared on: ${day(report.producedAt)} under privacy policy version ${report.policyVersion}`,
  );

  heading('Categories of information we hold');
  if (!report.categoriesHeld.length) none('held in the systems we know of');
  for (const c of report.categoriesHeld) doc.text(`• ${c.label ?? c.category} (${c.system})`);

  heading('Purposes we used or shared it for');
  if (!report.purposes.length) none('recorded');
  for (const p of report.purposes) doc.text(`• ${p.label}`);

  heading('Who received it');
  if (!report.recipients.length) none('recorded');
  for (const r of report.recipients) {
    doc.text(`• ${r.name}: ${r.disclosures} time(s), the last on ${day(r.last)}`);
  }

  heading('Each disclosure on record');
  if (!report.disclosures.length) none('recorded');
  for (const d of report.disclosures) {
    doc.text(`${day(d.date)} — ${d.recipient}, for ${d.purpose}: ${d.categories.join(', ')}`);
  }

  heading('Your consents and choices');
  if (!report.consents.length) none('recorded');
  for (const c of report.consents) {
    doc.text(`• ${c.kind} — ${c.scopeType}${c.scope ? ` ${c.scope}` : ''} (${day(c.at)})`);
  }

  heading('Your authorizations');
  if (!report.authorizations.length) none('recorded');
  for (const a of report.authorizations) {
    doc.text(`• ${a.status}: ${a.purposes.join(', ')} until ${day(a.expiresAt)}`);
  }

  heading('Non-discrimination');
  doc.text(report.nonDiscrimination);
  doc.end();
  return done;
}
