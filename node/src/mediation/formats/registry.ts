/**
 * Every CDR format the node reads, in the order help texts and the console list them. A format
 * is one module of this folder exporting a {@link FormatDescriptor}; adding one here is all it
 * takes for `icl ingest --format`, the config, `GET /api/v1/formats`, the console's ingest page
 * and the parallel rater to know it.
 */
import { InputError } from "../../errors";
import { asterisk } from "./asterisk";
import { cucm } from "./cucm";
import type { FormatDescriptor } from "./format";
import { freeswitch } from "./freeswitch";
import { iclCsv } from "./icl-csv";
import { iclJson } from "./icl-json";
import { kamailioAcc } from "./kamailio-acc";
import { kamailioCdrs } from "./kamailio-cdrs";

export const FORMATS: readonly FormatDescriptor[] = [
  iclCsv,
  iclJson,
  asterisk,
  freeswitch,
  kamailioAcc,
  kamailioCdrs,
  cucm,
];

/** The format ids, as `--format` and the config accept them. */
export const FORMAT_IDS: readonly string[] = FORMATS.map((format) => format.id);

/** The descriptor of `id`, or undefined. */
export function findFormat(id: string): FormatDescriptor | undefined {
  return FORMATS.find((format) => format.id === id);
}

/**
 * The descriptor of `id`.
 * @throws InputError naming the known formats when there is none.
 */
export function formatById(id: string): FormatDescriptor {
  const format = findFormat(id);
  if (format === undefined) {
    throw new InputError(`unknown CDR format '${id}' (expected one of ${FORMAT_IDS.join(", ")})`, {
      field: "format",
    });
  }
  return format;
}
