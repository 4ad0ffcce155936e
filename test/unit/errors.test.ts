import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  echo,
  errorFromBody,
  errorToBody,
  GroupNotEmptyError,
  IdempotencyKeyReusedError,
  MAX_ECHOED_CHARS,
  NotSubscribedError,
} from '../../lib/errors.js';

describe('echo', () => {
  it('repeats short input as it is', () => {
    expect(echo('ofset')).toBe('ofset');
  });

  it('never repeats more than a bounded part of any input, and says how much it left out', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 5000 }), (input) => {
        const shown = echo(input);
        expect(shown.length).toBeLessThanOrEqual(MAX_ECHOED_CHARS * 6 + 40);
        if (input.length > MAX_ECHOED_CHARS) expect(shown).toContain(`(${input.length - MAX_ECHOED_CHARS} more characters)`);
      }),
    );
  });

  it('shows control characters and lone surrogates as escapes, so a message is well-formed text', () => {
    expect(echo('a\u0000b\ud800')).toBe('a\\u0000b\\ud800');
    expect(echo('😀'.repeat(40))).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });
});

describe('IdempotencyKeyReusedError', () => {
  it('travels through an error body as the same class', () => {
    const rebuilt = errorFromBody(errorToBody(new IdempotencyKeyReusedError('reused')));
    expect(rebuilt).toBeInstanceOf(IdempotencyKeyReusedError);
    expect(rebuilt).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', retriable: false, message: 'reused' });
  });
});

describe('NotSubscribedError and GroupNotEmptyError (docs/api.md v1.1)', () => {
  it('say which PUT subscribes the group, and travel through an error body as the same classes', () => {
    const notSubscribed = new NotSubscribedError('billing', 'orders');
    expect(notSubscribed.message).toContain('PUT /v1/groups/billing/subscriptions/orders');
    const rebuilt = errorFromBody(errorToBody(notSubscribed));
    expect(rebuilt).toBeInstanceOf(NotSubscribedError);
    expect(rebuilt).toMatchObject({ code: 'NOT_SUBSCRIBED', retriable: false, message: notSubscribed.message, details: { group: 'billing', topic: 'orders' } });
    const notEmpty = errorFromBody(errorToBody(new GroupNotEmptyError('billing', 2)));
    expect(notEmpty).toBeInstanceOf(GroupNotEmptyError);
    expect(notEmpty).toMatchObject({ code: 'GROUP_NOT_EMPTY', retriable: false, details: { group: 'billing', members: 2 } });
  });

  it('names the PUT of another kind of group when told its path', () => {
    expect(new NotSubscribedError('g', 't', { subscribePath: '/v1/share-groups' }).message).toContain('PUT /v1/share-groups/g/subscriptions/t');
  });
});
