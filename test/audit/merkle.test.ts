import { describe, expect, test } from "bun:test";
import { consistencyPath, EMPTY_ROOT, Frontier, fromHex, inclusionPath, leafHash, memoryReader, subtreeHash, toHex, verifyConsistency, verifyInclusion } from "../../src/audit/merkle.ts";
import { nodePosition, nodesFor } from "../../src/audit/tree-store.ts";

// RFC 6962 / 9162 reference vectors as used by transparency-dev/merkle (proof/verify_test.go)
// and Certificate Transparency: eight leaves, the root of every prefix, and known proofs.
const LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map(fromHex);
const ROOTS = [
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];
// {leaf (1-based, as in the reference), size, path}
const INCLUSION: Array<[number, number, string[]]> = [
  [1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]],
  [6, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]],
  [3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]],
  [2, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]],
];
const CONSISTENCY: Array<[number, number, string[]]> = [
  [1, 1, []],
  [1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]],
  [6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]],
  [2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]],
  [6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]],
];

const leafHashes = LEAVES.map(leafHash);
const read = memoryReader(leafHashes);

describe("merkle: RFC 9162 vectors", () => {
  test("merkle: empty root is SHA-256 of nothing and every prefix root matches", () => {
    expect(toHex(EMPTY_ROOT)).toBe(ROOTS[0] as string);
    for (let size = 0; size <= 8; size++) expect(toHex(subtreeHash(read, 0, size))).toBe(ROOTS[size] as string);
  });

  test("merkle: the frontier reaches the same roots one append at a time", () => {
    const frontier = new Frontier();
    expect(toHex(frontier.root())).toBe(ROOTS[0] as string);
    leafHashes.forEach((leaf, i) => {
      frontier.push(leaf);
      expect(toHex(frontier.root())).toBe(ROOTS[i + 1] as string);
    });
  });

  test("merkle: inclusion proofs equal the reference paths and verify", () => {
    for (const [leaf, size, path] of INCLUSION) {
      const proof = inclusionPath(read, leaf - 1, size);
      expect(proof.map(toHex)).toEqual(path);
      expect(verifyInclusion(leaf - 1, size, leafHashes[leaf - 1] as Uint8Array, proof, fromHex(ROOTS[size] as string))).toBe(true);
    }
  });

  test("merkle: consistency proofs equal the reference proofs and verify", () => {
    for (const [m, n, path] of CONSISTENCY) {
      const proof = consistencyPath(read, m, n);
      expect(proof.map(toHex)).toEqual(path);
      expect(verifyConsistency(m, n, proof, fromHex(ROOTS[m] as string), fromHex(ROOTS[n] as string))).toBe(true);
    }
  });

  test("merkle: corrupted proofs, wrong indexes and wrong roots are rejected", () => {
    const [leaf, size, path] = INCLUSION[1] as [number, number, string[]];
    const proof = path.map(fromHex);
    const root = fromHex(ROOTS[size] as string);
    const hash = leafHashes[leaf - 1] as Uint8Array;
    expect(verifyInclusion(leaf, size, hash, proof, root)).toBe(false);
    expect(verifyInclusion(leaf - 1, size * 2, hash, proof, root)).toBe(false);
    expect(verifyInclusion(leaf - 1, size, hash, proof.slice(0, -1), root)).toBe(false);
    expect(verifyInclusion(leaf - 1, size, hash, [...proof, root], root)).toBe(false);
    for (let i = 0; i < proof.length; i++) {
      const bad = proof.map((p) => new Uint8Array(p));
      const element = bad[i] as Uint8Array;
      element[0] = (element[0] as number) ^ 8;
      expect(verifyInclusion(leaf - 1, size, hash, bad, root)).toBe(false);
    }
    const [m, n, cpath] = CONSISTENCY[2] as [number, number, string[]];
    const cproof = cpath.map(fromHex);
    expect(verifyConsistency(m, n, cproof, fromHex(ROOTS[n] as string), fromHex(ROOTS[m] as string))).toBe(false);
    expect(verifyConsistency(m - 1, n, cproof, fromHex(ROOTS[m] as string), fromHex(ROOTS[n] as string))).toBe(false);
    expect(verifyConsistency(m, n, cproof.slice(1), fromHex(ROOTS[m] as string), fromHex(ROOTS[n] as string))).toBe(false);
  });
});

describe("merkle: every shape", () => {
  const many = Array.from({ length: 70 }, (_, i) => leafHash(new Uint8Array([i, i * 7 % 256])));
  const manyRead = memoryReader(many);

  test("merkle: every inclusion and consistency proof round-trips for sizes 1..70", () => {
    for (let size = 1; size <= many.length; size++) {
      const root = subtreeHash(manyRead, 0, size);
      for (let i = 0; i < size; i++) {
        expect(verifyInclusion(i, size, many[i] as Uint8Array, inclusionPath(manyRead, i, size), root)).toBe(true);
      }
      for (let m = 0; m <= size; m++) {
        expect(verifyConsistency(m, size, consistencyPath(manyRead, m, size), subtreeHash(manyRead, 0, m), root)).toBe(true);
      }
    }
  });

  test("merkle: post-order positions match the order the frontier emits nodes", () => {
    const frontier = new Frontier();
    const emitted: string[] = [];
    for (const leaf of many) emitted.push(...frontier.push(leaf).map(toHex));
    expect(emitted.length).toBe(nodesFor(many.length));
    for (let level = 0; 2 ** level <= many.length; level++) {
      for (let index = 0; (index + 1) * 2 ** level <= many.length; index++) {
        expect(emitted[nodePosition(level, index)]).toBe(toHex(manyRead(level, index)));
      }
    }
  });
});
