import { rmSync } from 'node:fs';
import { dropDatabase } from '../../scripts/lib/infra.mjs';

export default async function globalTeardown() {
  const state = globalThis.__dsgE2e;
  if (!state) return;
  try {
    await dropDatabase(state.env.databaseUrl);
  } finally {
    rmSync(state.file, { force: true });
    await state.stopInfra();
  }
}
