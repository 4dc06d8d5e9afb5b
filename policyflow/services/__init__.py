"""Use cases: each takes a Session and an Actor, checks permissions, flushes, never commits."""
