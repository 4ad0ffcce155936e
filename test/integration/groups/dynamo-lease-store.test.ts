import { afterAll, beforeAll } from 'vitest';
import { DynamoLeaseStore } from '../../../lib/groups/dynamo-lease-store.js';
import { leaseStoreContract } from '../../support/lease-store-contract.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';

let storage: TestStorage;

beforeAll(async () => {
  storage = await createTestStorage();
});

afterAll(() => storage?.cleanup());

leaseStoreContract('DynamoLeaseStore', () => new DynamoLeaseStore({ doc: storage.doc, tableName: storage.config.leaseTable }));
