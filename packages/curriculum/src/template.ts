import { type CurriculumPrompt, type Language, type Problem, StepcoderError } from '@stepcoder/core';
import { programOf } from './stages.js';
import { locateStarter } from './starter.js';

/** What a template can use. */
export interface TemplateContext {
  problem: Problem;
  language: Language;
  /** The problem statement, trailing whitespace removed. */
  statement: string;
  /** The default header: see `defaultHeader`. */
  statementComment: string;
  /** `#` for Python, `//` for JavaScript/TypeScript. */
  commentPrefix: string;
  starterCode: string;
  givenPrefix: string;
  stage: number;
  stageCount: number;
}

/**
 * A prompt template renders the *header*: the text before the given prefix. The prompt is always
 * `header + givenPrefix`, so the model continues the program exactly where `completionStart` says.
 * A string template may use `{{name}}` for `statement`, `statementComment`, `commentPrefix`,
 * `starterCode`, `language`, `stage`, `stageCount` and `id`.
 */
export type PromptTemplate = string | ((context: TemplateContext) => string);

export const TEMPLATE_FIELDS = [
  'statement',
  'statementComment',
  'commentPrefix',
  'starterCode',
  'language',
  'stage',
  'stageCount',
  'id',
] as const;

/** The default template: just the commented statement block. */
export const DEFAULT_TEMPLATE = '{{statementComment}}';

export function commentPrefixOf(language: Language): string {
  return language === 'python' ? '#' : '//';
}

function commentLines(text: string, prefix: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => (line.trim() === '' ? prefix : `${prefix} ${line.trimEnd()}`))
    .join('\n');
}

/**
 * The default header: the statement as line comments (`# ` for Python, `// ` for JS/TS — line
 * comments, because a statement may contain `*\/`), one blank line, then the given prefix. Blank
 * statement lines become a bare `#`/`//`. The block is left out when the statement is empty or
 * already inside the given prefix (HumanEval: the statement is the starter code's docstring). When
 * the problem has starter code that the program does not contain, it follows the statement as
 * `# Starter code:` and commented lines, so the model still sees it.
 */
export function defaultHeader(problem: Problem, givenPrefix: string): string {
  const prefix = commentPrefixOf(problem.language);
  const statement = problem.prompt.trimEnd();
  const parts: string[] = [];
  if (statement.trim() !== '' && !givenPrefix.includes(statement.trim())) {
    parts.push(commentLines(statement, prefix));
  }
  const starter = problem.starterCode ?? '';
  const program = programOf(problem) ?? '';
  if (
    starter.trim() !== '' &&
    !locateStarter(program, starter).found &&
    !givenPrefix.includes(starter.trim())
  ) {
    parts.push(`${prefix} Starter code:\n${commentLines(starter.replace(/^\s*\n/, '').trimEnd(), prefix)}`);
  }
  return parts.length === 0 ? '' : `${parts.join('\n')}\n\n`;
}

/** Check a string template's placeholders (used by the option schemas). */
export function unknownTemplateFields(template: string): string[] {
  const unknown: string[] = [];
  for (const match of template.matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
    const name = match[1]!;
    if (!(TEMPLATE_FIELDS as readonly string[]).includes(name)) unknown.push(name);
  }
  return unknown;
}

export function renderHeader(template: PromptTemplate, context: TemplateContext): string {
  if (typeof template === 'function') return template(context);
  const unknown = unknownTemplateFields(template);
  if (unknown.length > 0) {
    throw new StepcoderError(
      'INVALID_OPTIONS',
      `Prompt template uses unknown field(s) ${unknown.map((u) => `{{${u}}}`).join(', ')}; ` +
        `known: ${TEMPLATE_FIELDS.map((f) => `{{${f}}}`).join(', ')}`,
    );
  }
  const values: Record<(typeof TEMPLATE_FIELDS)[number], string> = {
    statement: context.statement,
    statementComment: context.statementComment,
    commentPrefix: context.commentPrefix,
    starterCode: context.starterCode,
    language: context.language,
    stage: String(context.stage),
    stageCount: String(context.stageCount),
    id: context.problem.id,
  };
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: keyof typeof values) => values[name]);
}

export interface AssembleOptions {
  template?: PromptTemplate;
  stage?: number;
  stageCount?: number;
  /** The canonical remainder; default: the rest of the first canonical solution after the prefix. */
  target?: string;
}

/**
 * Build the model's prompt for a given prefix: `header + givenPrefix`, where the header comes from
 * the template (default `defaultHeader`). The program that runs is `givenPrefix + completion`, so
 * `completionStart = givenPrefix.length` and coverage lines of the run line up with the full
 * canonical program's lines.
 */
export function assemblePrompt(
  problem: Problem,
  givenPrefix: string,
  templateOrOptions: PromptTemplate | AssembleOptions = {},
): CurriculumPrompt {
  const options: AssembleOptions =
    typeof templateOrOptions === 'object' ? templateOrOptions : { template: templateOrOptions };
  const stage = options.stage ?? 0;
  const stageCount = options.stageCount ?? 1;
  const program = programOf(problem) ?? '';
  const target = options.target ?? (program.startsWith(givenPrefix) ? program.slice(givenPrefix.length) : '');
  const context: TemplateContext = {
    problem,
    language: problem.language,
    statement: problem.prompt.trimEnd(),
    statementComment: defaultHeader(problem, givenPrefix),
    commentPrefix: commentPrefixOf(problem.language),
    starterCode: problem.starterCode ?? '',
    givenPrefix,
    stage,
    stageCount,
  };
  const header = renderHeader(options.template ?? DEFAULT_TEMPLATE, context);
  return {
    prompt: header + givenPrefix,
    givenPrefix,
    target,
    completionStart: givenPrefix.length,
    stage,
    stageCount,
  };
}
