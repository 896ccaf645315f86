import type { DsgClient } from '@dsg/contracts';
import { waitUntil } from './wait';

/**
 * Register entries for export and query suites, as the booking system records them: `count`
 * disclosures alternating between `subjects`, every third to the CRM vendor for reminders
 * (operations), the rest to Cherry for financing (payment), with details that need escaping.
 * Answers the last position, once a sealed tree head covers it (exports are fixed to one).
 */
export async function discloseMixed(
  booking: DsgClient,
  subjects: string[],
  count: number,
  label: string,
): Promise<number> {
  let last = 0;
  for (let i = 0; i < count; i++) {
    const receipt = await booking.disclosureRegister.disclose(
      {
        clientId: subjects[i % subjects.length],
        recipientId: i % 3 === 0 ? 'crm-vendor' : 'cherry',
        purpose: i % 3 === 0 ? 'appointment-reminders' : 'payments-and-memberships',
        legalBasis: i % 3 === 0 ? 'health-care-operations' : 'payment',
        categories: i % 3 === 0 ? ['identifiers.name'] : ['identifiers.name', 'payment.financing'],
        description: `${label} ${i}: "quoted", comma, and ünïcode`,
      },
      { idempotencyKey: `${label.replace(/\W+/g, '-')}-${subjects[0]}-${i}`, retries: 0 },
    );
    last = receipt.position;
  }
  const sealed = await waitUntil(
    async () =>
      // NOT_FOUND until the first head is sealed.
      (await booking.disclosureRegister.treeHead().catch(() => ({ treeSize: 0 }))).treeSize > last,
    15_000,
  );
  if (!sealed) throw new Error(`no sealed tree head covers position ${last} after 15 s`);
  return last;
}
