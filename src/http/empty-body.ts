import type { FastifyRequest } from 'fastify';

/** Routes whose body is entirely optional: a request with no body at all reads as `{}` for the schema. */
export async function emptyBodyAsObject(request: FastifyRequest): Promise<void> {
  if (request.body === undefined || request.body === null) request.body = {};
}
