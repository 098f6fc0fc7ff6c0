import { assertOption } from '@framewire/core';

/*
 * A source's ffmpeg filtergraph (FFGear's per-source filters, e.g. `hflip,eq=gamma=1.2`) reaches ffmpeg as one argv
 * element (no shell), but a filter itself can open files, load libraries or listen on the network: `movie` reads any
 * file or URL, `sendcmd` reads a command file, `zmq` listens on a socket, `drawtext` opens `fontfile`/`textfile`,
 * `metadata` writes `file`. Such filters, and every option that names a file, are refused before ffmpeg sees them.
 */

/** Filters refused whatever their options: they read or write files or URLs, listen on sockets, or load code. */
const REFUSED_FILTERS = new Set([
  'movie',
  'amovie',
  'sendcmd',
  'asendcmd',
  'zmq',
  'azmq',
  'subtitles',
  'ass',
  'lut1d',
  'lut3d',
  'frei0r',
  'frei0r_src',
  'ladspa',
  'lv2',
  'ocv',
  'libvmaf',
  'vmafmotion',
  'psnr',
  'ssim',
  'signature',
  'vidstabdetect',
  'vidstabtransform',
  'removelogo',
  'find_rect',
  'cover_rect',
  'dnn_processing',
  'dnn_detect',
  'dnn_classify',
  'sr',
  'derain',
  'program_opencl',
  'openclsrc',
  'libplacebo',
  'sofalizer',
  'ocr',
  'coreimage',
  'coreimagesrc',
  'qrencode',
  'qrencodesrc',
]);

/**
 * Filters that are harmless except for an option naming a file: their named options are checked against
 * {@link FILE_OPTIONS}, and positional values are refused (a file option can be given by position, e.g.
 * `drawtext=/etc/passwd` is its `fontfile`).
 */
const FILTERS_WITH_FILE_OPTIONS = new Set(['drawtext', 'curves', 'metadata', 'ametadata', 'deshake']);

/** Option names that open a file, a library or a URL in some ffmpeg filter. */
const FILE_OPTIONS = new Set([
  'file',
  'filename',
  'f',
  'fontfile',
  'textfile',
  'psfile',
  'plot',
  'stats_file',
  'log_path',
  'model',
  'model_path',
  'labels',
  'datapath',
  'source',
  'custom_shader_path',
  'shader',
  'result',
  'input',
  'sofa',
  'url',
  'bind_address',
]);

/** Longest filtergraph accepted, in characters. */
const MAX_GRAPH_CHARS = 2000;

/** One filter of a graph as {@link parseFilterGraph} read it. */
export interface ParsedFilter {
  /** The filter's name, without an `@instance` suffix, e.g. `eq`. */
  name: string;
  /** Its named options, unescaped (`gamma` → `1.2`). */
  named: Map<string, string>;
  /** Its values given by position, unescaped. */
  positional: string[];
}

/**
 * Reads a filtergraph into its filters, following ffmpeg's quoting (`'…'`) and escaping (`\`): filters are
 * separated by `,` or `;`, link labels (`[in]`) are skipped, options are `:`-separated `key=value` or positional.
 * Throws `FW_ERR_INVALID_OPTION` when the graph is empty, too long, has unbalanced quotes or a malformed name.
 */
export function parseFilterGraph(graph: string): ParsedFilter[] {
  assertOption(typeof graph === 'string' && graph.trim() !== '', 'vf must be a non-empty ffmpeg filtergraph');
  assertOption(graph.length <= MAX_GRAPH_CHARS, `vf must be at most ${MAX_GRAPH_CHARS} characters`);
  assertOption(!/[\0\n\r]/.test(graph), 'vf must be one line');
  const filters: ParsedFilter[] = [];
  for (const text of splitUnquoted(graph, ',;')) {
    const body = text.raw.replace(/^\s*(\[[^\]]*\]\s*)*/, '').replace(/(\s*\[[^\]]*\])*\s*$/, '');
    const at = indexUnquoted(body, '=');
    const rawName = (at < 0 ? body : body.slice(0, at)).trim();
    const name = rawName.replace(/@\w+$/, '');
    assertOption(/^[a-z0-9_]+$/i.test(name), `vf: "${rawName}" is not a filter name (in ${graph})`);
    const named = new Map<string, string>();
    const positional: string[] = [];
    if (at >= 0)
      for (const part of splitUnquoted(body.slice(at + 1), ':')) {
        const eq = indexUnquoted(part.raw, '=');
        if (eq < 0) positional.push(unescape(part.raw));
        else named.set(unescape(part.raw.slice(0, eq)).trim().toLowerCase(), unescape(part.raw.slice(eq + 1)));
      }
    filters.push({ name: name.toLowerCase(), named, positional });
  }
  return filters;
}

/**
 * Checks a source's filtergraph (`#vf=…`) and returns it: ffmpeg's syntax as far as names go (see
 * {@link parseFilterGraph}), and no filter that opens files or the network or loads code (`movie`, `amovie`,
 * `sendcmd`, `zmq`, `azmq`, `subtitles`, `frei0r`, …), no option that names a file (`fontfile`, `textfile`,
 * `filename`, `file`, …). Throws `FW_ERR_INVALID_OPTION` naming the refused filter or option. Whether ffmpeg accepts
 * the graph's values is learnt when it runs (a rejected graph fails the source with `FW_ERR_FILTER_REJECTED`).
 */
export function assertSafeVideoFilter(graph: string): string {
  for (const filter of parseFilterGraph(graph)) {
    assertOption(
      !REFUSED_FILTERS.has(filter.name),
      `vf: the ${filter.name} filter opens files, sockets or libraries and is not allowed (in ${graph})`,
    );
    for (const key of filter.named.keys())
      assertOption(
        !FILE_OPTIONS.has(key),
        `vf: the ${filter.name} option ${key}= names a file or URL and is not allowed (in ${graph})`,
      );
    assertOption(
      !FILTERS_WITH_FILE_OPTIONS.has(filter.name) || filter.positional.length === 0,
      `vf: give the ${filter.name} filter's options by name (key=value): one of its options names a file (in ${graph})`,
    );
  }
  return graph;
}

/** Lines of ffmpeg's stderr that say it rejected a filtergraph (ffmpeg 5 to 7 wording). */
const FILTER_FAILURE =
  /Error (?:re)?initializing (?:complex )?filters?|Error (?:opening|configuring) filters?|Failed to configure (?:output|input) pad|Error parsing (?:a )?filter/i;

/** The prefix of ffmpeg's log lines from the filtergraph and its filters, e.g. `[AVFilterGraph @ 0x55…]`. */
const FILTER_LOG_PREFIX = /\[(?:AVFilterGraph|Parsed_\w+|graph[^\]]*) @ 0x/;

/**
 * ffmpeg's reason for rejecting a filtergraph, read from its stderr (e.g. `No such filter: 'nosuch'`, `Error when
 * parsing the expression 'abc' for gamma`), or `undefined` when the stderr does not tell of a filter failure.
 */
export function filterFailureReason(stderr: string): string | undefined {
  if (!FILTER_FAILURE.test(stderr)) return undefined;
  const lines = stderr
    .split('\n')
    // A line may follow other text (a failure message quoting the stderr starts with its own words).
    .map((line) => line.slice(Math.max(0, line.search(FILTER_LOG_PREFIX))))
    .filter((line) => FILTER_LOG_PREFIX.test(line))
    .map((line) => line.replace(/\[[^\]]*@ 0x[0-9a-f]+\]\s*/gi, '').trim())
    .filter((line) => line !== '');
  return (lines.length > 0 ? [...new Set(lines)].join('; ') : (FILTER_FAILURE.exec(stderr)?.[0] ?? '')).slice(0, 500);
}

interface Piece {
  raw: string;
}

/** Splits `text` at the characters of `separators` that are neither quoted (`'…'`) nor escaped (`\`). */
function splitUnquoted(text: string, separators: string): Piece[] {
  const pieces: Piece[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] ?? '';
    if (char === '\\') i++;
    else if (char === "'") quoted = !quoted;
    else if (!quoted && separators.includes(char)) {
      pieces.push({ raw: text.slice(start, i) });
      start = i + 1;
    }
  }
  assertOption(!quoted, `vf: unbalanced quote in ${text}`);
  pieces.push({ raw: text.slice(start) });
  return pieces;
}

/** The index of the first unquoted, unescaped `char` in `text`, or -1. */
function indexUnquoted(text: string, char: string): number {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === "'") quoted = !quoted;
    else if (!quoted && c === char) return i;
  }
  return -1;
}

/** Removes one level of ffmpeg quoting and escaping. */
function unescape(text: string): string {
  return text.replace(/\\(.)|'/g, (_all, escaped: string | undefined) => escaped ?? '');
}
