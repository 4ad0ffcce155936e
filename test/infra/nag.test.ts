import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations, type PolicyViolation } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks, type NagPack } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ApiStack, REPO_ROOT } from '../../infra/api-stack.js';
import { StatefulStack } from '../../infra/stateful-stack.js';

/*
 * cdk-nag's AwsSolutions and Serverless packs over both stacks, wired as infra/app.ts wires them, with the
 * feature flags of cdk.json. Bundling is skipped (the packs read the templates' resources, not the code), so
 * this runs in about a second. Acknowledged findings are made in the stacks with aws-cdk-lib's
 * `Validations.of(construct).acknowledge({ id, reason })`; README "Security" lists each one, and this file
 * checks that list.
 */

let app: App;

beforeAll(() => {
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
  const stateful = new StatefulStack(app, 'Shardlog-Stateful');
  new ApiStack(app, 'Shardlog-Api', {
    logTable: stateful.logTable,
    leaseTable: stateful.leaseTable,
    segmentBucket: stateful.segmentBucket,
  });
});

/** `rule at construct path` for each violation of `severity`, so a failure names what to look at. */
function findings(pack: NagPack, severity: 'error' | 'warning'): string[] {
  const report = pack.validateScope(app);
  return report.violations
    .filter((v: PolicyViolation) => v.severity === severity)
    .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}`))
    .sort();
}

/** Every acknowledgement in the app: construct path → rule id → reason. */
function acknowledgements(): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  const visit = (node: IConstruct) => {
    for (const entry of node.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        const rules = out.get(node.node.path) ?? new Map<string, string>();
        rules.set(id.replace(/^annotation::/i, ''), reason);
        out.set(node.node.path, rules);
      }
    }
    node.node.children.forEach(visit);
  };
  visit(app);
  return out;
}

describe('cdk-nag', () => {
  it('finds no unacknowledged error of the AwsSolutions pack in either stack', () => {
    expect(findings(new AwsSolutionsChecks(), 'error')).toEqual([]);
  });

  it('finds no unacknowledged error of the Serverless pack in either stack', () => {
    expect(findings(new ServerlessChecks(), 'error')).toEqual([]);
  });

  it('leaves only the X-Ray tracing warning, on each function, unacted on', () => {
    const warnings = [...findings(new AwsSolutionsChecks(), 'warning'), ...findings(new ServerlessChecks(), 'warning')];
    expect(new Set(warnings.map((w) => w.split(' at ')[0]))).toEqual(new Set(['Serverless-LambdaTracing']));
  });

  it('acknowledges exactly these findings, each where it occurs', () => {
    const found = [...acknowledgements()].flatMap(([path, rules]) => [...rules.keys()].map((id) => `${path}: ${id}`)).sort();
    const iam5 = (prefix: string) => `AwsSolutions-IAM5[Resource::<SegmentBucketFBC9FB87.Arn>/${prefix}*]`;
    expect(found).toEqual(
      [
        'Shardlog-Stateful/SegmentBucket: AwsSolutions-S1',
        ...['Topics', 'Produce', 'Fetch', 'Groups', 'ShareGroups', 'Maintenance'].map((f) => `Shardlog-Api/${f}Function: Serverless-LambdaDLQ`),
        'Shardlog-Api/MaintenanceSchedule: Serverless-LambdaDLQ',
        'Shardlog-Api/MaintenanceSchedule: Serverless-LambdaAsyncFailureDestination',
        'Shardlog-Api/MaintenanceEveryMinute: Serverless-EventBusDLQ',
        `Shardlog-Api/ProduceFunctionRole: ${iam5('spill/')}`,
        `Shardlog-Api/ProduceFunctionRole: ${iam5('upload/')}`,
        ...['FetchFunctionRole', 'GroupsFunctionRole', 'ShareGroupsFunctionRole', 'MaintenanceFunctionRole', 'MaintenanceScheduleRole'].flatMap((r) => [
          `Shardlog-Api/${r}: ${iam5('segments/')}`,
          `Shardlog-Api/${r}: ${iam5('spill/')}`,
        ]),
      ].sort(),
    );
  });

  it('gives every acknowledgement a specific reason', () => {
    for (const [path, rules] of acknowledgements()) {
      for (const [id, reason] of rules) {
        expect(reason.length, `${path}: ${id}`).toBeGreaterThan(80);
      }
    }
  });

  it('lists every acknowledged rule in the README security section', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const security = readme.slice(readme.indexOf('## Security'), readme.indexOf('\n## ', readme.indexOf('## Security') + 1));
    expect(security.length).toBeGreaterThan(100);
    for (const rules of acknowledgements().values()) {
      for (const id of rules.keys()) {
        const rule = id.replace(/\[.*$/, '');
        expect(security, rule).toContain(`\`${rule}\``);
        const prefix = /\/([a-z]+\/)\*\]$/.exec(id)?.[1];
        if (prefix) expect(security, id).toContain(`\`${prefix}\``);
      }
    }
  });
});
