/**
 * Values `test/global-setup.ts` hands to every test file (`inject('dynamoEndpoint')`).
 * Read them through `test/support/storage.ts` rather than directly: it turns "unavailable" into a clear error.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    /** `http://127.0.0.1:PORT` of the run's DynamoDB Local (in memory, `-sharedDb`); '' when unavailable. */
    dynamoEndpoint: string;
    /** `http://127.0.0.1:PORT` of the run's s3rver (path-style); '' when unavailable. */
    s3Endpoint: string;
    /** Why the emulators could not start (e.g. no Java); '' when they are running. */
    emulatorsUnavailable: string;
  }
}

export {};
