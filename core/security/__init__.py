"""Security kernel: password hashing and policy, TOTP, opaque tokens (no Flask, no database)."""
