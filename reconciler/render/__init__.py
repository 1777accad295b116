"""Stage 6, what people and machines read: plans, apply results and validation problems, in
every output format, from one registry per kind of output."""
