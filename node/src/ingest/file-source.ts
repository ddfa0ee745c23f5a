import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { StringDecoder } from "node:string_decoder";
import { BAD_RECORD, NEED_MORE } from "../mediation/csv-reader";
import type { FormatDescriptor } from "../mediation/formats/format";
import { badRecord, recordReader } from "../mediation/mediate";
import type { ParsedRow } from "../mediation/types";
import type { IngestSource, SourceBatch } from "./source";

/** SHA-256 of a file's content, hex. */
export async function hashFile(filePath: string): Promise<string> {
  const hash = crypto.createHash("sha256");
  for await (const chunk of fs.createReadStream(filePath, { highWaterMark: 1 << 20 }))
    hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * A CDR file: known by its content (the same bytes again are the same ingest, whatever the name),
 * read as a stream with bounded memory. It always replays from the first byte: the format's
 * handler rebuilds its state exactly, and the pipeline skips the rows already stored.
 */
export function fileSource(filePath: string, format: FormatDescriptor): IngestSource {
  return {
    kind: "file",
    name: path.basename(filePath),
    location: filePath,
    format,
    live: false,
    async identify() {
      return { identity: await hashFile(filePath), byteSize: fs.statSync(filePath).size };
    },
    async *batches(handler, _ingest, batchRows, signal) {
      const reader = recordReader(format.syntax);
      const decoder = new StringDecoder("utf8");
      let bytesRead = 0;
      let rows: ParsedRow[] = [];
      const take = (): SourceBatch => {
        const batch: SourceBatch = { rows, consumedLine: reader.line, bytesRead };
        rows = [];
        return batch;
      };
      const drain = function* (): Generator<SourceBatch> {
        for (let status = reader.next(); status !== NEED_MORE; status = reader.next()) {
          if (status === BAD_RECORD) rows.push(badRecord(reader));
          else handler.record(reader, rows);
          if (rows.length >= batchRows) yield take();
        }
      };
      for await (const chunk of fs.createReadStream(filePath, { highWaterMark: 1 << 20, signal })) {
        bytesRead += (chunk as Buffer).length;
        const text = decoder.write(chunk as Buffer);
        if (text.length === 0) continue;
        reader.push(text);
        yield* drain();
      }
      reader.push(decoder.end());
      reader.end();
      yield* drain();
      handler.flush(rows);
      yield { rows, consumedLine: Number.MAX_SAFE_INTEGER, bytesRead };
    },
  };
}
