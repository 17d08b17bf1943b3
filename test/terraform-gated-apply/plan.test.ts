/**
 * The counting contract and the plan reader over every real plan in ../shared/fixtures/terraform.
 * Expected counts are written down by hand from reading each fixture's resource_changes (see the
 * table's comments in expected.ts), not computed by the code under test; a fixture missing from the
 * table fails.
 */
import { describe, expect, it } from 'vitest';
import {
  BadPlanError,
  checkPlanShape,
  classify,
  countChanges,
  ErroredPlanError,
  isSensitive,
  parsePlanText,
  sensitiveStrings,
  splitOutputs,
  summarizePlan,
  attributeChanges,
  SENSITIVE,
  UNKNOWN,
} from '../../actions/terraform-gated-apply/src/plan.js';
import { planMarkdown, commentMarker, applyMarkdown } from '../../actions/terraform-gated-apply/src/summary.js';
import { describeFixtures, fixtureFiles, fixtureJson, fixtureText } from '../harness/fixtures.js';
import { EXPECTED, type Expected } from './expected.js';

describeFixtures('every recorded plan in ../shared/fixtures/terraform', () => {
  const files = fixtureFiles('terraform', '.json');

  it('has an expectation for every fixture (a new fixture must be counted by hand first)', () => {
    expect(files.length).toBeGreaterThanOrEqual(12);
    expect(files.filter((f) => !(f in EXPECTED))).toEqual([]);
  });

  it.each(files.filter((f) => !EXPECTED[f]?.errored))('%s: counts, resources and outputs match the hand count', (f) => {
    const e = EXPECTED[f] as Expected;
    const s = summarizePlan(parsePlanText(fixtureText('terraform', f)), f);
    expect(s.counts).toEqual({ add: e.add, change: e.change, destroy: e.destroy, replace: e.replace, imports: 0, forgets: 0 });
    expect(s.hasChanges).toBe(e.hasChanges);
    expect(s.resources).toHaveLength(e.resources);
    expect(s.outputs).toHaveLength(e.outputs);
    // The summary a reviewer reads says the same numbers.
    const text = planMarkdown({
      environment: 'production',
      summary: s,
      planSha256: 'a'.repeat(64),
      artifactName: 'tfplan-production',
      source: 'terraform plan',
    });
    expect(text).toContain(`**${e.add} to add, ${e.change} to change, ${e.destroy} to destroy**`);
    expect(text).toContain(`\`${'a'.repeat(64)}\``);
  });

  it('the errored plan is a plan-failed error, not a zero-change plan', () => {
    expect(() => summarizePlan(fixtureJson('terraform', 'tf-show-json-plan-error.json'))).toThrow(ErroredPlanError);
  });

  it('reads format 1.0 (OpenTofu) and 1.2 (Terraform 1.14/1.15, OpenTofu) and names the tool', () => {
    const tf = summarizePlan(fixtureJson('terraform', 'tf-1.15.0-plan-tainted-replace.json'));
    expect([tf.formatVersion, tf.tool, tf.terraformVersion]).toEqual(['1.2', 'terraform', '1.15.0']);
    const tofu = summarizePlan(fixtureJson('terraform', 'tofu-show-json-basic-create.json'));
    expect([tofu.formatVersion, tofu.tool]).toEqual(['1.0', 'opentofu']);
    // OpenTofu 1.12 writes terraform_version too (opentofu/opentofu v1.12.6 internal/command/jsonplan/plan.go):
    // its registry's provider addresses still name it.
    const tofu112 = {
      format_version: '1.2',
      terraform_version: '1.12.6',
      resource_changes: [
        {
          address: 'random_pet.p',
          mode: 'managed',
          provider_name: 'registry.opentofu.org/hashicorp/random',
          change: { actions: ['create'] },
        },
      ],
    };
    expect(summarizePlan(tofu112).tool).toBe('opentofu');
    expect(
      summarizePlan({
        ...tofu112,
        resource_changes: [{ ...tofu112.resource_changes[0], provider_name: 'registry.terraform.io/hashicorp/random' }],
      }).tool,
    ).toBe('terraform');
  });

  it('the replace shows why and which attribute forces it', () => {
    const s = summarizePlan(fixtureJson('terraform', 'tofu-show-json-replace.json'));
    expect(s.resources[0]).toMatchObject({ address: 'test_instance.test', action: 'replace', reason: 'replace_because_cannot_update' });
    expect(s.resources[0]!.attributes.find((a) => a.path === 'ami')).toMatchObject({ forcesReplacement: true });
    const tainted = summarizePlan(fixtureJson('terraform', 'tf-1.15.0-plan-tainted-replace.json'));
    expect(planMarkdown({ environment: 'prod', summary: tainted, planSha256: '', artifactName: '', source: 'x' })).toContain(
      'the object is tainted',
    );
  });

  it('drift is listed apart and not counted', () => {
    const s = summarizePlan(fixtureJson('terraform', 'tofu-show-json-drift.json'));
    expect(s.drift).toHaveLength(1);
    expect(planMarkdown({ environment: 'p', summary: s, planSha256: '', artifactName: '', source: 'x' })).toContain(
      'Changed outside Terraform',
    );
  });

  it('sensitive values never reach the summary or the comment; the masker gets them', () => {
    const plan = fixtureJson<Record<string, unknown>>('terraform', 'tofu-show-json-sensitive-values.json');
    // "boop" is the sensitive ami, the sensitive output and the sensitive variable in this fixture.
    expect(JSON.stringify(plan)).toContain('boop');
    const s = summarizePlan(plan);
    const report = { environment: 'production', summary: s, planSha256: 'b'.repeat(64), artifactName: 'x', source: 'terraform plan' };
    for (const text of [planMarkdown(report), planMarkdown(report, { forComment: true }), JSON.stringify(s)]) {
      expect(text).not.toContain('boop');
      expect(text).toContain(SENSITIVE);
    }
    expect(s.resources[0]!.attributes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'ami', after: SENSITIVE }),
        expect.objectContaining({ path: 'id', after: UNKNOWN }),
      ]),
    );
    expect(sensitiveStrings(plan)).toEqual(['boop']);
  });

  it('the comment starts with the hidden marker of its environment', () => {
    const s = summarizePlan(fixtureJson('terraform', 'tofu-show-json-basic-create.json'));
    const body = planMarkdown(
      {
        environment: 'staging',
        summary: s,
        planSha256: 'c'.repeat(64),
        artifactName: 'tfplan-staging',
        source: 'terraform plan',
        runUrl: 'https://github.com/o/r/actions/runs/1',
      },
      { forComment: true },
    );
    expect(body.startsWith(commentMarker('staging'))).toBe(true);
    expect(commentMarker('staging')).not.toBe(commentMarker('production'));
    expect(body).toContain('(https://github.com/o/r/actions/runs/1)');
  });
});

describe('format checks', () => {
  it('malformed JSON, non-objects, states, schemas and unknown majors are bad-plan errors', () => {
    expect(() => parsePlanText('{"format_version": "1.2",')).toThrow(BadPlanError);
    expect(() => checkPlanShape([])).toThrow(/not a Terraform plan/);
    expect(() => checkPlanShape({ hello: 1 })).toThrow(/no "format_version"/);
    expect(() => checkPlanShape({ format_version: '1.0', terraform_version: '1.5.0', values: { root_module: {} } })).toThrow(/a state/);
    expect(() => checkPlanShape({ format_version: '1.0', provider_schemas: {} })).toThrow(/provider schemas/);
    expect(() => checkPlanShape({ format_version: '2.0', resource_changes: [] })).toThrow(/format_version 2\.0/);
    expect(() => checkPlanShape({ format_version: '1.2', resource_changes: {} })).toThrow(/must be a list/);
  });

  it('0.x and 1.x are read; a newer 1.x minor is read with a warning', () => {
    expect(checkPlanShape({ format_version: '0.1', planned_values: {} }).warnings).toEqual([]);
    expect(checkPlanShape({ format_version: '0.2', planned_values: {} }).warnings).toEqual([]);
    expect(checkPlanShape({ format_version: '1.3', planned_values: {} }).warnings[0]).toMatch(/newer than 1\.2/);
  });

  it('the contract, action by action, over managed resources only', () => {
    const rc = (actions: string[], mode = 'managed', extra: Record<string, unknown> = {}) => ({
      address: `x.${actions.join('_')}_${mode}`,
      mode,
      change: { actions, ...extra },
    });
    const plan = {
      format_version: '1.2',
      resource_changes: [
        rc(['create']),
        rc(['update']),
        rc(['delete']),
        rc(['delete', 'create']),
        rc(['create', 'delete']),
        rc(['no-op']),
        rc(['read'], 'data'),
        rc(['create'], 'data'),
        rc(['no-op'], 'managed', { importing: { id: 'i-123' } }),
        rc(['update'], 'managed', { importing: { id: 'i-456' } }),
        rc(['forget']),
      ],
    };
    expect(countChanges(plan)).toEqual({ add: 3, change: 2, destroy: 3, replace: 2, imports: 2, forgets: 1 });
    const s = summarizePlan(plan);
    expect(s.resources.map((r) => r.action)).toEqual(['create', 'update', 'delete', 'replace', 'replace', 'import', 'update', 'forget']);
    expect(countChanges({ format_version: '1.2', resource_changes: [] })).toEqual({
      add: 0,
      change: 0,
      destroy: 0,
      replace: 0,
      imports: 0,
      forgets: 0,
    });
  });

  it('an action list the contract does not know is refused, not ignored', () => {
    expect(() => classify(['delete', 'update'], 'a.b')).toThrow(/unknown change actions/);
    expect(() => classify('create', 'a.b')).toThrow(BadPlanError);
  });
});

describe('sensitive and unknown values', () => {
  it('isSensitive follows nested masks and whole-value marks', () => {
    expect(isSensitive(true, ['a', 'b'])).toBe(true);
    expect(isSensitive({ a: { b: true } }, ['a', 'b'])).toBe(true);
    expect(isSensitive({ a: { b: true } }, ['a', 'c'])).toBe(false);
    expect(isSensitive({ a: [false, true] }, ['a', 1])).toBe(true);
    expect(isSensitive(false, ['a'])).toBe(false);
  });

  it('nested sensitive parts and whole-resource sensitivity are hidden', () => {
    const change = {
      actions: ['update'],
      before: { tags: { owner: 'ops', secret: 'old-hunter2' }, size: 1, blob: { k: 'v-old' } },
      after: { tags: { owner: 'ops', secret: 'new-hunter2' }, size: 2, blob: { k: 'v-new' } },
      before_sensitive: { tags: { secret: true }, blob: true },
      after_sensitive: { tags: { secret: true }, blob: true },
      after_unknown: {},
    };
    const attrs = attributeChanges(change);
    expect(attrs).toEqual([
      { path: 'blob', before: SENSITIVE, after: SENSITIVE, forcesReplacement: false },
      { path: 'size', before: '1', after: '2', forcesReplacement: false },
      { path: 'tags.secret', before: SENSITIVE, after: SENSITIVE, forcesReplacement: false },
    ]);
    expect(JSON.stringify(attrs)).not.toMatch(/hunter2|v-old|v-new/);
    const whole = attributeChanges({ ...change, after_sensitive: true, before_sensitive: true });
    expect(JSON.stringify(whole)).not.toMatch(/hunter2|v-old|v-new|"1"|"2"/);
  });

  it('terraform output -json: sensitive outputs are omitted and handed to the masker', () => {
    const r = splitOutputs({
      url: { sensitive: false, type: 'string', value: 'https://x' },
      pw: { sensitive: true, type: 'string', value: 'p4ssw0rd' },
      obj: { sensitive: true, type: ['object', {}], value: { k: 'deepsecret' } },
    });
    expect(r.outputs).toEqual({ url: 'https://x' });
    expect(r.omitted).toEqual(['pw', 'obj']);
    expect(r.sensitive).toEqual(expect.arrayContaining(['p4ssw0rd', 'deepsecret']));
  });

  it('the apply report names outputs but shows no values', () => {
    const text = applyMarkdown({
      environment: 'production',
      planSha256: 'd'.repeat(64),
      artifactName: 'tfplan-production',
      applied: true,
      outputs: ['url'],
      omitted: ['pw'],
      actualSha256: 'd'.repeat(64),
    });
    expect(text).toContain('✅ matches');
    expect(text).toContain('`pw`');
  });
});
