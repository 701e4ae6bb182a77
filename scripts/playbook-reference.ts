// The playbook reference (docs/playbooks.md), written from the JSON Schema that is generated from
// the loader's zod schema: every field, its type, its default and its description, so the page,
// editors and the loader can never disagree. `npm run schema` writes it; a test keeps it current.

/** The parts of a JSON Schema node this page reads. */
interface Node {
  readonly type?: string | string[];
  readonly description?: string;
  readonly default?: unknown;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly pattern?: string;
  readonly properties?: Readonly<Record<string, Node>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: Node | boolean;
  readonly items?: Node;
  readonly anyOf?: readonly Node[];
}

/** One object of the format: where it stands, what it is, its fields. */
interface Section {
  readonly path: string;
  readonly node: Node;
  /** The path of an earlier section with the very same schema (onFailure[] is steps[]). */
  readonly sameAs?: string;
}

const INTRO = `# Playbook reference

<!-- Generated from the playbook schema (src/playbook/schema.ts) by \`npm run schema\`; do not edit by hand. -->

Every key a playbook file may have, where it stands, its type, its default and what it does.
Unknown keys are errors. The same descriptions are in [the JSON Schema](../schema/playbook.schema.json),
so an editor with the YAML language server shows them as you type
(\`# yaml-language-server: $schema=../schema/playbook.schema.json\` at the top of a playbook).
What JSON Schema cannot say — template names, regular expressions, step references, durations that
fit together — \`remediator validate\` checks. The README's "A playbook" section shows a whole one.

Durations are written like \`500ms\`, \`30s\`, \`5m\`, \`1h30m\`, \`1d\`, \`1w\`. Templates are
\`{{ params.NAME }}\` and the other names the README lists; alert text reaches commands and requests
only through params.
`;

/** The page, from the playbook JSON Schema. */
export function playbookReference(schema: Node): string {
  const sections: Section[] = [];
  collect('(top level)', schema, sections);
  const body = sections.map((s) => renderSection(s)).join('\n');
  return `${INTRO}\n${body}`;
}

/** Walks the schema for every object with named fields, depth first, in file order. */
function collect(path: string, node: Node, out: Section[]): void {
  const object = objectOf(node);
  if (object?.properties) {
    const earlier = out.find((s) => s.sameAs === undefined && JSON.stringify(s.node) === JSON.stringify(object));
    if (earlier) {
      out.push({ path, node: object, sameAs: earlier.path });
      return;
    }
    out.push({ path, node: object });
    for (const [key, child] of Object.entries(object.properties)) collect(join(path, key), child, out);
    return;
  }
  if (object?.additionalProperties && typeof object.additionalProperties === 'object') collect(`${path}.NAME`, object.additionalProperties, out);
  const items = arrayItems(node);
  if (items) collect(`${path}[]`, items, out);
}

function join(path: string, key: string): string {
  return path === '(top level)' ? key : `${path}.${key}`;
}

/** The object a node describes, looking through anyOf (a status or a list of statuses). */
function objectOf(node: Node): Node | undefined {
  if (node.type === 'object') return node;
  return node.anyOf?.find((n) => n.type === 'object');
}

function arrayItems(node: Node): Node | undefined {
  if (node.type === 'array') return node.items;
  return node.anyOf?.find((n) => n.type === 'array')?.items;
}

function renderSection(s: Section): string {
  if (s.sameAs !== undefined) return `## \`${s.path}\`\n\nThe same keys as [\`${s.sameAs}\`](#${anchor(s.sameAs)}).\n`;
  const rows = Object.entries(s.node.properties ?? {}).map(([key, child]) => {
    const required = s.node.required?.includes(key) && child.default === undefined;
    return `| \`${key}\`${required ? ' (required)' : ''} | ${typeOf(child)} | ${defaultOf(child)} | ${escape(child.description ?? '')} |`;
  });
  const title = s.path === '(top level)' ? 'The playbook' : `\`${s.path}\``;
  return [
    `## ${title}`,
    '',
    s.node.description ? `${escape(s.node.description)}\n` : '',
    '| key | type | default | what it does |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ]
    .filter((line, i) => line !== '' || i !== 2)
    .join('\n');
}

/** GitHub's anchor of a section titled `path`. */
function anchor(path: string): string {
  return path
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}

/** A short type: string, integer, list of strings, one of a | b, a map of NAME → param, … */
function typeOf(node: Node): string {
  if (node.const !== undefined) return `\`${JSON.stringify(node.const)}\``;
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (node.anyOf) return [...new Set(node.anyOf.map(typeOf))].join(' or ');
  if (node.type === 'array')
    return `list of ${node.items ? plural(typeOf(node.items)) : 'values'}`.replace('list of object (below)', 'list of objects (below)');
  if (node.type === 'object') {
    if (node.properties) return 'object (below)';
    if (node.additionalProperties && typeof node.additionalProperties === 'object') return `map of NAME → ${typeOf(node.additionalProperties)}`;
    return 'object';
  }
  if (node.type === 'string' && node.pattern && /ms\|s\|m\|h\|d\|w/.test(node.pattern)) return 'duration';
  if (Array.isArray(node.type)) return node.type.join(' or ');
  return node.type ?? 'any';
}

function plural(type: string): string {
  return /^(string|integer|number|boolean|duration)$/.test(type) ? `${type}s` : type;
}

function defaultOf(node: Node): string {
  if (node.default === undefined) return '';
  const d = node.default;
  if (typeof d === 'object' && d !== null && Object.keys(d).length === 0) return Array.isArray(d) ? '`[]`' : '';
  return `\`${JSON.stringify(d)}\``;
}

/** A table cell: pipes escaped, so a description can say `a|b`. */
function escape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
