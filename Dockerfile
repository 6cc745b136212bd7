# One image for the API and the agent worker; docker-compose.yml picks the command.

# The call page is built with the dev dependencies, and only its output goes into the image.
FROM node:20-bookworm-slim AS web
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY common ./common
COPY web ./web
RUN npm run web:build

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json livekit.yaml ./
COPY common ./common
COPY api ./api
COPY agent ./agent
COPY --from=web /app/web/dist ./web/dist
RUN mkdir -p /data && chown node /data
USER node
CMD ["node", "--import", "tsx", "api/main.ts"]
