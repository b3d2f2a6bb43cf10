import { dump } from 'js-yaml';
import { z } from 'zod';

/*
 * The REST API described once, by functions/api/routes.ts (API_ROUTES and their zod schemas), and read from there
 * twice: by scripts/openapi.ts, which writes docs/openapi.yaml, and by lib/constructs/rest-api.ts, which builds the
 * API Gateway resources, methods, declared parameters and request models. Both read the route through the helpers
 * below, so the document and the deployed API agree on every path, parameter and body.
 *
 * Two JSON Schema dialects come out of the same zod schema:
 * - the document is OpenAPI 3.0.3 (zod target `openapi-3.0`): it is the version API Gateway imports and exports,
 *   and the one most client generators read; 3.1 would need draft 2020-12, which API Gateway does not accept;
 * - the request models are JSON Schema draft 4 (zod target `draft-04`), the only dialect API Gateway models take.
 */

/** One route as functions/api/routes.ts declares it (structurally, so this module needs no Lambda code). */
export interface ApiRouteSpec {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** API Gateway style: `/nodes/{name}` */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  /** path parameters by name */
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  /** headers the route reads, by lower-case name (the Idempotency-Key of the routes that start a workflow) */
  readonly headers?: z.ZodObject;
  readonly body?: z.core.$ZodType;
  readonly responses: Readonly<Record<number, { readonly description: string; readonly schema?: z.core.$ZodType }>>;
}

/** The stage the API is deployed to: the last segment of its URL. */
export const API_STAGE_NAME = 'v1';

type JsonSchema = Record<string, unknown>;

export interface ParameterSpec {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header';
  readonly required: boolean;
  readonly description?: string;
  /** OpenAPI 3.0 schema of the (string) value */
  readonly schema: JsonSchema;
}

/** The `{name}` segments of a path, in order. */
function pathParameterNames(path: string): string[] {
  return [...path.matchAll(/\{([^}/]+)\}/g)].map((match) => match[1] as string);
}

/**
 * Every parameter of a route: its path segments, its query and its headers, each with the schema and description
 * of its zod schema. A path segment the route declares no schema for is a plain string.
 * @throws Error naming the route when its path and its `params` schema name different segments
 */
export function parametersOf(route: ApiRouteSpec): ParameterSpec[] {
  const params = fieldsOf(route.params, 'path');
  const segments = pathParameterNames(route.path);
  const declared = params.map((parameter) => parameter.name);
  const undeclared = declared.filter((name) => !segments.includes(name));
  if (undeclared.length > 0)
    throw new Error(`${route.method} ${route.path}: params ${undeclared.join(', ')} are not segments of the path`);
  const path = segments.map(
    (name): ParameterSpec =>
      params.find((parameter) => parameter.name === name) ?? {
        name,
        in: 'path',
        required: true,
        schema: { type: 'string' },
      },
  );
  const headers = fieldsOf(route.headers, 'header').map((header) => ({ ...header, name: headerName(header.name) }));
  return [...path, ...fieldsOf(route.query, 'query'), ...headers];
}

/** The properties of an object schema as parameters; a path parameter is always required. */
function fieldsOf(schema: z.ZodObject | undefined, where: ParameterSpec['in']): ParameterSpec[] {
  if (!schema) return [];
  const json = openApiSchema(schema, 'input');
  const required = new Set((json.required as string[] | undefined) ?? []);
  return Object.entries((json.properties ?? {}) as Record<string, JsonSchema>).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

/** `idempotency-key` → `Idempotency-Key`: routes.ts keys headers lower-case, as the router reads them. */
function headerName(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
}

/** The zod schema as an OpenAPI 3.0 Schema Object (what a client sends: `input`; what it receives: `output`). */
function openApiSchema(schema: z.core.$ZodType, io: 'input' | 'output'): JsonSchema {
  return z.toJSONSchema(schema, { target: 'openapi-3.0', io }) as JsonSchema;
}

/**
 * A request body as an API Gateway model: JSON Schema draft 4, every subschema inline (no registry ids, so no
 * `$ref` the gateway would have to resolve). Only the structure is checked at the gateway (types, required and
 * unknown fields); the rules a zod refinement holds (a node name, an IP) are checked by the Lambda, which names
 * each bad field.
 */
export function requestModelSchema(schema: z.core.$ZodType): JsonSchema {
  return z.toJSONSchema(schema, { target: 'draft-04', io: 'input', metadata: z.registry() }) as JsonSchema;
}

/** `startOnboard` / `start-onboard` → `StartOnboard`: a model or component name (API Gateway allows [A-Za-z0-9]). */
export function modelName(operationId: string): string {
  return operationId
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]?.toUpperCase() + word.slice(1))
    .join('');
}

/**
 * The OpenAPI document of the routes as YAML. `named` are the schemas to show as components under their own
 * names (routes.ts's exports): it must hold `ApiError`, the body of every 4xx and 5xx. A response schema without a
 * name becomes `<Operation>Response`, a body `<Operation>Request` (bodies are described as clients send them,
 * responses as they arrive). API Gateway itself answers 403 (a request IAM refuses) and 429 (throttled) in the
 * ApiError shape, so every operation lists those too.
 */
export function renderOpenApi(
  routes: readonly ApiRouteSpec[],
  named: Readonly<{ ApiError: z.core.$ZodType } & Record<string, z.core.$ZodType>>,
): string {
  const bodies = new Set(routes.flatMap((route) => (route.body ? [route.body] : [])));
  const output = new ComponentRegistry();
  for (const [name, schema] of Object.entries(named)) if (!bodies.has(schema)) output.name(schema, name);
  const input = new ComponentRegistry();
  const content = (schema: JsonSchema) => ({ 'application/json': { schema } });
  const errorRef = output.ref(named.ApiError, 'ApiError');

  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const operation = modelName(route.operationId);
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      const schema = response.schema
        ? output.ref(response.schema, `${operation}Response`)
        : Number(status) >= 400
          ? errorRef
          : undefined;
      responses[status] = { description: response.description, ...(schema ? { content: content(schema) } : {}) };
    }
    for (const [status, description] of GATEWAY_ERRORS)
      if (!(status in responses)) responses[status] = { description, content: content(errorRef) };
    const parameters = parametersOf(route);
    const requestBody = route.body && {
      required: !z.safeParse(route.body, undefined).success,
      content: content(input.ref(route.body, `${operation}Request`)),
    };
    paths[route.path] = {
      ...paths[route.path],
      [route.method.toLowerCase()]: {
        operationId: route.operationId,
        summary: route.summary,
        ...(parameters.length > 0 ? { parameters } : {}),
        ...(requestBody ? { requestBody } : {}),
        responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b))),
      },
    };
  }

  const responseSchemas = output.emit('output');
  const bodySchemas = input.emit('input');
  const shared = Object.keys(bodySchemas).filter((name) => name in responseSchemas);
  if (shared.length > 0) throw new Error(`a body and a response schema are both named ${shared.join(', ')}`);
  const schemas = { ...responseSchemas, ...bodySchemas };
  const document = {
    openapi: '3.0.3',
    info: {
      title: 'edgekeeper',
      version: '1',
      description:
        'Starts and follows the edgekeeper workflows (onboard-node, remove-node, their batches, drift-check), lists ' +
        'the edge nodes and reads the latest drift report. ' +
        'Every request is signed with AWS Signature Version 4 (IAM authorization). `edgekeeper serve` serves the ' +
        'same routes on 127.0.0.1 without IAM.',
    },
    servers: [
      {
        url: `https://{restApiId}.execute-api.{region}.amazonaws.com/${API_STAGE_NAME}`,
        description: 'The deployed API (stack output ApiUrl)',
        variables: { restApiId: { default: 'example' }, region: { default: 'us-east-1' } },
      },
    ],
    security: [{ sigv4: [] }],
    paths,
    components: {
      schemas: referencedOnly(schemas, paths),
      securitySchemes: {
        sigv4: {
          // API Gateway's own way of writing AWS_IAM authorization in OpenAPI
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          'x-amazon-apigateway-authtype': 'awsSigv4',
          description: 'AWS Signature Version 4 from the standard AWS credential chain (awscurl, the edgekeeper CLI)',
        },
      },
    },
  };
  return [
    '# Generated from functions/api/routes.ts by `npm run openapi`; do not edit by hand.',
    dump(document, { lineWidth: 120, noRefs: true }),
  ].join('\n');
}

const COMPONENTS = '#/components/schemas/';

/** Schemas named as components, converted together so that one refers to another by `$ref`. */
class ComponentRegistry {
  private readonly registry = z.registry<{ id: string }>();
  private readonly names = new Map<z.core.$ZodType, string>();

  name(schema: z.core.$ZodType, name: string): string {
    const known = this.names.get(schema);
    if (known) return known;
    if ([...this.names.values()].includes(name)) throw new Error(`two different schemas are both named ${name}`);
    this.names.set(schema, name);
    this.registry.add(schema, { id: name });
    return name;
  }

  /** A `$ref` to the schema's component, named `fallback` unless it has a name already. */
  ref(schema: z.core.$ZodType, fallback: string): JsonSchema {
    return { $ref: `${COMPONENTS}${this.name(schema, fallback)}` };
  }

  emit(io: 'input' | 'output'): Record<string, JsonSchema> {
    const { schemas } = z.toJSONSchema(this.registry, {
      target: 'openapi-3.0',
      io,
      uri: (id) => `${COMPONENTS}${id}`,
    }) as { schemas: Record<string, JsonSchema> };
    // `$id` is JSON Schema's, not a keyword of OpenAPI 3.0's Schema Object
    return Object.fromEntries(Object.entries(schemas).map(([name, { $id: _, ...schema }]) => [name, schema]));
  }
}

/** The components `paths` refers to, directly or through other components, sorted by name. */
function referencedOnly(schemas: Record<string, JsonSchema>, paths: unknown): Record<string, JsonSchema> {
  const kept = new Set<string>();
  const pending = [paths];
  while (pending.length > 0) {
    const text = JSON.stringify(pending.pop());
    for (const match of text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) {
      const name = match[1] as string;
      if (kept.has(name)) continue;
      kept.add(name);
      pending.push(schemas[name]);
    }
  }
  return Object.fromEntries(
    Object.entries(schemas)
      .filter(([name]) => kept.has(name))
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/** The errors API Gateway answers before the Lambda runs, in the ApiError shape (lib/constructs/rest-api.ts). */
const GATEWAY_ERRORS: readonly [string, string][] = [
  ['403', 'The request is not signed, or IAM does not allow the caller to invoke this method'],
  ['429', 'Too many requests: the stage throttling refused it'],
];
