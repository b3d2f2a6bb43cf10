/**
 * The sandbox's DynamoDB stand-in: in-memory tables with a string partition key, and the operations edgekeeper's
 * steps use (PutItem, GetItem, DeleteItem with ReturnValues ALL_OLD), with DynamoDB's request and error shapes.
 * Each operation is atomic (one event loop turn): of two DeleteItem calls for one key, only the first gets the item.
 */

/** DynamoDB's typed attribute value, kept as the client sent it (`{ S: '…' }`, `{ N: '42' }`, …). */
export type AttributeValue = Record<string, unknown>;
export type Item = Record<string, AttributeValue>;

/** An error DynamoDB answers with HTTP 400 (`__type` is `com.amazonaws.dynamodb.v20120810#<type>`). */
export class DynamoDbError extends Error {
  constructor(
    readonly type:
      | 'ResourceNotFoundException'
      | 'ValidationException'
      | 'SerializationException'
      | 'UnknownOperationException',
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

/** The table the sandbox creates for the waits on host commands (the stack's CommandWaits table). */
export const COMMAND_WAITS_TABLE = { name: 'edgekeeper-command-waits', partitionKey: 'id' } as const;

interface TableSpec {
  readonly name: string;
  readonly partitionKey: string;
}

type Operation = (body: Record<string, unknown>) => Record<string, unknown>;

export class DynamoDbTables {
  private readonly tables = new Map<string, { spec: TableSpec; items: Map<string, Item> }>();

  constructor(specs: readonly TableSpec[] = [COMMAND_WAITS_TABLE]) {
    for (const spec of specs) this.tables.set(spec.name, { spec, items: new Map() });
  }

  /** The operations by name, as `X-Amz-Target: DynamoDB_20120810.<name>` asks for them. */
  readonly operations: Readonly<Record<string, Operation>> = {
    PutItem: (body) => {
      const table = this.table(body);
      unsupported(body, ['ConditionExpression', 'Expected']);
      const item = itemOf(body.Item, 'Item');
      const key = keyValue(table.spec, item, 'Item');
      const old = table.items.get(key);
      table.items.set(key, structuredClone(item));
      return returnValues(body) === 'ALL_OLD' && old ? { Attributes: old } : {};
    },
    GetItem: (body) => {
      const table = this.table(body);
      const key = keyValue(table.spec, exactKey(body.Key), 'Key');
      const item = table.items.get(key);
      return item ? { Item: structuredClone(item) } : {};
    },
    DeleteItem: (body) => {
      const table = this.table(body);
      unsupported(body, ['ConditionExpression', 'Expected']);
      const key = keyValue(table.spec, exactKey(body.Key), 'Key');
      const old = table.items.get(key);
      table.items.delete(key);
      return returnValues(body) === 'ALL_OLD' && old ? { Attributes: old } : {};
    },
  };

  /** The items of a table now (tests). */
  items(tableName: string): Item[] {
    return [...(this.tables.get(tableName)?.items.values() ?? [])].map((item) => structuredClone(item));
  }

  private table(body: Record<string, unknown>) {
    const name = body.TableName;
    if (typeof name !== 'string' || !name) throw new DynamoDbError('ValidationException', 'TableName is required');
    const table = this.tables.get(name);
    if (!table) throw new DynamoDbError('ResourceNotFoundException', 'Requested resource not found');
    return table;
  }
}

function unsupported(body: Record<string, unknown>, fields: readonly string[]): void {
  const asked = fields.filter((field) => body[field] !== undefined);
  if (asked.length) throw new DynamoDbError('ValidationException', `the sandbox does not support ${asked.join(', ')}`);
}

function returnValues(body: Record<string, unknown>): 'NONE' | 'ALL_OLD' {
  const value = body.ReturnValues ?? 'NONE';
  if (value !== 'NONE' && value !== 'ALL_OLD') {
    throw new DynamoDbError('ValidationException', `ReturnValues ${String(value)} is not valid here`);
  }
  return value;
}

function itemOf(value: unknown, field: string): Item {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new DynamoDbError('ValidationException', `${field} must be a map of attribute values`);
  }
  for (const [name, attribute] of Object.entries(value)) {
    if (!attribute || typeof attribute !== 'object' || Object.keys(attribute).length !== 1) {
      throw new DynamoDbError('ValidationException', `${field}.${name} must be one typed attribute value`);
    }
  }
  return value as Item;
}

/** A Key names the partition key and nothing else. */
function exactKey(value: unknown): Item {
  const key = itemOf(value, 'Key');
  if (Object.keys(key).length !== 1) {
    throw new DynamoDbError('ValidationException', 'The provided key element does not match the schema');
  }
  return key;
}

function keyValue(spec: TableSpec, item: Item, field: string): string {
  const value = item[spec.partitionKey]?.S;
  if (typeof value !== 'string' || value.length === 0) {
    throw new DynamoDbError(
      'ValidationException',
      `One or more parameter values were invalid: ${field} is missing the key ${spec.partitionKey} of type S`,
    );
  }
  return value;
}
