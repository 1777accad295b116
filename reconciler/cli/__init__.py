"""The command line: click commands and options that call the stages with plain values and
turn the outcome into an exit code, in one place (`outcomes`)."""
