/**
 * Just enough protobuf reading to find the float32 initializers of an ONNX model in place
 * (ModelProto.graph = field 7, GraphProto.initializer = 5, TensorProto: dims = 1,
 * data_type = 2, name = 8, raw_data = 9). Used to make test variants of the fixture.
 */
interface Span {
  field: number;
  start: number;
  end: number;
  value?: number;
}

function varint(b: Uint8Array, p: number): [number, number] {
  let x = 0;
  let scale = 1;
  for (;;) {
    const c = b[p++]!;
    x += (c & 0x7f) * scale;
    scale *= 128;
    if (c < 0x80) return [x, p];
  }
}

function* fields(b: Uint8Array, start: number, end: number): Generator<Span> {
  let p = start;
  while (p < end) {
    const [key, afterKey] = varint(b, p);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    p = afterKey;
    if (wire === 0) {
      const [value, next] = varint(b, p);
      yield { field, start: p, end: next, value };
      p = next;
    } else if (wire === 2) {
      const [length, next] = varint(b, p);
      yield { field, start: next, end: next + length };
      p = next + length;
    } else if (wire === 5 || wire === 1) {
      const size = wire === 5 ? 4 : 8;
      yield { field, start: p, end: p + size };
      p += size;
    } else {
      throw new Error(`unsupported protobuf wire type ${wire}`);
    }
  }
}

export interface Initializer {
  name: string;
  dims: number[];
  /** Byte range of the float32 raw_data in the model buffer (undefined: not float32 raw data). */
  raw: { start: number; end: number } | undefined;
}

export function initializers(model: Uint8Array): Initializer[] {
  const out: Initializer[] = [];
  for (const m of fields(model, 0, model.length)) {
    if (m.field !== 7) continue;
    for (const g of fields(model, m.start, m.end)) {
      if (g.field !== 5) continue;
      const init: Initializer = { name: '', dims: [], raw: undefined };
      let float32 = false;
      for (const t of fields(model, g.start, g.end)) {
        if (t.field === 8) init.name = new TextDecoder().decode(model.subarray(t.start, t.end));
        if (t.field === 1) init.dims.push(t.value!);
        if (t.field === 2) float32 = t.value === 1;
        if (t.field === 9) init.raw = { start: t.start, end: t.end };
      }
      if (!float32) init.raw = undefined;
      out.push(init);
    }
  }
  return out;
}

/** Multiplies every value of a float32 initializer by `factor`, in place. */
export function scaleInitializer(model: Uint8Array, name: string, factor: number): void {
  const init = initializers(model).find((i) => i.name === name);
  if (!init?.raw) throw new Error(`no float32 raw-data initializer named ${name}`);
  const view = new DataView(model.buffer, model.byteOffset);
  for (let p = init.raw.start; p < init.raw.end; p += 4) view.setFloat32(p, view.getFloat32(p, true) * factor, true);
}
