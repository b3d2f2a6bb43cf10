import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { z } from 'zod';
import { API_ROUTES, ApiError } from '../../functions/api/routes';
import { parametersOf, renderOpenApi, requestModelSchema } from '../../lib/openapi';
import { OPENAPI_DOC, renderOpenApiDoc } from '../../scripts/openapi';

type Operation = {
  operationId: string;
  parameters?: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
  requestBody?: { content: Record<string, { schema: { $ref: string } }> };
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
};
type Document = {
  openapi: string;
  security: Record<string, string[]>[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, Record<string, string>> };
};

const document = load(renderOpenApiDoc()) as Document;

describe('docs/openapi.yaml', () => {
  it('is what `npm run openapi` generates from functions/api/routes.ts (run it after changing a route)', () => {
    expect(readFileSync(OPENAPI_DOC, 'utf8')).toBe(renderOpenApiDoc());
  });

  it('describes every route once, signed with SigV4', () => {
    expect(document.openapi).toBe('3.0.3');
    const operations = Object.entries(document.paths).flatMap(([path, byMethod]) =>
      Object.entries(byMethod).map(([method, operation]) => `${method.toUpperCase()} ${path} ${operation.operationId}`),
    );
    expect(operations.sort()).toEqual(API_ROUTES.map((r) => `${r.method} ${r.path} ${r.operationId}`).sort());
    expect(document.security).toEqual([{ sigv4: [] }]);
    expect(document.components.securitySchemes.sigv4).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'Authorization',
      'x-amazon-apigateway-authtype': 'awsSigv4',
    });
  });

  it('takes an Idempotency-Key on every route that starts a workflow (answers 202), and on no other', () => {
    for (const route of API_ROUTES) {
      const operation = document.paths[route.path]?.[route.method.toLowerCase()];
      const key = operation?.parameters?.find((p) => p.in === 'header' && p.name === 'Idempotency-Key');
      expect([route.operationId, key?.schema.pattern]).toEqual([
        route.operationId,
        202 in route.responses ? '^[A-Za-z0-9_-]{1,80}$' : undefined,
      ]);
    }
  });

  it('declares every path parameter as required and every query parameter the route reads', () => {
    const removal = document.paths['/nodes/{name}']?.delete?.parameters ?? [];
    expect(removal.map((p) => [p.in, p.name, p.required])).toEqual([
      ['path', 'name', true],
      ['query', 'drain', false],
      ['query', 'force', false],
      ['header', 'Idempotency-Key', false],
    ]);
    expect(removal.find((p) => p.name === 'drain')?.schema).toEqual({ type: 'string', enum: ['true', 'false'] });
  });

  it('answers every error with the ApiError schema, IAM refusals (403) and throttling (429) included', () => {
    expect(document.components.schemas.ApiError).toMatchObject({ required: ['code', 'message', 'details'] });
    for (const [path, byMethod] of Object.entries(document.paths))
      for (const [method, operation] of Object.entries(byMethod)) {
        expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['403', '429']));
        for (const [status, response] of Object.entries(operation.responses))
          if (Number(status) >= 400)
            expect([method, path, status, response.content?.['application/json']?.schema]).toEqual([
              method,
              path,
              status,
              { $ref: '#/components/schemas/ApiError' },
            ]);
      }
  });

  it('describes the onboarding body as a client sends it: defaults optional, unknown fields refused', () => {
    const body = document.paths['/nodes']?.post?.requestBody?.content['application/json']?.schema;
    expect(body).toEqual({ $ref: '#/components/schemas/OnboardNodeRequest' });
    expect(document.components.schemas.OnboardNodeRequest).toMatchObject({
      type: 'object',
      required: expect.arrayContaining(['nodeName', 'nodeIp']),
      additionalProperties: false,
      properties: expect.objectContaining({ taint: { type: 'boolean', default: true } }),
    });
  });

  it('resolves every $ref to a component', () => {
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(0);
    for (const name of refs) expect([name, name && name in document.components.schemas]).toEqual([name, true]);
  });
});

describe('lib/openapi', () => {
  const route = {
    method: 'GET',
    path: '/things/{id}',
    operationId: 'getThing',
    summary: 'a thing',
    responses: { 200: { description: 'the thing', schema: z.object({ id: z.string() }) } },
  } as const;

  it('refuses a params schema naming a segment the path lacks', () => {
    expect(() => parametersOf({ ...route, params: z.object({ name: z.string() }) })).toThrow(
      'GET /things/{id}: params name are not segments of the path',
    );
  });

  it('declares a path segment without a schema as a required string', () => {
    expect(parametersOf(route)).toEqual([{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }]);
  });

  it('refuses two different schemas under one component name', () => {
    const a = z.object({ a: z.string() });
    const routes = [{ ...route, responses: { 200: { description: 'a', schema: a } } }];
    expect(() => renderOpenApi(routes, { ApiError, GetThingResponse: z.object({ b: z.string() }) })).toThrow(
      'two different schemas are both named GetThingResponse',
    );
  });

  it('writes request models in JSON Schema draft 4 with every subschema inline', () => {
    const Shared = z.object({ x: z.string() }).meta({ id: 'Shared' });
    const schema = requestModelSchema(z.object({ one: Shared, two: Shared }));
    expect(schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
    expect(JSON.stringify(schema)).not.toContain('$ref');
  });
});
