# One image for every service: `node dist/apps/<service>/src/main.js [serve|migrate]`.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps apps
COPY libs libs
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# .proto files are read at run time (gRPC server and clients)
COPY --from=build --chown=node:node /app/libs/contracts/proto ./libs/contracts/proto
# the policy bundle the consent service publishes at boot (POLICY_BUNDLE_PATH overrides it)
COPY --from=build --chown=node:node /app/apps/consent/policy ./apps/consent/policy
# the register's recipients seed (RECIPIENTS_SEED_PATH overrides it)
COPY --from=build --chown=node:node /app/apps/disclosure-register/seed ./apps/disclosure-register/seed
# `npm run migrate -- --service <name>` (the migration Jobs): the script and exactly the modules it
# imports (pg is a production dependency). With no tsconfig.build.json here it never builds.
COPY --chown=node:node scripts/migrate.mjs ./scripts/migrate.mjs
COPY --chown=node:node scripts/lib/database.mjs scripts/lib/services.mjs ./scripts/lib/
# npm writes its cache and logs under HOME, which a read-only root filesystem does not let it:
# point them at /tmp (a writable emptyDir in Kubernetes) and skip the registry check.
ENV npm_config_cache=/tmp/.npm npm_config_update_notifier=false
USER node
ENV SERVICE=gateway
# --max-semi-space-size: the same flags as SERVICE_NODE_ARGS in scripts/lib/services.mjs
CMD ["sh", "-c", "exec node --max-semi-space-size=64 dist/apps/${SERVICE}/src/main.js serve"]
