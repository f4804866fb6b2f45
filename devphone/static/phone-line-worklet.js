// The microphone onto the phone line, as Twilio carries it: 8 kHz mono G.711 mu-law in 160-byte
// (20 ms) frames. Runs in the AudioWorklet thread. When the AudioContext already runs at 8 kHz (the
// page asks for that; the browser resamples) samples are only encoded; at any other rate they are
// low-pass filtered below 3.6 kHz and resampled here first.
"use strict";

const LINE_RATE = 8000;
const FRAME = 160;

// G.711 mu-law, the same segment rule as speech/twilio_media.py (and the G.711 reference code).
const ENDS = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
function mulaw(sample) {
  const s = sample >> 2;
  const mask = s < 0 ? 0x7F : 0xFF;
  const magnitude = Math.min(Math.abs(s), 8159) + 0x21;
  let segment = 0;
  while (segment < 8 && magnitude > ENDS[segment]) segment++;
  const value = segment >= 8 ? 0x7F : ((segment << 4) | ((magnitude >> (segment + 1)) & 0x0F));
  return (value ^ mask) & 0xFF;
}

function lowPass(rate, cutoff) {
  // A Blackman-windowed sinc, long enough for a ~1 kHz transition at this rate.
  const taps = Math.min(511, Math.max(15, Math.ceil(5.5 * rate / 1000) | 1));
  const h = new Float32Array(taps);
  const fc = cutoff / rate;
  const mid = (taps - 1) / 2;
  let sum = 0;
  for (let i = 0; i < taps; i++) {
    const n = i - mid;
    const sinc = n === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * n) / (Math.PI * n);
    const w = 0.42 - 0.5 * Math.cos(2 * Math.PI * i / (taps - 1)) + 0.08 * Math.cos(4 * Math.PI * i / (taps - 1));
    h[i] = sinc * w;
    sum += h[i];
  }
  for (let i = 0; i < taps; i++) h[i] /= sum;
  return h;
}

class PhoneLine extends AudioWorkletProcessor {
  constructor() {
    super();
    this.direct = Math.abs(sampleRate - LINE_RATE) < 1;
    this.step = sampleRate / LINE_RATE;
    this.taps = this.direct ? null : lowPass(sampleRate, 3600);
    this.size = this.direct ? 1 : this.taps.length + 2;
    this.ring = new Float32Array(this.size);
    this.seen = 0; // input samples so far
    this.next = 0; // input position of the next output sample
    this.frame = new Uint8Array(FRAME);
    this.filled = 0;
    this.energy = 0;
  }

  filtered(index) {
    // The low-passed input at sample `index` (still in the ring buffer).
    const h = this.taps;
    let acc = 0;
    for (let j = 0; j < h.length; j++) acc += h[j] * this.ring[(index - j + this.size * 4) % this.size];
    return acc;
  }

  emit(value) {
    const clipped = Math.max(-1, Math.min(1, value));
    this.energy += clipped * clipped;
    this.frame[this.filled++] = mulaw(Math.round(clipped * 32767));
    if (this.filled === FRAME) {
      const level = Math.sqrt(this.energy / FRAME);
      this.port.postMessage({ frame: this.frame.buffer, level }, [this.frame.buffer]);
      this.frame = new Uint8Array(FRAME);
      this.filled = 0;
      this.energy = 0;
    }
  }

  process(inputs, outputs) {
    const input = inputs[0];
    if (input && input.length) {
      const channels = input.length;
      const length = input[0].length;
      for (let i = 0; i < length; i++) {
        let x = 0;
        for (let c = 0; c < channels; c++) x += input[c][i];
        x /= channels;
        if (this.direct) {
          this.emit(x);
          continue;
        }
        this.ring[this.seen % this.size] = x;
        this.seen++;
        while (this.next + 1 <= this.seen - 1) {
          const at = Math.floor(this.next);
          const frac = this.next - at;
          this.emit(this.filtered(at) * (1 - frac) + this.filtered(at + 1) * frac);
          this.next += this.step;
        }
      }
    }
    for (const output of outputs) for (const channel of output) channel.fill(0); // nothing to hear
    return true;
  }
}

registerProcessor("phone-line", PhoneLine);
