import { type ApiGatewayProxyEvent, handler } from '../../../functions/api/handler';

/*
 * The Lambda handler only maps API Gateway's proxy event onto the router. These requests are answered before any
 * call to Step Functions or the cluster, so no AWS is needed.
 */
const ARNS = {
  EDGEKEEPER_ONBOARD_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:edgekeeper-onboard-node',
  EDGEKEEPER_REMOVE_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:edgekeeper-remove-node',
  EDGEKEEPER_BATCH_ONBOARD_STATE_MACHINE_ARN:
    'arn:aws:states:eu-west-1:123456789012:stateMachine:edgekeeper-batch-onboard',
  EDGEKEEPER_BATCH_REMOVE_STATE_MACHINE_ARN:
    'arn:aws:states:eu-west-1:123456789012:stateMachine:edgekeeper-batch-remove',
  EDGEKEEPER_DRIFT_CHECK_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:edgekeeper-drift-check',
};

function event(overrides: Partial<ApiGatewayProxyEvent>): ApiGatewayProxyEvent {
  return { httpMethod: 'GET', path: '/', queryStringParameters: null, headers: null, body: null, ...overrides };
}

describe('the API Gateway handler', () => {
  const set = { ...ARNS, AWS_REGION: 'eu-west-1' };
  const saved = Object.fromEntries(Object.keys(set).map((name) => [name, process.env[name]]));
  beforeAll(() => Object.assign(process.env, set));
  afterAll(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('answers an unknown route with 404 as JSON', async () => {
    // Act
    const response = await handler(event({ path: '/clusters' }));

    // Assess
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toBe('application/json');
    expect(JSON.parse(response.body).code).toBe('NotFoundError');
  });

  it('reads a base64 body and headers in any case, and lists every bad field', async () => {
    // Prepare
    const body = JSON.stringify({ nodeName: 'Edge_1', nodeIp: '10.0.0.300', instanceId: 'mi-0ed9e000000000001' });

    // Act
    const response = await handler(
      event({
        httpMethod: 'POST',
        path: '/nodes',
        headers: { 'Idempotency-Key': 'not a key', 'Content-Type': 'application/json' },
        body: Buffer.from(body).toString('base64'),
        isBase64Encoded: true,
      }),
    );

    // Assess
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).details.map((detail: { field: string }) => detail.field)).toEqual([
      'Idempotency-Key',
      'nodeName',
      'nodeIp',
    ]);
  });

  it('passes the query string: DELETE /kubeedge without confirm=kubeedge is a 400 that says how', async () => {
    // Act
    const response = await handler(
      event({ httpMethod: 'DELETE', path: '/kubeedge', queryStringParameters: { force: 'true' } }),
    );

    // Assess
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).details[0].reason).toContain(
      'add ?confirm=kubeedge or the header x-edgekeeper-confirm',
    );
  });
});
