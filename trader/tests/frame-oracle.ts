// The TypeScript codec (schema/frame.ts) as an oracle for the Python one: reads JSON lines on stdin,
// answers one JSON line each. {"decode": hex} -> {error, fields}; {"encode": fields} -> {hex}.
// Used by tests/test_wire.py; ids and mantissas stay within 2^53 where the TS readers are exact.
import {
  decodeFrame,
  encodeFrame,
  FRAME_ERROR_NAMES,
  FRAME_SIZE,
  type FrameFields,
  validateFrame,
} from "../../schema/frame.ts";

const lines = (await Bun.stdin.text()).split("\n").filter((l) => l.length > 0);
const out: string[] = [];
for (const line of lines) {
  const req = JSON.parse(line) as { decode?: string; encode?: FrameFields };
  if (req.decode !== undefined) {
    const bytes = Buffer.from(req.decode, "hex");
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const error = FRAME_ERROR_NAMES[validateFrame(view, 0)];
    out.push(JSON.stringify({ error, fields: bytes.byteLength >= FRAME_SIZE ? decodeFrame(view, 0) : null }));
  } else if (req.encode !== undefined) {
    const view = new DataView(new ArrayBuffer(FRAME_SIZE));
    encodeFrame(view, 0, req.encode);
    out.push(JSON.stringify({ hex: Buffer.from(view.buffer).toString("hex") }));
  }
}
process.stdout.write(`${out.join("\n")}\n`);
