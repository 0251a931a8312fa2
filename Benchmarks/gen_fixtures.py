#!/usr/bin/env python3
"""Writes a .env file of N random secrets: SECRET_00001=<32..64 alphanumeric characters>, seeded for repeatability."""
import random, string, sys

n, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(20240601 + n)
alphabet = string.ascii_letters + string.digits
with open(path, "w") as f:
    for i in range(1, n + 1):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(32, 64)))
        f.write(f"SECRET_{i:05d}={value}\n")
