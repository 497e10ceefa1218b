"""The `egov` commands, one module per command group; `cli.py` lists them in a table and
`egov.commands.lazy` imports only the module of the command that is run.

A command parses its options, calls one library function, and prints or writes what it
returns. What several commands share is in `egov.commands.common` (consoles, options, the
language check), `egov.commands.consoles` (the consoles alone, for `cli.py`) and
`egov.commands.stored` (the database session, the ranking table); command modules import
nothing else of each other but the labels.
"""
