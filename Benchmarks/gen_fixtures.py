#!/usr/bin/env python3
"""Writes a .env file of N random secrets: SECRET_00001=<32..64 alphanumeric characters>, seeded for repeatability.

    gen_fixtures.py N ENV_FILE [MANIFEST]

With MANIFEST, also writes a coffer.yaml declaring the N secrets (one group, required in `development`), so that
`coffer check` has something to check.
"""
import random, string, sys

n, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(20240601 + n)
alphabet = string.ascii_letters + string.digits
with open(path, "w") as f:
    for i in range(1, n + 1):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(32, 64)))
        f.write(f"SECRET_{i:05d}={value}\n")
if len(sys.argv) > 3:
    with open(sys.argv[3], "w") as f:
        f.write("version: 1\nproject: bench\nenvironments: [development]\nsecrets:\n")
        for i in range(1, n + 1):
            f.write(f"  SECRET_{i:05d}: {{ required: true, min_length: 32 }}\n")
