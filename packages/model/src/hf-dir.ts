import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StepcoderError } from '@stepcoder/core';
import { readSafeTensors, type SafeTensor } from './safetensors.js';

/*
 * The files of a Hugging Face model directory other than the tokenizer: config.json,
 * model.safetensors or a sharded model.safetensors.index.json, generation_config.json.
 */

function checkpointError(message: string, details: Record<string, unknown>): StepcoderError {
  return new StepcoderError('CHECKPOINT', message, { details });
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** config.json as an object; a missing or unreadable file is a CHECKPOINT error naming it. */
export async function readHfConfigJson(dir: string): Promise<Record<string, unknown>> {
  const path = join(dir, 'config.json');
  try {
    const json = JSON.parse(await readFile(path, 'utf8'));
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error('not a JSON object');
    return json as Record<string, unknown>;
  } catch (err) {
    throw checkpointError(`cannot read ${path}: ${(err as Error).message}`, { dir, file: path });
  }
}

export interface GenerationConfig {
  /** generation_config.json's `eos_token_id`, an int or a list, as a list. */
  eosTokenIds: number[];
  bosTokenId?: number;
  padTokenId?: number;
}

function ids(value: unknown): number[] {
  if (typeof value === 'number' && Number.isInteger(value)) return [value];
  if (Array.isArray(value))
    return value.filter((v): v is number => typeof v === 'number' && Number.isInteger(v));
  return [];
}

/** generation_config.json when the directory has one (undefined otherwise). */
export async function readGenerationConfig(dir: string): Promise<GenerationConfig | undefined> {
  const path = join(dir, 'generation_config.json');
  if (!(await exists(path))) return undefined;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw checkpointError(`cannot read ${path}: ${(err as Error).message}`, { dir, file: path });
  }
  const bos = ids(json.bos_token_id)[0];
  const pad = ids(json.pad_token_id)[0];
  return {
    eosTokenIds: ids(json.eos_token_id),
    ...(bos === undefined ? {} : { bosTokenId: bos }),
    ...(pad === undefined ? {} : { padTokenId: pad }),
  };
}

export async function writeGenerationConfig(dir: string, config: GenerationConfig): Promise<void> {
  const eos = config.eosTokenIds.length === 1 ? config.eosTokenIds[0] : config.eosTokenIds;
  const json: Record<string, unknown> = {
    ...(config.bosTokenId === undefined ? {} : { bos_token_id: config.bosTokenId }),
    eos_token_id: eos,
    ...(config.padTokenId === undefined ? {} : { pad_token_id: config.padTokenId }),
    transformers_version: '4.46.0',
  };
  await writeFile(join(dir, 'generation_config.json'), `${JSON.stringify(json, null, 2)}\n`);
}

/**
 * Every tensor of `model.safetensors`, or of the shards a `model.safetensors.index.json` lists
 * (its `weight_map`: tensor name → shard file), converted to float32. A shard that is missing, or
 * one that lacks a tensor the index puts in it, fails naming the file and the tensor.
 */
export async function readHfWeights(
  dir: string,
): Promise<{ tensors: Map<string, SafeTensor>; files: string[] }> {
  const single = join(dir, 'model.safetensors');
  if (await exists(single)) return { tensors: (await readSafeTensors(single)).tensors, files: [single] };
  const indexPath = join(dir, 'model.safetensors.index.json');
  if (!(await exists(indexPath))) {
    throw checkpointError(
      `${dir} has neither model.safetensors nor model.safetensors.index.json (pytorch_model.bin is not supported: convert it to safetensors)`,
      { dir },
    );
  }
  let map: Record<string, string>;
  try {
    map = (JSON.parse(await readFile(indexPath, 'utf8')) as { weight_map?: Record<string, string> })
      .weight_map as Record<string, string>;
    if (!map || typeof map !== 'object') throw new Error('no weight_map object');
  } catch (err) {
    throw checkpointError(`cannot read ${indexPath}: ${(err as Error).message}`, { dir, file: indexPath });
  }
  const byFile = new Map<string, string[]>();
  for (const [tensor, file] of Object.entries(map)) {
    if (!byFile.has(file)) byFile.set(file, []);
    byFile.get(file)!.push(tensor);
  }
  const tensors = new Map<string, SafeTensor>();
  const files: string[] = [];
  for (const [file, names] of byFile) {
    const path = join(dir, file);
    if (!(await exists(path))) {
      throw checkpointError(
        `${indexPath}: shard '${file}' is missing (it holds tensor '${names[0]}'${names.length > 1 ? ` and ${names.length - 1} more` : ''})`,
        { dir, file, tensor: names[0], tensors: names.length },
      );
    }
    const shard = (await readSafeTensors(path)).tensors;
    for (const name of names) {
      const t = shard.get(name);
      if (!t) {
        throw checkpointError(
          `${path}: tensor '${name}' is listed in ${indexPath} but not in shard '${file}'`,
          {
            dir,
            file,
            tensor: name,
          },
        );
      }
      tensors.set(name, t);
    }
    files.push(path);
  }
  return { tensors, files };
}
