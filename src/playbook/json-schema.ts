import { z } from 'zod';
import { playbookSchema } from './schema.js';

/**
 * The JSON Schema of playbook files, generated from the same zod schema the loader uses, so
 * editors (e.g. the YAML language server) complete and check exactly what the daemon accepts.
 * Cross-reference checks (template names, regexes) are beyond JSON Schema: `remediator validate`.
 */
export function playbookJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(playbookSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    title: 'remediator playbook',
    description: 'A remediation playbook: which alerts it matches, its params, guards and steps.',
  };
}
