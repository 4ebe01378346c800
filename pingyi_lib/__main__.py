from pingyi_lib.cli import entry

entry()
