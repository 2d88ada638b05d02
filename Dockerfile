# One image for every service and job; compose picks the entry point with `command`.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY . .
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app /app
USER node
# TypeScript sources run through tsx's loader; there is no separate build step.
CMD ["node", "--import", "tsx", "packages/cli/src/main.ts"]
