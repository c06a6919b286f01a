// Command go-verifier independently checks AegisClaw audit proofs (docs/audit-format.md)
// with transparency-dev/merkle and Go's crypto/ed25519: nothing from the AegisClaw code base.
//
//	go run . [-pubkey HEX] PROOF.json...
package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

type checkpoint struct {
	V         int    `json:"v"`
	TreeSize  uint64 `json:"treeSize"`
	RootHash  string `json:"rootHash"`
	Time      string `json:"time"`
	KeyID     string `json:"keyId"`
	Signature string `json:"signature"`
}

type document struct {
	Type          string      `json:"type"`
	LeafIndex     uint64      `json:"leafIndex"`
	TreeSize      uint64      `json:"treeSize"`
	Line          string      `json:"line"`
	LeafHash      string      `json:"leafHash"`
	RootHash      string      `json:"rootHash"`
	AuditPath     []string    `json:"auditPath"`
	OldSize       uint64      `json:"oldSize"`
	NewSize       uint64      `json:"newSize"`
	OldRoot       string      `json:"oldRoot"`
	NewRoot       string      `json:"newRoot"`
	Proof         []string    `json:"proof"`
	Checkpoint    checkpoint  `json:"checkpoint"`
	OldCheckpoint *checkpoint `json:"oldCheckpoint"`
	PublicKey     string      `json:"publicKey"`
}

func main() {
	pin := flag.String("pubkey", "", "trusted ed25519 public key (hex); defaults to the key inside the proof")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: go-verifier [-pubkey HEX] PROOF.json...")
		os.Exit(64)
	}
	failed := false
	for _, path := range flag.Args() {
		if err := verifyFile(path, *pin); err != nil {
			fmt.Printf("FAIL %s: %v\n", path, err)
			failed = true
		} else {
			fmt.Printf("OK %s\n", path)
		}
	}
	if failed {
		os.Exit(1)
	}
}

func verifyFile(path, pin string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc document
	if err := json.Unmarshal(raw, &doc); err != nil {
		return err
	}
	keyHex := doc.PublicKey
	if pin != "" {
		keyHex = pin
	}
	key, err := hex.DecodeString(keyHex)
	if err != nil || len(key) != ed25519.PublicKeySize {
		return fmt.Errorf("bad public key")
	}
	if err := verifyCheckpoint(doc.Checkpoint, key); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	switch doc.Type {
	case "aegisclaw.audit.inclusion.v1":
		leaf := rfc6962.DefaultHasher.HashLeaf([]byte(doc.Line))
		if hex.EncodeToString(leaf) != doc.LeafHash {
			return fmt.Errorf("leaf hash of the line is %x, proof says %s", leaf, doc.LeafHash)
		}
		if doc.TreeSize != doc.Checkpoint.TreeSize || doc.RootHash != doc.Checkpoint.RootHash {
			return fmt.Errorf("proof is not against its checkpoint")
		}
		return proof.VerifyInclusion(rfc6962.DefaultHasher, doc.LeafIndex, doc.TreeSize, leaf, decodeAll(doc.AuditPath), mustHex(doc.RootHash))
	case "aegisclaw.audit.consistency.v1":
		if doc.NewSize != doc.Checkpoint.TreeSize || doc.NewRoot != doc.Checkpoint.RootHash {
			return fmt.Errorf("proof is not against its checkpoint")
		}
		if doc.OldCheckpoint != nil {
			if err := verifyCheckpoint(*doc.OldCheckpoint, key); err != nil {
				return fmt.Errorf("old checkpoint: %w", err)
			}
			if doc.OldCheckpoint.TreeSize != doc.OldSize || doc.OldCheckpoint.RootHash != doc.OldRoot {
				return fmt.Errorf("old checkpoint does not match oldSize/oldRoot")
			}
		}
		return proof.VerifyConsistency(rfc6962.DefaultHasher, doc.OldSize, doc.NewSize, decodeAll(doc.Proof), mustHex(doc.OldRoot), mustHex(doc.NewRoot))
	default:
		return fmt.Errorf("unknown proof type %q", doc.Type)
	}
}

// verifyCheckpoint checks the ed25519 signature over the documented text form.
func verifyCheckpoint(c checkpoint, key ed25519.PublicKey) error {
	sum := sha256.Sum256(key)
	if c.KeyID != hex.EncodeToString(sum[:])[:16] {
		return fmt.Errorf("key id %s does not match the public key", c.KeyID)
	}
	msg := fmt.Sprintf("aegisclaw-audit-checkpoint v1\n%s\n%d\n%s\n%s\n", c.KeyID, c.TreeSize, c.RootHash, c.Time)
	sig, err := hex.DecodeString(c.Signature)
	if err != nil || !ed25519.Verify(key, []byte(msg), sig) {
		return fmt.Errorf("signature does not verify")
	}
	return nil
}

func decodeAll(list []string) [][]byte {
	out := make([][]byte, len(list))
	for i, h := range list {
		out[i] = mustHex(h)
	}
	return out
}

func mustHex(h string) []byte {
	b, err := hex.DecodeString(h)
	if err != nil {
		return []byte("invalid hex")
	}
	return b
}
