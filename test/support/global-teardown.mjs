import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dropDatabase } from '../../scripts/lib/infra.mjs';

const { deleteStreams } = createRequire(import.meta.url)('../../scripts/lib/nats-streams.cjs');

export default async function globalTeardown() {
  const state = globalThis.__dsgE2e;
  if (!state) return;
  try {
    await dropDatabase(state.env.databaseUrl);
    await deleteStreams(state.env.natsUrl, state.env.subjectPrefix);
  } finally {
    rmSync(state.file, { force: true });
    await state.stopInfra();
  }
}
