import type { ProduceRecord } from '../lib/client/types.js';
import { BATCHES_MEDIA_TYPE, decodeFetch, encodeProduce } from '../lib/client/wire.js';
import { base64Bytes, fetchPayload, type BenchContext } from './harness.js';
import type { Sample } from './measure.js';

/**
 * Calls as the SDK makes them by default (lib/client): a produce in the binary format, encoded and compressed
 * by the client, with an Idempotency-Key; a fetch in the binary format with `urls=1`, every spilled batch
 * handed out as a presigned URL the client GETs itself. Only the call to the function is timed: the client's
 * encoding, its GETs and its decoding are not the function's time. Bodies count as Lambda carries them
 * (binary: base64).
 */

async function measured(ctx: BenchContext, path: string, init: RequestInit, requestBytes: number): Promise<{ sample: Sample; bytes: Uint8Array }> {
  let bytes = new Uint8Array();
  const sample = await ctx.prober.measure(async () => {
    const response = await fetch(`${ctx.stack.url}${path}`, init);
    bytes = new Uint8Array(await response.arrayBuffer());
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${new TextDecoder().decode(bytes).slice(0, 200)}`);
    return { status: response.status, requestBytes, responseBytes: base64Bytes(bytes.length), payloadBytes: 0 };
  });
  return { sample, bytes };
}

/** A produce of `records` as the SDK sends it; `payloadBytes` is the caller's count of what they carry. */
export async function sdkProduce(
  ctx: BenchContext,
  topic: string,
  records: readonly ProduceRecord[],
  options: { partitions: number; idempotencyKey: string; payloadBytes: number },
): Promise<Sample> {
  const now = Date.now();
  const { body } = encodeProduce(records, { partitions: options.partitions, idempotencyKey: options.idempotencyKey, timestampOf: () => now });
  const headers = { 'content-type': BATCHES_MEDIA_TYPE, 'idempotency-key': options.idempotencyKey };
  const { sample } = await measured(ctx, `/v1/topics/${topic}/records`, { method: 'POST', headers, body }, base64Bytes(body.length));
  return { ...sample, payloadBytes: options.payloadBytes };
}

/**
 * A partition fetch (`path`: `…/partitions/{p}/records?…`) as the SDK reads it. `urlGets`: the presigned GETs the
 * client made (S3 bills them as it would the function's; no function waits for them).
 */
export async function sdkFetch(ctx: BenchContext, path: string): Promise<{ sample: Sample; urlGets: number }> {
  const { sample, bytes } = await measured(ctx, path, { headers: { accept: `${BATCHES_MEDIA_TYPE};urls=1` } }, 0);
  let urlGets = 0;
  const read = await decodeFetch(bytes, async (url) => {
    urlGets++;
    const object = await fetch(url);
    if (!object.ok) throw new Error(`presigned GET: HTTP ${object.status}`);
    return new Uint8Array(await object.arrayBuffer());
  });
  return { sample: { ...sample, payloadBytes: fetchPayload({ status: 200, body: read, bytes: 0 }) }, urlGets };
}
