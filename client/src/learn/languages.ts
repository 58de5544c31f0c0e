/**
 * The fence languages the bank writes (`javascript`, `sql`, `toml`, `sh`, …) mapped to the grammar
 * that highlights them. Kept apart from the grammars so that deciding whether a block is highlighted
 * costs nothing until one is. A fence with no language (ASCII diagrams, worked arithmetic) or one
 * not listed here stays plain monospaced text.
 */
const GRAMMARS: Record<string, string> = {
  javascript: 'javascript',
  js: 'javascript',
  jsx: 'javascript',
  node: 'javascript',
  typescript: 'typescript',
  ts: 'typescript',
  tsx: 'typescript',
  sql: 'sql',
  postgresql: 'sql',
  cql: 'sql',
  toml: 'ini',
  ini: 'ini',
  sh: 'bash',
  bash: 'bash',
  shell: 'bash',
  json: 'json',
  python: 'python',
  py: 'python',
  yaml: 'yaml',
  yml: 'yaml',
}

export function languageOf(lang: string): string | null {
  return GRAMMARS[lang.toLowerCase()] ?? null
}
