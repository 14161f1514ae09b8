# syntax=docker/dockerfile:1
# One image for the origin app and its workers; the role is chosen at run time by AP_CONTAINER_TYPE (APP | WORKER).
#   docker build -t canary-edge-origin:0.1.0 .
#   docker run -e AP_CONTAINER_TYPE=APP -e AP_VERSION=0.1.0 ... canary-edge-origin:0.1.0
# The image carries this build's migration manifest at /app/migrations-manifest.json (read by the canary and
# rollback workflows with `docker run --rm --entrypoint cat <image> /app/migrations-manifest.json`).

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: full toolchain; compiles the origin and the migration runner to plain JS ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY core ./core
COPY origin ./origin
COPY tools ./tools
COPY migrations ./migrations
RUN npm run migrations:manifest -- --out /app/migrations-manifest.json
# Dependencies stay external (installed for production below); only our TypeScript is bundled.
RUN npx esbuild origin/main.ts --bundle --platform=node --format=esm --target=node20 --packages=external \
      --outfile=dist/origin/main.js \
 && npx esbuild tools/migrations/cli-migrate.ts --bundle --platform=node --format=esm --target=node20 --packages=external \
      --outfile=dist/tools/migrations/cli-migrate.js

# ---- dev: the whole repository with dev dependencies (used by docker-compose for the edge and local endpoints) ----
FROM build AS dev
COPY . .
# The edge runner caches the Worker bundle under node_modules/.cache/canary-edge/; everything else stays root-owned
# and read-only for the node user.
RUN mkdir -p node_modules/.cache/canary-edge && chown node:node node_modules/.cache/canary-edge
USER node

# ---- runtime: production dependencies + compiled JS, non-root ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/origin ./origin
# The migration runner resolves ../../migrations from its own file, i.e. /app/migrations.
COPY --from=build /app/dist/tools ./tools
COPY --from=build /app/migrations ./migrations
COPY --from=build /app/migrations-manifest.json ./migrations-manifest.json
USER node
EXPOSE 3000
ENV AP_PORT=3000
# Workers serve no HTTP: the check passes for them and probes /v1/health for apps.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "if (process.env.AP_CONTAINER_TYPE !== 'APP') process.exit(0); fetch('http://127.0.0.1:' + (process.env.AP_PORT || 3000) + '/v1/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop) closes HTTP, Socket.IO, workers, queues, then Redis; give it AP_SHUTDOWN_TIMEOUT_MS + margin.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "origin/main.js"]
