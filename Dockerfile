# syntax=docker/dockerfile:1
# amp: the Remix platform server. Build from the repository root:
#   docker build --build-arg AMP_BUILD_SHA1=$(git rev-parse HEAD) -t amp .
#   docker run -p 8000:8000 -p 8002:8002 -v amp-data:/data amp

ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS build
ENV TURBO_TELEMETRY_DISABLED=1
# pnpm from npm rather than corepack, whose shims fail their signature check.
RUN npm install --global pnpm@12.21.0
WORKDIR /src
# Fetch every dependency from the lockfile alone, so this layer is cached until it changes.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN pnpm fetch
COPY . .
RUN pnpm install --frozen-lockfile --offline
RUN pnpm exec turbo run build --filter=amp...
# The image has no .git: the commit comes in as a build argument.
ARG AMP_BUILD_SHA1=unknown
RUN cd apps/server && AMP_BUILD_SHA1=${AMP_BUILD_SHA1} node scripts/write-build-info.mjs
# The server and its production dependencies only, workspace packages included.
RUN pnpm --filter=amp deploy --prod /out

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /out ./
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
# 8000: HTTP and WebSocket; 8002: MQTT. The admin port (8001) stays on loopback unless
# --admin-host is given.
EXPOSE 8000 8002
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8000/x/health/ready').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Extra flags given to `docker run` are appended; a later --database-dir overrides this one.
ENTRYPOINT ["node", "dist/bin.js", "serve", "--database-dir", "/data"]
