import { assertOption } from '../framewire-error.js';

/**
 * The number a CLI flag `--name` was given as (`node:util` `parseArgs` values), or `undefined` when it was not
 * given. Throws `FW_ERR_INVALID_OPTION` ("--name must be a number; got …") for text that is not a finite number.
 */
export function cliNumber<V extends object>(values: V, name: keyof V & string): number | undefined {
  const text = (values as Record<string, unknown>)[name];
  if (text === undefined) return undefined;
  const value = Number(text);
  assertOption(
    typeof text === 'string' && text.trim() !== '' && Number.isFinite(value),
    `--${name} must be a number; got ${typeof text === 'string' ? text : JSON.stringify(text)}`,
  );
  return value;
}
