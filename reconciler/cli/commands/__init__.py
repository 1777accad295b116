"""One module per command; each exposes `run(...) -> int` taking plain values."""
