import { readFileSync } from 'node:fs';

/** Where Linux shows the board's model (device tree), in the order they are tried. */
export const DEVICE_MODEL_FILES: readonly string[] = ['/proc/device-tree/model', '/sys/firmware/devicetree/base/model'];

/**
 * What the bridge makes of a board model: `pi5` (a Raspberry Pi 5, 500 or Compute Module 5: no hardware H.264
 * encoder), `pi` (an earlier Raspberry Pi, with the VideoCore H.264 encoder), or `other` (not a Raspberry Pi).
 */
export type DeviceKind = 'pi5' | 'pi' | 'other';

/** The board model and where it was read. */
export interface DeviceModel {
  /** The model text, e.g. `Raspberry Pi 5 Model B Rev 1.0`; undefined when no model file could be read. */
  model: string | undefined;
  /** The file it came from (or the last one tried). */
  file: string;
  /** What the model means for H.264 encoding. */
  kind: DeviceKind;
}

/** Classifies a device-tree model string (trailing NUL and spaces are ignored). */
export function classifyDeviceModel(model: string | undefined): DeviceKind {
  if (model === undefined || !/^Raspberry Pi\b/i.test(model.trim())) return 'other';
  return /^Raspberry Pi (5|500|Compute Module 5)\b/i.test(model.trim()) ? 'pi5' : 'pi';
}

/**
 * Reads the board model from `file`, or else from `FRAMEWIRE_DEVICE_MODEL_FILE`, or else from the first readable
 * file of {@link DEVICE_MODEL_FILES}. Tests (and a machine without a Pi) give a stand-in file.
 */
export function readDeviceModel(file?: string): DeviceModel {
  const given = file ?? process.env['FRAMEWIRE_DEVICE_MODEL_FILE'];
  const candidates = given !== undefined && given !== '' ? [given] : DEVICE_MODEL_FILES;
  for (const path of candidates) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    const model = text.replace(/\0/g, '').trim();
    return { model, file: path, kind: classifyDeviceModel(model) };
  }
  return { model: undefined, file: candidates[candidates.length - 1] ?? '', kind: 'other' };
}
