import { FramewireError } from '@framewire/browser-sdk';

/** The element with `id`, checked to be of `type`. */
export function $<T extends HTMLElement>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`#${id} is missing from the page or is not a ${type.name}`);
  return element;
}

/** `FW_ERR_…: message` for framewire errors, the text of anything else. */
export const describeError = (failure: unknown): string =>
  failure instanceof FramewireError ? `${failure.code}: ${failure.message}` : String(failure);
