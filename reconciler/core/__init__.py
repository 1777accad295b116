"""The ground every stage stands on: value types, facts of the resource kind, the one error
type, exit codes, keys kept out of output, inert text, safe file access, YAML with positions
and the JSON Schemas. Imports nothing of the other stages."""
