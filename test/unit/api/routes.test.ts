import { z } from 'zod';
import { API_ROUTES, ApiError, OnboardBody } from '../../../functions/api/routes';
import { OnboardRequest } from '../../../functions/shared/schemas';

/*
 * The OpenAPI document and API Gateway's request validation are generated from these schemas: each must convert
 * to JSON Schema, requests as what a caller sends (`io: 'input'`), responses as what the API answers.
 */
describe('API_ROUTES', () => {
  it.each(API_ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))(
    '%s converts to JSON Schema, every part of it',
    (_name, route) => {
      // Prepare
      const requests = [route.params, route.query, route.headers, route.body].filter((schema) => schema !== undefined);
      const responses = Object.values(route.responses).flatMap((response) =>
        response.schema ? [response.schema] : [],
      );

      // Act
      const converted = [
        ...requests.map((schema) => z.toJSONSchema(schema, { io: 'input' })),
        ...responses.map((schema) => z.toJSONSchema(schema)),
      ];

      // Assess
      expect(converted.length).toBe(requests.length + responses.length);
      for (const schema of converted) expect(schema).toHaveProperty('$schema');
    },
  );

  it('has one route per method and path, and unique operation ids', () => {
    // Act
    const keys = API_ROUTES.map((route) => `${route.method} ${route.path}`);
    const ids = API_ROUTES.map((route) => route.operationId);

    // Assess
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('declares an ApiError for every error status', () => {
    for (const route of API_ROUTES) {
      for (const [status, response] of Object.entries(route.responses)) {
        if (Number(status) >= 400)
          expect([route.operationId, status, response.schema]).toEqual([route.operationId, status, ApiError]);
      }
    }
  });

  it('takes the onboarding body with the very schema the validate step parses', () => {
    expect(API_ROUTES.find((route) => route.operationId === 'onboardNode')?.body).toBe(OnboardRequest);
  });

  it('describes the onboarding body with the fields the workflow takes', () => {
    // Act
    const schema = z.toJSONSchema(OnboardBody, { io: 'input' }) as { properties: object; required: string[] };

    // Assess
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['nodeName', 'nodeIp', 'instanceId', 'taint', 'labels', 'dryRun']),
    );
    // without an instanceId the join is manual
    expect(schema.required).toEqual(['nodeName', 'nodeIp']);
  });
});
