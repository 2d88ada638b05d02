import type { FastifyInstance } from "fastify";

export function webRoutes(_app: FastifyInstance): void {}
