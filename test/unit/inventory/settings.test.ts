import { readSettings, settingsEnvironment } from '../../../functions/shared/settings';
import { parseConfig, stepEnvironment } from '../../../lib/config';
import { thrown } from '../../support/thrown';

describe('the inventory settings', () => {
  it('reads the bus, the source, the field map and the burst bounds from the environment', () => {
    // Act
    const settings = readSettings({
      EDGEKEEPER_INVENTORY_EVENT_BUS: 'fleet',
      EDGEKEEPER_INVENTORY_SOURCE: 'com.example.fleet',
      EDGEKEEPER_INVENTORY_FIELD_MAP: 'nodeName=hostname, nodeIp=network.primaryIp',
      EDGEKEEPER_INVENTORY_BATCH_SIZE: '20',
      EDGEKEEPER_INVENTORY_BATCH_WINDOW_SECONDS: '0',
      EDGEKEEPER_INVENTORY_MAX_RECEIVE_COUNT: '3',
    });

    // Assess
    expect(settings).toMatchObject({
      inventoryEventBus: 'fleet',
      inventorySource: 'com.example.fleet',
      inventoryFieldMap: { nodeName: 'hostname', nodeIp: 'network.primaryIp' },
      inventoryBatchSize: 20,
      inventoryBatchWindow: 0,
      inventoryMaxReceiveCount: 3,
    });
  });

  it('writes the field map as the variable it reads back', () => {
    // Prepare
    const values = { inventoryFieldMap: { instanceId: 'ssm.id', labels: 'tags' } };

    // Act
    const env = settingsEnvironment(values);

    // Assess
    expect(env.EDGEKEEPER_INVENTORY_FIELD_MAP).toBe('instanceId=ssm.id,labels=tags');
    expect(readSettings(env).inventoryFieldMap).toEqual(values.inventoryFieldMap);
  });

  it.each([
    ['EDGEKEEPER_INVENTORY_FIELD_MAP', 'hostname', 'must map fields'],
    ['EDGEKEEPER_INVENTORY_FIELD_MAP', 'name=hostname', 'must map fields (deviceId, instanceId'],
    ['EDGEKEEPER_INVENTORY_FIELD_MAP', 'nodeName=host name', 'must be a dotted path inside the event detail'],
    ['EDGEKEEPER_INVENTORY_BATCH_SIZE', '500', 'must be a whole number from 1 to 100'],
    ['EDGEKEEPER_INVENTORY_BATCH_WINDOW_SECONDS', '301', 'must be a whole number from 0 to 300'],
    ['EDGEKEEPER_INVENTORY_EVENT_BUS', 'my bus', 'must be an event bus name'],
  ])('refuses %s=%s, naming the variable, the value and the reason', (variable, value, reason) => {
    // Act
    const error = thrown(() => readSettings({ [variable]: value }));

    // Assess
    expect(error.message).toContain(`${variable}=${JSON.stringify(value)}`);
    expect(error.message).toContain(reason);
  });

  it('takes the field map as an object in the CDK context and hands it to the starter as its variable', () => {
    // Act
    const config = parseConfig({ inventory: { source: 'com.example.fleet', fieldMap: { nodeName: 'hostname' } } });

    // Assess
    expect(stepEnvironment(config)).toMatchObject({
      EDGEKEEPER_INVENTORY_SOURCE: 'com.example.fleet',
      EDGEKEEPER_INVENTORY_FIELD_MAP: 'nodeName=hostname',
    });
    expect(() => parseConfig({ inventory: { batchSize: 0 } })).toThrow(
      'edgekeeper.inventory.batchSize: must be a whole number from 1 to 100 (got 0)',
    );
  });
});
