"""Stage 5, apply: running a plan's operations in phases, adopting after an ambiguous
create, converging and healing, and stopping cleanly on Ctrl-C or SIGTERM."""
