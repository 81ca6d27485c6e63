# carebridge gateway image (cannot be built on the development machines: no Docker engine there;
# kept right by review). Multi-stage: build with the toolchain, run slim as a non-root user.

FROM node:26-bookworm AS build
WORKDIR /app
# better-sqlite3 compiles from source: python3, make and g++ are in this image.
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY adapters ./adapters
COPY bench ./bench
COPY mappings ./mappings
# The web console (vite builds it into dist/web, which the gateway serves at /).
COPY web ./web
COPY scripts/mark-bin-executable.mjs ./scripts/
RUN npm ci && npm run build && npm prune --omit=dev

FROM node:26-bookworm-slim AS runtime
# redis-server for the embedded private queue (skip it when redis.url points at a managed Redis).
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY mappings ./mappings
COPY config ./config
# The demo (`start` with no config) drops this synthetic member file into its folder source.
COPY fixtures/demo ./fixtures/demo
RUN useradd --system --uid 10001 --home-dir /var/lib/carebridge --create-home carebridge \
 && mkdir -p /var/lib/carebridge/data && chown -R carebridge /var/lib/carebridge
USER carebridge
WORKDIR /var/lib/carebridge
ENV NODE_ENV=production CAREBRIDGE_DATA_DIR=/var/lib/carebridge/data
# HTTP API (and /health), MLLP listener of the demo config.
EXPOSE 8080 2575
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.CAREBRIDGE_HTTP_PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# A 32 MB young-generation semi-space: with Node's 16 MB more of the gateway's in-flight messages
# outlive scavenges and are promoted (bench/README.md, "Session 6": -3 % CPU, +4 % ingest rate,
# -15 % peak RSS).
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--max-semi-space-size=32", "/app/dist/src/cli/main.js"]
CMD ["start"]
