/**
 * Min/max downsampling that keeps a chart's shape (every spike and dip) with a bounded number of points, built
 * incrementally: appending a point touches only the last bucket, and when there are too many buckets neighbours
 * merge pairwise (bucket size doubles). A live chart with 100k points per series redraws at most
 * 2·maxBuckets + 2 of them, and no update re-reads the whole history.
 */

export interface XY {
  x: number;
  y: number;
}

interface Bucket {
  min: XY;
  max: XY;
  count: number;
}

export class MinMaxDownsampler {
  private buckets: Bucket[] = [];
  private bucketSize = 1;
  private first: XY | null = null;
  private last: XY | null = null;
  private total = 0;

  /** maxBuckets: about the chart's width in pixels; the output has at most 2·maxBuckets + 2 points. */
  constructor(private readonly maxBuckets = 1000) {
    if (!(maxBuckets >= 2)) throw new Error(`maxBuckets must be at least 2, got ${maxBuckets}`);
  }

  get size(): number {
    return this.total;
  }

  /** Points must come in increasing x; non-finite y values are skipped. */
  push(x: number, y: number): void {
    if (!Number.isFinite(y) || !Number.isFinite(x)) return;
    const point = { x, y };
    this.first ??= point;
    this.last = point;
    this.total++;
    const open = this.buckets[this.buckets.length - 1];
    if (open && open.count < this.bucketSize) {
      if (y < open.min.y) open.min = point;
      if (y > open.max.y) open.max = point;
      open.count++;
    } else {
      this.buckets.push({ min: point, max: point, count: 1 });
      if (this.buckets.length > this.maxBuckets) this.mergePairs();
    }
  }

  pushAll(xs: ArrayLike<number>, ys: ArrayLike<number | null>): this {
    for (let i = 0; i < xs.length; i++) {
      const y = ys[i];
      if (y !== null) this.push(xs[i], y);
    }
    return this;
  }

  /** The kept points in x order: the first point, each bucket's min and max, and the last point. */
  points(): XY[] {
    const out: XY[] = [];
    const add = (p: XY): void => {
      if (out[out.length - 1] !== p) out.push(p);
    };
    if (this.first) add(this.first);
    for (const b of this.buckets) {
      const [a, c] = b.min.x <= b.max.x ? [b.min, b.max] : [b.max, b.min];
      add(a);
      add(c);
    }
    if (this.last) add(this.last);
    return out;
  }

  clear(): void {
    this.buckets = [];
    this.bucketSize = 1;
    this.first = null;
    this.last = null;
    this.total = 0;
  }

  private mergePairs(): void {
    const merged: Bucket[] = [];
    for (let i = 0; i < this.buckets.length; i += 2) {
      const a = this.buckets[i];
      const b = this.buckets[i + 1];
      if (!b) {
        merged.push(a);
        continue;
      }
      merged.push({ min: b.min.y < a.min.y ? b.min : a.min, max: b.max.y > a.max.y ? b.max : a.max, count: a.count + b.count });
    }
    this.buckets = merged;
    this.bucketSize *= 2;
  }
}

/** A static series reduced to at most 2·maxBuckets + 2 points (unchanged when it is already small). */
export function downsampleMinMax(xs: ArrayLike<number>, ys: ArrayLike<number | null>, maxBuckets = 1000): XY[] {
  return new MinMaxDownsampler(maxBuckets).pushAll(xs, ys).points();
}
