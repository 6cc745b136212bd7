# One image for the API and the agent worker; docker-compose.yml picks the command.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json livekit.yaml ./
COPY common ./common
COPY api ./api
COPY agent ./agent
RUN mkdir -p /data && chown node /data
USER node
CMD ["node", "--import", "tsx", "api/main.ts"]
