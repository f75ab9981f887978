# The controller image: Node.js 24 running the compiled engine, with git, ssh, helm and kustomize.
# Build from the repository root:  docker build -t REGISTRY/cairn:0.1.0 .
# helm and kustomize are built from the same pinned Go modules as the test bed (tools/).

FROM golang:1.26-bookworm AS tools
WORKDIR /src
COPY tools/ tools/
RUN apt-get update && apt-get install -y --no-install-recommends util-linux && rm -rf /var/lib/apt/lists/* \
 && CAIRN_TOOLS_CACHE=/out bash tools/build.sh helm kustomize \
 && mkdir -p /bin-out && cp /out/helm-*/helm /out/kustomize-*/kustomize /bin-out/

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src/ src/
COPY ui/ ui/
RUN npx tsc -p tsconfig.build.json && npx vite build --config ui/vite.config.ts --logLevel warn \
 && npm prune --omit=dev --ignore-scripts

FROM node:24-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=tools /bin-out/helm /bin-out/kustomize /usr/local/bin/
WORKDIR /app
COPY --from=build /app/node_modules/ node_modules/
COPY --from=build /app/dist/ dist/
COPY package.json ./
COPY bin/ bin/
USER 65532:65532
ENV HOME=/tmp NODE_ENV=production
EXPOSE 8080
ENTRYPOINT ["node", "/app/bin/cairn.js"]
CMD ["controller"]
