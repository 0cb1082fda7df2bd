import type { Language, SourcePos } from '@stepcoder/core';
import { transform } from 'sucrase';

/** Maps a position in the transpiled code back to the candidate's own source. */
export type PositionMapper = (pos: SourcePos) => SourcePos;

export interface PreparedSource {
  /** Plain JavaScript that a V8 script can run. */
  code: string;
  /** Present when the code was transformed; lines are preserved, columns are not. */
  mapPosition?: PositionMapper;
}

const MODULE_SYNTAX = /^[ \t]*(?:import[\s{*'"]|export[\s{*])/m;

/**
 * TypeScript types are stripped with sucrase, which keeps every line where it was (coverage is
 * reported per line) and emits token-level source maps, which we use to map columns back. ES
 * module syntax (`import`/`export`) in either language becomes CommonJS, served by the sandbox's
 * `module`/`exports`/`require` shims, since candidates run as classic scripts.
 */
export function prepareSource(source: string, language: Language): PreparedSource {
  const transforms: Array<'typescript' | 'imports'> = [];
  if (language === 'typescript') transforms.push('typescript');
  if (MODULE_SYNTAX.test(source)) transforms.push('imports');
  if (transforms.length === 0) return { code: source };
  const out = transform(source, {
    transforms,
    disableESTransforms: true,
    keepUnusedImports: true,
    filePath: language === 'typescript' ? 'program.ts' : 'program.js',
    sourceMapOptions: { compiledFilename: 'program.js' },
  });
  const mappings = out.sourceMap ? decodeMappings(out.sourceMap.mappings) : [];
  return { code: out.code, mapPosition: (pos) => mapWith(mappings, pos) };
}

/** One segment: generated column, source line (0-based), source column. */
type Segment = [number, number, number];

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64_VALUE = new Map([...BASE64].map((c, i) => [c, i]));

/** Decode a source map's `mappings` (base64 VLQ) into segments per generated line. */
export function decodeMappings(mappings: string): Segment[][] {
  const lines: Segment[][] = [];
  let srcLine = 0;
  let srcCol = 0;
  for (const lineText of mappings.split(';')) {
    const segments: Segment[] = [];
    let genCol = 0;
    if (lineText) {
      for (const segText of lineText.split(',')) {
        const fields: number[] = [];
        let value = 0;
        let shift = 0;
        for (const ch of segText) {
          const digit = BASE64_VALUE.get(ch) ?? 0;
          value += (digit & 31) << shift;
          if (digit & 32) shift += 5;
          else {
            fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
            value = 0;
            shift = 0;
          }
        }
        genCol += fields[0] ?? 0;
        if (fields.length >= 4) {
          srcLine += fields[2]!;
          srcCol += fields[3]!;
          segments.push([genCol, srcLine, srcCol]);
        }
      }
    }
    lines.push(segments);
  }
  return lines;
}

function mapWith(lines: Segment[][], pos: SourcePos): SourcePos {
  const segments = lines[pos.line - 1];
  if (!segments || segments.length === 0) return pos;
  let best: Segment | undefined;
  for (const seg of segments) {
    if (seg[0] <= pos.column) best = seg;
    else break;
  }
  if (!best) return { line: pos.line, column: Math.max(0, segments[0]![2] - (segments[0]![0] - pos.column)) };
  return { line: best[1] + 1, column: best[2] + (pos.column - best[0]) };
}
