"""Stage 1, settings: `reconciler.yaml`, the environment and the options, in that order of
precedence; environments (several orgs); and where keys may go (`sites`, the target policy)."""
