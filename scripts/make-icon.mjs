#!/usr/bin/env node
// Draws the app icon, resources/icon.png (512×512 RGBA): a sine wave over a row of position dots on a rounded dark
// square. electron-builder turns this one PNG into the .icns (dmg), .ico (NSIS) and the AppImage's icon.
//   node scripts/make-icon.mjs [out.png]
import { writeFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';

const SIZE = 512;

/** Coverage (0..1) of pixel (x, y) by each shape, antialiased by the distance to its edge. */
const smooth = (distance) => Math.min(1, Math.max(0, 0.5 - distance));
function roundedSquare(x, y, inset, radius) {
  const half = SIZE / 2 - inset;
  const dx = Math.max(Math.abs(x - SIZE / 2) - (half - radius), 0);
  const dy = Math.max(Math.abs(y - SIZE / 2) - (half - radius), 0);
  return smooth(Math.hypot(dx, dy) - radius);
}
const waveY = (x) => 236 + 96 * Math.sin(((x - 72) / 368) * 2 * Math.PI);
function wave(x, y) {
  if (x < 72 || x > 440) return 0;
  const slope = (waveY(x + 0.5) - waveY(x - 0.5)) || 1e-9;
  return smooth(Math.abs(y - waveY(x)) / Math.hypot(1, slope) - 14);
}
function dots(x, y) {
  let best = 0;
  for (let i = 0; i < 7; i++) best = Math.max(best, smooth(Math.hypot(x - (88 + i * 56), y - 408) - 17));
  return best;
}

const mix = (a, b, t) => a.map((v, i) => v + (b[i] - v) * t);
function pixel(x, y) {
  const background = mix([40, 44, 64], [24, 26, 36], y / SIZE);
  let colour = mix(background, [255, 196, 64], wave(x, y));
  colour = mix(colour, [120, 200, 255], dots(x, y));
  return [...colour.map(Math.round), Math.round(255 * roundedSquare(x, y, 16, 96))];
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const rows = Buffer.alloc(SIZE * (1 + SIZE * 4)); // each row: filter byte 0, then RGBA
for (let y = 0; y < SIZE; y++)
  for (let x = 0; x < SIZE; x++) rows.set(pixel(x + 0.5, y + 0.5), y * (1 + SIZE * 4) + 1 + x * 4);
const header = Buffer.alloc(13);
header.writeUInt32BE(SIZE, 0);
header.writeUInt32BE(SIZE, 4);
header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, no interlace
const png = Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
writeFileSync(process.argv[2] ?? new URL('../resources/icon.png', import.meta.url), png);
