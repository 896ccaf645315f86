import type { AccountingReply } from '@dsg/contracts';
import { californiaDay as day, letterPdf } from '@dsg/platform';

/**
 * The accounting as a letter-size PDF a person can read: who it is for, the period, and each
 * disclosure (ACC-1: date, recipient and address, what was disclosed, why; ACC-7: how many and
 * the last date where summarised), then what it does not list and why (ACC-2), and what was
 * recorded of it (ACC-9). Standard fonts only, so the file needs nothing installed to open.
 */
export function renderAccountingPdf(accounting: AccountingReply): Promise<Buffer> {
  const { doc, done } = letterPdf({
    Title: 'Accounting of disclosures',
    Subject: `Accounting ${accounting.accountingId}`,
    Producer: 'Data-sharing governance: disclosure register',
  });

  doc.font('Helvetica-Bold').fontSize(16).text('Accounting of disclosures of health information');
  doc.moveDown(0.3);
  doc
    .font('Helvetica')
    .fontSize(10)
    .text(
      'Under 45 CFR 164.528 (HIPAA) and the California Confidentiality of Medical Information Act.',
    );
  doc.moveDown();
  const field = (label: string, value: string) =>
    doc
      .font('Helvetica-Bold')
      .text(`${label}: `, { continued: true })
      .font('Helvetica')
      .text(value);
  field('Client', accounting.clientId);
  field('Requested on', day(accounting.requestedAt));
  field('Period covered', `${day(accounting.period.from)} to ${day(accounting.period.to)}`);
  field('Prepared on', day(accounting.producedAt));
  field('Prepared by', accounting.staffTitle);
  doc.moveDown();

  if (accounting.disclosures.length === 0) {
    doc.text('We made no disclosures of your information in this period that must be listed here.');
  }
  accounting.disclosures.forEach((line, i) => {
    doc
      .font('Helvetica-Bold')
      .fontSize(11)
      .text(`${i + 1}. ${day(line.date)}`);
    doc.font('Helvetica').fontSize(10);
    field('Recipient', line.recipient.name);
    if (line.recipient.address) field('Address', line.recipient.address);
    field('What was disclosed', `${line.description} (${line.categories.join(', ')})`);
    field('Purpose', line.purpose);
    if (line.count > 1) {
      field(
        'Repeated disclosures',
        `${line.count} disclosures to this recipient for this purpose; the last on ${day(line.lastDate!)}`,
      );
    }
    doc.moveDown(0.6);
  });

  doc.moveDown();
  doc
    .font('Helvetica-Oblique')
    .fontSize(9)
    .text(
      'This accounting does not list disclosures for treatment, payment or health care operations, ' +
        'disclosures to you, or disclosures you authorized, which the law does not require us to ' +
        'account for. Where a health oversight agency or law enforcement official has told us that ' +
        'an accounting would impede its work, the disclosures concerned are listed once that period ends.',
    );
  doc.moveDown(0.5);
  doc
    .font('Helvetica')
    .fontSize(8)
    .text(`Accounting ${accounting.accountingId}; content SHA-256 ${accounting.contentHash}.`);
  doc.end();
  return done;
}
