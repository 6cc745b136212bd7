# One image for the API and the agent worker; docker-compose.yml picks the command. Both run the
# compiled JavaScript in dist/ with plain `node`: no TypeScript loader at run time.

# Build: the server's JavaScript and the call page, with the dev dependencies (TypeScript, Vite).
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# The framework patch (patches/), applied by the postinstall script.
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY common ./common
COPY api ./api
COPY agent ./agent
COPY scripts ./scripts
COPY bench ./bench
COPY test/support ./test/support
COPY test/providers ./test/providers
COPY web ./web
RUN npm run build && npm run web:build

FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund
COPY livekit.yaml ./
COPY --from=build /app/dist/common ./dist/common
COPY --from=build /app/dist/api ./dist/api
COPY --from=build /app/dist/agent ./dist/agent
COPY --from=build /app/web/dist ./web/dist
RUN mkdir -p /data && chown node /data
USER node
CMD ["node", "dist/api/main.js"]
