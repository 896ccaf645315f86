import type { RecordAuthorizationRequest } from '@dsg/contracts';

/**
 * An authorization with every element HIP-1 and CMI-2 require (marketing use of treatment
 * photos, signed by the subject a minute ago), changed as a test needs.
 */
export function completeAuthorization(
  clientId: string,
  change: Partial<RecordAuthorizationRequest> = {},
): RecordAuthorizationRequest {
  return {
    clientId,
    phiDescription: 'Before/after treatment photos of the face taken in 2026',
    categories: ['health.treatment-photos'],
    discloser: 'Him. Medspa & Wellness',
    recipients: ['Spa marketing agency (social media)'],
    purposes: ['offers-and-marketing'],
    expiresAt: '2030-01-01T00:00:00Z',
    signedAt: new Date(Date.now() - 60_000).toISOString(),
    signedBy: 'self',
    statements: { revocationRight: true, nonConditioning: true, redisclosure: true },
    form: { format: 'handwritten', separateDocument: true, copyOffered: true },
    policyVersion: '2026.1',
    ...change,
  };
}
