/**
 * The route schemas of the server, from which @fastify/swagger generates the OpenAPI document: the texts and the
 * response schemas live in openapi.json (its `paths` are the routes' descriptions, its `components` the shared
 * schemas), the query parameters and form fields come from the options table (src/options.ts). The schemas
 * document; they do not validate (the options table's checks do, with messages naming the parameter).
 *
 * ```ts
 * app.post('/api/v1/reconstruct', { schema: reconstructSchema(20 << 20) }, handler);
 * ```
 */
import { optionsObjectSchema } from '../options.ts';
import doc from './openapi.json' with { type: 'json' };
import { SERVER_OPTIONS } from './reconstruct.ts';

type Json = Record<string, unknown>;
interface Operation {
  summary?: string;
  description?: string;
  operationId?: string;
  parameters?: Json[];
  requestBody?: { required?: boolean; description?: string; content: Record<string, { schema: Json }> };
  responses: Record<string, Json>;
}
const paths = doc.paths as unknown as Record<string, Record<string, Operation>>;
const components = doc.components as unknown as { responses: Record<string, Json>; schemas: Record<string, Json> };

/** The info block of the document (title, version, description, licence). */
export function openapiInfo(): { title: string; version: string; description?: string; license?: { name: string } } {
  return structuredClone(doc.info);
}

/** The shared schemas and responses (`#/components/…`). */
export function apiComponents(): { schemas: Record<string, Json>; responses: Record<string, Json> } {
  return structuredClone(components);
}

/** Responses as fastify route schemas take them (a `$ref` to a shared response is inlined). */
function responses(op: Operation): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [status, r] of Object.entries(op.responses)) {
    const ref = typeof r.$ref === 'string' ? /^#\/components\/responses\/(\w+)$/.exec(r.$ref)?.[1] : undefined;
    out[status] = structuredClone(ref ? components.responses[ref] : r);
  }
  return out;
}

function route(url: string, method: string): Json {
  const op = paths[url][method];
  return { summary: op.summary, description: op.description, operationId: op.operationId, response: responses(op) };
}

/** Path parameters of an operation as a JSON schema object. */
function pathParams(op: Operation): Json {
  const ps = (op.parameters ?? []).filter((p) => p.in === 'path');
  return {
    type: 'object',
    required: ps.map((p) => p.name),
    properties: Object.fromEntries(ps.map((p) => [p.name, { ...(p.schema as Json), ...(p.example ? { example: p.example } : {}) }])),
  };
}

/** `POST /api/v1/reconstruct`: the table's options as query parameters and form fields, the photo as the body. */
export function reconstructSchema(maxBodyBytes: number): Json {
  const op = paths['/api/v1/reconstruct'].post;
  const params = optionsObjectSchema('server', SERVER_OPTIONS);
  const content = structuredClone(op.requestBody!.content);
  const form = content['multipart/form-data'].schema as { properties: Json };
  form.properties = { ...form.properties, ...params.properties };
  const mb = Math.round((maxBodyBytes / (1024 * 1024)) * 10) / 10;
  return {
    ...route('/api/v1/reconstruct', 'post'),
    description: `${op.description} The photo may be at most ${mb} MB.`,
    consumes: Object.keys(content),
    querystring: params,
    body: { content },
  };
}

/** `GET /api/v1/results/{id}/{file}`. */
export function resultFileSchema(): Json {
  return { ...route('/api/v1/results/{id}/{file}', 'get'), params: pathParams(paths['/api/v1/results/{id}/{file}'].get) };
}

/** `GET /healthz`. */
export function healthSchema(): Json {
  return route('/healthz', 'get');
}

/** `GET /api/v1/openapi.json`. */
export function openapiRouteSchema(): Json {
  return route('/api/v1/openapi.json', 'get');
}
