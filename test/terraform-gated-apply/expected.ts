/** Counts of every recorded plan in ../shared/fixtures/terraform, written down by hand from reading each file. */
export interface Expected {
  add: number;
  change: number;
  destroy: number;
  replace: number;
  hasChanges: boolean;
  resources: number;
  outputs: number;
  errored?: boolean;
}

/** Hand-counted from each file's resource_changes[].change.actions and output_changes. */
export const EXPECTED: Record<string, Expected> = {
  // module.s3_bucket.aws_s3_bucket.main ["create"]
  'tf-1.14.2-plan-module-create.json': { add: 1, change: 0, destroy: 0, replace: 0, hasChanges: true, resources: 1, outputs: 0 },
  // null_resource.example ["delete","create"] (tainted)
  'tf-1.15.0-plan-tainted-replace.json': { add: 1, change: 0, destroy: 1, replace: 1, hasChanges: true, resources: 1, outputs: 0 },
  // "errored": true, no resource_changes
  'tf-show-json-plan-error.json': { add: 0, change: 0, destroy: 0, replace: 0, hasChanges: false, resources: 0, outputs: 0, errored: true },
  // no resource_changes, 5 outputs ["create"]
  'tofu-plan-outputs-only.json': { add: 0, change: 0, destroy: 0, replace: 0, hasChanges: true, resources: 0, outputs: 5 },
  // local_file.local_file ["delete","create"]
  'tofu-plan-replace-local-file.json': { add: 1, change: 0, destroy: 1, replace: 1, hasChanges: true, resources: 1, outputs: 0 },
  // test_instance.test[0..2] ["create"], output test ["create"]
  'tofu-show-json-basic-create.json': { add: 3, change: 0, destroy: 0, replace: 0, hasChanges: true, resources: 3, outputs: 1 },
  // test_instance.test ["update"], test_instance.test-delete ["delete"], output test ["create"]
  'tofu-show-json-basic-delete.json': { add: 0, change: 1, destroy: 1, replace: 0, hasChanges: true, resources: 2, outputs: 1 },
  // two ["update"] (+1 resource_drift entry, not counted)
  'tofu-show-json-drift.json': { add: 0, change: 2, destroy: 0, replace: 0, hasChanges: true, resources: 2, outputs: 0 },
  // 4 ["create"] in child modules, output test ["create"]
  'tofu-show-json-modules.json': { add: 4, change: 0, destroy: 0, replace: 0, hasChanges: true, resources: 4, outputs: 1 },
  // one ["no-op"], output ["no-op"]
  'tofu-show-json-no-op.json': { add: 0, change: 0, destroy: 0, replace: 0, hasChanges: false, resources: 0, outputs: 0 },
  // test_instance.test ["delete","create"]
  'tofu-show-json-replace.json': { add: 1, change: 0, destroy: 1, replace: 1, hasChanges: true, resources: 1, outputs: 0 },
  // test_instance.test ["create"] with a sensitive ami, sensitive output test ["create"]
  'tofu-show-json-sensitive-values.json': { add: 1, change: 0, destroy: 0, replace: 0, hasChanges: true, resources: 1, outputs: 1 },
};
