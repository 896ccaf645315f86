import { dropDatabase } from '../../scripts/lib/infra.mjs';

export default async function globalTeardown() {
  const state = globalThis.__dsgE2e;
  if (!state) return;
  await dropDatabase(state.env.databaseUrl);
  await state.stopInfra();
}
