"""Stage 2, the desired state: the snapshot files found, parsed, checked and placed per
environment; the files at `--base REF`; `export` writes files from what exists remotely."""
