# Build stage: compile TypeScript and the native SQLite binding.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/copy-assets.mjs ./scripts/
RUN npm run build && npm prune --omit=dev

# Runtime stage: only what the daemon needs, as a non-root user.
FROM node:20-bookworm-slim
# Defaults come from a configuration file, not ENV: environment variables outrank a config file,
# so an ENV here would silently override the file a deployment mounts (and REMEDIATOR_DB would
# clash with REMEDIATOR_DB_FILE). The image has no kubectl: build FROM it and add the tools your
# playbooks call.
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY playbooks ./playbooks
COPY deploy/docker/remediator.yaml ./remediator.yaml
RUN mkdir /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 9595
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD node -e "fetch('http://127.0.0.1:9595/-/healthy').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve", "--config", "/app/remediator.yaml"]
