/**
 * The provider interface the spa's client system answers (booking software, say): request-reply
 * on core NATS, JSON in and out, under `<prefix>.client-system.*`. The consent service asks it
 * for two things only:
 *
 * - `client-system.match` — which of the data points a rights requester gave match the client's
 *   record (CCP-3). The points are sent for this match and kept nowhere; the reply names the
 *   kinds that matched, never values.
 * - `client-system.contact` — the address notices to the client go to (e-mail).
 *
 * A client the system does not know is `{"matched": []}` or `{}`. No reply within
 * CLIENT_SYSTEM_TIMEOUT_MS counts as no match (verification) or no address (a notice retries).
 */
export const CLIENT_SYSTEM_SUBJECTS = {
  match: 'client-system.match',
  contact: 'client-system.contact',
} as const;

/** The points the client system may hold; `email`, `phone`, `dateOfBirth` are matched here too. */
export interface ClientSystemMatchRequest {
  clientId: string;
  points: Partial<
    Record<'email' | 'phone' | 'dateOfBirth' | 'name' | 'address' | 'lastVisit', string>
  >;
}
export interface ClientSystemMatchReply {
  matched: string[];
}
export interface ClientSystemContactRequest {
  clientId: string;
}
export interface ClientSystemContactReply {
  email?: string;
}
