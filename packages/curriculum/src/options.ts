import { z } from 'zod';
import { PythonSplitter } from './python-splitter.js';
import {
  type PromptTemplate,
  TEMPLATE_FIELDS,
  type TemplateContext,
  unknownTemplateFields,
} from './template.js';

const templateSchema = z.union([
  z.string().superRefine((template, ctx) => {
    const unknown = unknownTemplateFields(template);
    if (unknown.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `unknown field(s) ${unknown.map((u) => `{{${u}}}`).join(', ')}; known: ${TEMPLATE_FIELDS.map((f) => `{{${f}}}`).join(', ')}`,
      });
    }
  }),
  z.custom<(context: TemplateContext) => string>((v) => typeof v === 'function', {
    message: 'expected a template string or a function',
  }),
]);

/** Options every schedule shares: how prompts look and how Python programs are parsed. */
export const commonCurriculumShape = {
  /** Header template (see `PromptTemplate`); default: the commented statement block. */
  template: templateSchema.optional(),
  /** Python interpreter for the splitter (ignored when `splitter` is given). Default `python3`. */
  python: z.string().min(1).optional(),
  /** A splitter instance to share between curricula. */
  splitter: z
    .custom<PythonSplitter>((v) => v instanceof PythonSplitter, {
      message: 'expected a PythonSplitter (createPythonSplitter())',
    })
    .optional(),
};

export interface CommonCurriculumOptions {
  template?: PromptTemplate;
  python?: string;
  splitter?: PythonSplitter;
}

/** The splitter a curriculum uses: the one given, one for a custom interpreter, or the shared one. */
export function splitterFor(options: CommonCurriculumOptions): PythonSplitter | undefined {
  if (options.splitter) return options.splitter;
  if (options.python) return new PythonSplitter({ python: options.python });
  return undefined;
}
