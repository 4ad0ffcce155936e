import type { Stack } from 'aws-cdk-lib';

/**
 * cdk-nag acknowledgements are made with aws-cdk-lib's own `Validations.of(construct).acknowledge({ id, reason })`,
 * so the CDK app needs no cdk-nag at run time (it is a devDependency; test/infra/nag.test.ts runs the packs).
 * Every acknowledgement in this app is listed, with its reason, in README "Security"; that test checks the list.
 */

/**
 * The finding id cdk-nag gives a wildcard resource in an IAM statement (`Resource::<Bucket.Arn>/spill/*`), so
 * that exactly that finding, and no other, can be acknowledged. Mirrors cdk-nag's `flattenCfnReference`:
 * `Fn::Join` parts are concatenated, `Fn::GetAtt` becomes `<Id.Attr>`, `Ref` becomes `<Id>`.
 */
export function nagResourceFinding(stack: Stack, arn: string): string {
  return `Resource::${flatten(stack.resolve(arn))}`;
}

function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  const n = node as Record<string, unknown>;
  if ('Fn::Join' in n) {
    const [separator, parts] = n['Fn::Join'] as [string, unknown[]];
    return parts.map(flatten).join(separator);
  }
  if ('Fn::Sub' in n) return flatten(n['Fn::Sub']);
  if ('Fn::GetAtt' in n) {
    const [resource, attribute] = n['Fn::GetAtt'] as [unknown, unknown];
    return `<${flatten(resource)}.${flatten(attribute)}>`;
  }
  if ('Fn::ImportValue' in n) return flatten(n['Fn::ImportValue']);
  if ('Ref' in n) return `<${flatten(n.Ref)}>`;
  return JSON.stringify(node);
}
