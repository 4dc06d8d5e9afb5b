"""Pure domain core: no Flask, no ORM; strings, dataclasses and dicts in, the same out."""
