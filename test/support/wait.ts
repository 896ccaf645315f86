/**
 * Polls `holds` until it is true or `timeoutMs` has passed; whether it held. The caller asserts
 * on what it waited for (or on this answer), so a timeout fails where the expectation is stated.
 */
export async function waitUntil(
  holds: () => Promise<boolean>,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await holds()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
