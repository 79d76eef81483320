// Stage: pure core. A keyed pseudo-random permutation of [0, n): the scan visits target × port pairs in an order
// that spreads load over networks, needs no memory per target, and is reproducible from its seed (so a resumed run
// continues the same order). A balanced Feistel network over the next even power of two, with cycle walking.

export class Permutation {
  private readonly halfBits: number;
  private readonly halfSize: number;
  private readonly keys: number[];

  constructor(
    readonly size: number,
    seed: number,
    private readonly rounds = 4,
  ) {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`permutation size ${size} is not a safe integer`);
    let b = 1;
    while (2 ** (2 * b) < size) b++;
    if (b > 26) throw new RangeError(`permutation size ${size} exceeds 2^52`);
    this.halfBits = b;
    this.halfSize = 2 ** b;
    this.keys = [];
    let s = seed >>> 0 || 0x9e3779b9;
    for (let i = 0; i < rounds; i++) {
      s = mix32(s + 0x9e3779b9 + i);
      this.keys.push(s);
    }
  }

  /** The i-th element of the permuted sequence (0 ≤ i < size). */
  at(i: number): number {
    let x = i;
    // Cycle walking: the Feistel domain is ≥ size, re-encrypt until the value falls inside [0, size).
    // Expected iterations < 4 because the domain is at most 4× larger than size.
    do x = this.encrypt(x);
    while (x >= this.size);
    return x;
  }

  private encrypt(x: number): number {
    let left = Math.floor(x / this.halfSize);
    let right = x % this.halfSize;
    const mask = this.halfSize - 1;
    for (let r = 0; r < this.rounds; r++) {
      const f = mix32(right ^ this.keys[r]!) & mask;
      const next = (left ^ f) & mask;
      left = right;
      right = next;
    }
    return left * this.halfSize + right;
  }
}

function mix32(v: number): number {
  let h = v >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}
