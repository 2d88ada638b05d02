import fp from "fastify-plugin";

declare module "fastify" {
  interface FastifyRequest {
    /** Aborts when the client goes away before its answer is sent; queries run with it are cancelled. */
    clientSignal: AbortSignal;
  }
}

/** `req.clientSignal` on every request: a client that leaves before its answer cancels the work done for it. */
export const clientSignal = fp(
  async (app) => {
    app.decorateRequest("clientSignal", null as unknown as AbortSignal);
    app.addHook("onRequest", async (req, reply) => {
      const controller = new AbortController();
      req.clientSignal = controller.signal;
      reply.raw.once("close", () => {
        if (!reply.raw.writableFinished) controller.abort();
      });
    });
  },
  { name: "client-signal", fastify: "5.x" },
);
