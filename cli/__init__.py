"""The `snout` command: argument parsing and terminal output for every sub-command (top layer)."""
