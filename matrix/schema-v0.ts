/**
 * The JSON Schema of `nicmatrix.run/0`, the predecessor of the published
 * record: targets carried `model` and `pciId` flat and had neither `device`,
 * `dimensions` nor target-level `evidence`. Kept only so old records migrate;
 * results and the other shared parts are checked by the v1 definitions.
 */
const V1 = 'https://nicmatrix.dev/schema/run-record-1.json';

export const RUN_RECORD_SCHEMA_V0 = 'nicmatrix.run/0';

export const schemaV0 = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://nicmatrix.dev/schema/run-record-0.json',
  type: 'object',
  required: ['schema', 'id', 'startedAt', 'finishedAt', 'tool', 'host', 'invocation', 'targets'],
  additionalProperties: false,
  properties: {
    schema: { const: RUN_RECORD_SCHEMA_V0 },
    id: { $ref: `${V1}#/properties/id` },
    startedAt: { $ref: `${V1}#/properties/startedAt` },
    finishedAt: { $ref: `${V1}#/properties/finishedAt` },
    tool: { $ref: `${V1}#/properties/tool` },
    host: { $ref: `${V1}#/properties/host` },
    invocation: { $ref: `${V1}#/properties/invocation` },
    targets: {
      type: 'array',
      items: {
        type: 'object',
        required: ['spec', 'kind', 'driver', 'kernel', 'features', 'results'],
        additionalProperties: false,
        properties: {
          spec: { type: 'string', minLength: 1 },
          kind: { enum: ['lo', 'veth', 'qemu', 'phys'] },
          model: { type: 'string', minLength: 1 },
          pciId: { $ref: `${V1}#/$defs/target/properties/device/properties/pciId` },
          driver: { $ref: `${V1}#/$defs/target/properties/driver` },
          kernel: { type: 'string' },
          features: { $ref: `${V1}#/$defs/features` },
          setupError: { $ref: `${V1}#/$defs/target/properties/setupError` },
          results: { type: 'array', items: { $ref: `${V1}#/$defs/result` } },
        },
      },
    },
  },
} as const;

/** A `nicmatrix.run/0` target, as the v0 schema accepts it. */
export interface TargetRecordV0 {
  spec: string;
  kind: 'lo' | 'veth' | 'qemu' | 'phys';
  model?: string;
  pciId?: string;
  driver: { name: string; version: string; firmware: string; bus: string };
  kernel: string;
  features: Record<string, { active: boolean; fixed: boolean | null; requested: boolean | null }>;
  setupError?: { code: string; message: string };
  results: unknown[];
}
