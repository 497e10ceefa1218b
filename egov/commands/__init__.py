"""The `egov` commands, one module per command group; `cli.py` assembles them.

A command parses its options, calls one library function, and prints or writes what it
returns. What several commands share (console, options, the database session) is in
`egov.commands.common`; command modules import nothing else of each other.
"""
