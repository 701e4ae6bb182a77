# Two images from one file:
#   docker build -t remediator .                                  the daemon alone
#   docker build --target with-kubectl -t remediator:kubectl .    plus a pinned kubectl, for the
#                                                                 example playbooks (deploy/kubernetes)
# Build FROM either and add the tools your own playbooks call.

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

# kubectl, pinned to a release. TARGETARCH comes from the builder (docker buildx --platform); a
# default here would override it and put an amd64 kubectl in an arm64 image. Give KUBECTL_SHA256
# (the digest you reviewed for this version and architecture) to pin the binary itself; without
# it, the checksum the release publishes beside the binary is checked, which catches a corrupted
# download but not a substituted one.
FROM debian:bookworm-slim AS kubectl
ARG KUBECTL_VERSION=v1.31.4
ARG TARGETARCH
ARG KUBECTL_SHA256=
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && base="https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${TARGETARCH:-amd64}" \
 && curl -fsSLo /kubectl "${base}/kubectl" \
 && echo "${KUBECTL_SHA256:-$(curl -fsSL "${base}/kubectl.sha256")}  /kubectl" | sha256sum --check \
 && chmod 0755 /kubectl

# The daemon: only what it needs, as a non-root user.
FROM node:20-bookworm-slim AS base
# Defaults come from a configuration file, not ENV: environment variables outrank a config file,
# so an ENV here would silently override the file a deployment mounts (and REMEDIATOR_DB would
# clash with REMEDIATOR_DB_FILE).
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

# The daemon with kubectl on PATH (KUBERNETES_SERVICE_HOST/PORT reach it through runs.envAllow).
FROM base AS with-kubectl
COPY --from=kubectl /kubectl /usr/local/bin/kubectl

# The default image, last so that a plain `docker build` makes it.
FROM base
