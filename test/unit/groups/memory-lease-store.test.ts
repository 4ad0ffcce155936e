import { MemoryLeaseStore } from '../../support/memory-lease-store.js';
import { leaseStoreContract } from '../../support/lease-store-contract.js';

// The fake the unit tests of lib/groups run on passes the contract DynamoLeaseStore passes on DynamoDB Local.
leaseStoreContract('MemoryLeaseStore', () => new MemoryLeaseStore());
